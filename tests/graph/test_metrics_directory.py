"""The private ``PROMETHEUS_MULTIPROC_DIR`` of ``gatehouse serve --workers N`` (API.md §9.4)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from graph import workers
from resolvers.metrics import MULTIPROCESS_VARIABLE


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_fresh_private_directory_for_the_workers_removed_at_exit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workers.tempfile, "gettempdir", lambda: str(tmp_path))
    monkeypatch.setenv(MULTIPROCESS_VARIABLE, "/somewhere/else")
    with workers.metrics_directory() as directory:
        assert os.environ[MULTIPROCESS_VARIABLE] == str(directory)
        assert directory.parent == tmp_path and not list(directory.iterdir())
        assert directory.stat().st_mode & 0o777 == 0o700
        (directory / "counter_1.db").write_bytes(b"")
    assert not directory.exists()
    assert os.environ[MULTIPROCESS_VARIABLE] == "/somewhere/else"


def test_directories_of_supervisors_that_no_longer_run_are_removed(tmp_path: Path) -> None:
    stale = tmp_path / f"{workers.DIRECTORY_PREFIX}{dead_pid()}-abc"
    running = tmp_path / f"{workers.DIRECTORY_PREFIX}{os.getpid()}-def"
    unrelated = tmp_path / "gatehouse-metrics-notes"
    for path in (stale, running, unrelated):
        path.mkdir()
        (path / "counter_7.db").write_bytes(b"")
    workers.remove_stale_directories(tmp_path)
    assert not stale.exists()
    assert running.exists() and unrelated.exists()
