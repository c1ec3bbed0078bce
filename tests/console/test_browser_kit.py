"""The browser tests never pass silently without a browser: they fail when CI needs one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.kit import console


async def test_a_missing_chromium_fails_under_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(console, "CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setenv("GATEHOUSE_TEST_REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match="chromium"):
        async with console.chromium():
            pass
    monkeypatch.delenv("GATEHOUSE_TEST_REQUIRE_SERVICES")
    with pytest.raises(pytest.skip.Exception, match="apt-get install -y chromium"):
        async with console.chromium():
            pass


async def test_a_chromium_that_cannot_start_fails_under_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    broken = tmp_path / "chromium"
    broken.write_text("#!/bin/sh\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setattr(console, "CHROMIUM", str(broken))
    monkeypatch.setenv("GATEHOUSE_TEST_REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match="Chromium did not start"):
        async with console.chromium():
            pass
