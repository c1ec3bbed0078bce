"""``gatehouse serve --workers N``: uvicorn's supervisor, with metrics and a bounded stop.

:class:`Workers` is uvicorn's ``Multiprocess`` (which starts the workers,
replaces one that dies, restarts them all one by one on SIGHUP and passes
SIGTERM on) with three additions:

- **One metrics directory** (:func:`metrics_directory`): a fresh private
  directory in ``PROMETHEUS_MULTIPROC_DIR`` before the first worker starts, so
  that every worker's prometheus-client counts into it and a scrape of any worker
  adds them all up (``resolvers/metrics.py``); when a worker is gone, its gauges
  of live values (subscribers) are dropped, its counters kept; at exit the
  directory is removed. Directories left by a supervisor that was killed are
  removed at the next start.
- **It stops accepting at once**: on SIGTERM the supervisor closes its own copy
  of the listening socket before it signals the workers, which close theirs, so
  new connections are refused rather than left waiting in the backlog while the
  workers drain.
- **A bounded wait**: a worker that has not exited ``GATEHOUSE_SHUTDOWN_SECONDS``
  (and a second) after SIGTERM is killed, so the supervisor exits in time too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from socket import socket

from prometheus_client import multiprocess
from uvicorn.config import Config
from uvicorn.supervisors import Multiprocess

from resolvers.metrics import MULTIPROCESS_VARIABLE

log = logging.getLogger("gatehouse")

#: The metrics directories' names: ``gatehouse-metrics-<supervisor pid>-<random>``.
DIRECTORY_PREFIX = "gatehouse-metrics-"
#: How long past the shutdown budget a worker may take before it is killed.
KILL_AFTER_SECONDS = 1.0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def remove_stale_directories(parent: Path) -> None:
    """Remove this user's metrics directories whose supervisor no longer runs."""
    for path in parent.glob(f"{DIRECTORY_PREFIX}*"):
        pid = path.name.removeprefix(DIRECTORY_PREFIX).split("-", 1)[0]
        with contextlib.suppress(OSError):
            if pid.isdigit() and path.stat().st_uid == os.getuid() and not _alive(int(pid)):
                shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def metrics_directory() -> Iterator[Path]:
    """A fresh private ``PROMETHEUS_MULTIPROC_DIR`` for the workers started inside.

    It must be set before a worker imports prometheus-client: uvicorn starts
    workers as new interpreters (spawn), which inherit the environment as it is
    when they start. A value the supervisor inherited is replaced (and put back
    afterwards): two servers must never count into one directory.
    """
    parent = Path(tempfile.gettempdir())
    remove_stale_directories(parent)
    path = Path(tempfile.mkdtemp(prefix=f"{DIRECTORY_PREFIX}{os.getpid()}-", dir=parent))
    inherited = os.environ.get(MULTIPROCESS_VARIABLE)
    if inherited:
        log.info("%s=%s is replaced by this server's own", MULTIPROCESS_VARIABLE, inherited)
    os.environ[MULTIPROCESS_VARIABLE] = str(path)
    try:
        yield path
    finally:
        if inherited:
            os.environ[MULTIPROCESS_VARIABLE] = inherited
        else:
            os.environ.pop(MULTIPROCESS_VARIABLE, None)
        shutil.rmtree(path, ignore_errors=True)


class Workers(Multiprocess):
    """uvicorn's supervisor with the additions of the module docstring."""

    def __init__(
        self, config: Config, sockets: list[socket], *, metrics_dir: Path, stop_seconds: float
    ) -> None:
        super().__init__(config, sockets)
        self.metrics_dir = metrics_dir
        self.stop_seconds = stop_seconds

    def _pids(self) -> set[int]:
        return {p.pid for p in self.processes if p.pid is not None}

    def _gone(self, pids: set[int]) -> None:
        for pid in pids:
            multiprocess.mark_process_dead(pid, str(self.metrics_dir))

    def keep_subprocess_alive(self) -> None:
        before = self._pids()
        super().keep_subprocess_alive()
        self._gone(before - self._pids())

    def restart_all(self) -> None:
        before = self._pids()
        super().restart_all()
        self._gone(before - self._pids())

    def terminate_all(self) -> None:
        for sock in self.sockets:
            sock.close()
        super().terminate_all()

    def join_all(self) -> None:
        deadline = time.monotonic() + self.stop_seconds + KILL_AFTER_SECONDS
        for process in self.processes:
            process.process.join(max(deadline - time.monotonic(), 0))
            if process.process.is_alive():
                log.warning(
                    "worker %s did not stop within GATEHOUSE_SHUTDOWN_SECONDS; killing it",
                    process.pid,
                )
                process.kill()
                process.process.join()
        self._gone(self._pids())
