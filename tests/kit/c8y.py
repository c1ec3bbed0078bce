"""The real Cumulocity clients the tests run against a Gatehouse server process.

``@c8y/client`` is installed from the npm registry into ``tests/clients/c8y``
(``npm ci``, pinned by its ``package-lock.json``; ``.ci/run`` does it) and run
by Node.js; ``c8y-api`` comes from PyPI with the ``test`` extra. Where Node.js
or the package is missing a test skips with what to install, and fails
instead under ``GATEHOUSE_TEST_REQUIRE_SERVICES=1`` (CI).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.kit.accounts import ADMIN_PASSWORD, BOOTSTRAP_PASSWORD
from tests.kit.servers import Server, run_env, start_server

#: Where ``npm ci`` installs ``@c8y/client`` and where its scenario script lives.
NODE_CLIENT_DIR = Path(__file__).resolve().parents[1] / "clients" / "c8y"
NODE_SECONDS = 120


def _missing(what: str) -> None:
    message = f"{what}; install it with: npm ci --prefix {NODE_CLIENT_DIR}"
    if os.environ.get("GATEHOUSE_TEST_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message} (GATEHOUSE_TEST_REQUIRE_SERVICES=1)")
    pytest.skip(message)


def node() -> str:
    """The Node.js executable with ``@c8y/client`` installed beside the scenario."""
    found = shutil.which("node")
    if found is None:
        _missing("Node.js (node) is not installed")
        raise AssertionError("unreachable")
    if not (NODE_CLIENT_DIR / "node_modules" / "@c8y" / "client" / "package.json").exists():
        _missing("@c8y/client is not installed")
    return found


def run_node_scenario(script: str, env: dict[str, str]) -> dict[str, Any]:
    """Run a script of ``tests/clients/c8y`` with Node.js; the JSON it prints."""
    done = subprocess.run(
        [node(), script],
        cwd=NODE_CLIENT_DIR,
        env=run_env(**env),
        capture_output=True,
        text=True,
        timeout=NODE_SECONDS,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@contextmanager
def gatehouse(cwd: Path) -> Iterator[Server]:
    """A ``gatehouse serve`` process on a SQLite file in ``cwd``, with the kit's passwords."""
    server = start_server(
        cwd,
        run_env(
            GATEHOUSE_ADMIN_PASSWORD=ADMIN_PASSWORD,
            GATEHOUSE_BOOTSTRAP_PASSWORD=BOOTSTRAP_PASSWORD,
        ),
    )
    try:
        yield server
    finally:
        server.stop()
