"""Real third-party programs the tests start themselves (RabbitMQ, nginx), and the README's text.

A test that needs one calls :func:`unavailable` when it cannot run it: on a
laptop the test is skipped with the reason, under
``GATEHOUSE_TEST_REQUIRE_SERVICES=1`` (CI) it fails.
"""

from __future__ import annotations

import os
import re
import socket
import time
from pathlib import Path
from typing import NoReturn

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def unavailable(reason: str) -> NoReturn:
    """Skip (fail under ``GATEHOUSE_TEST_REQUIRE_SERVICES=1``) because ``reason``."""
    if os.environ.get("GATEHOUSE_TEST_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (GATEHOUSE_TEST_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def readme_block(first_line: str) -> str:
    """The README's fenced code block whose first line is ``first_line`` (or that holds it)."""
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", README.read_text(), re.MULTILINE | re.DOTALL)
    for block in blocks:
        if block.startswith(first_line) or first_line in block.splitlines():
            return str(block)
    raise AssertionError(f"README.md has no code block starting with {first_line!r}")


def replace_all(text: str, replacements: dict[str, str]) -> str:
    """``text`` with each key replaced; each key must occur (the README's shape is relied on)."""
    for old, new in replacements.items():
        assert old in text, f"{old!r} is no longer in the README's configuration"
        text = text.replace(old, new)
    return text


def wait_for_port(port: int, seconds: float, alive: object = None) -> bool:
    """Whether 127.0.0.1:``port`` accepts a connection within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(alive) and not alive():
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.2)
    return False
