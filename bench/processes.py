"""Starting real server processes on free 127.0.0.1 ports (shared by the benchmarks and tests)."""

from __future__ import annotations

import base64
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path

import httpx

GATEHOUSE = str(Path(sys.executable).with_name("gatehouse"))
STARTUP_SECONDS = 30
#: The CPUs server processes started from here run on (None: wherever the kernel puts them).
SERVER_CPUS: set[int] | None = None


def pin_servers() -> str:
    """Pin every server started from now on to the first CPU, and this process (the load
    generator, and the wrk and client processes it starts) to the others, as a user would
    deploy one worker per core. Returns a line saying what was pinned where."""
    global SERVER_CPUS
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return f"only {len(cpus)} CPU: servers and load share it (not pinned)"
    SERVER_CPUS = {cpus[0]}
    os.sched_setaffinity(0, set(cpus[1:]))
    return f"servers pinned to CPU {cpus[0]}; load generators to CPU {','.join(map(str, cpus[1:]))}"


def _pinned() -> None:
    if SERVER_CPUS is not None:
        os.sched_setaffinity(0, SERVER_CPUS)


def basic(login: str, password: str) -> str:
    """An HTTP Basic ``Authorization`` header value."""
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run_env(**extra: str) -> dict[str, str]:
    """This process's environment without any GATEHOUSE_ setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEHOUSE_")}
    env.update(extra)
    return env


class Server:
    """A running server process; its output is kept (the last ``keep`` lines, by default 200,
    for diagnosis; ``keep=None``: all of it)."""

    def __init__(
        self,
        process: subprocess.Popen[str],
        port: int,
        startup_line: str | None,
        keep: int | None = 200,
    ) -> None:
        self.process = process
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}/graphql"
        self.startup_line = startup_line
        self.started = threading.Event()
        self.banner = ""  # everything printed up to the startup line
        self.log: deque[str] = deque(maxlen=keep)
        self.reader: threading.Thread | None = None

    def keep_log(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if not self.started.is_set():
                self.banner += line
                if self.startup_line is not None and self.startup_line in line:
                    self.started.set()
            self.log.append(line)

    def output(self) -> str:
        """Everything kept of the output, once the process has exited and it was all read."""
        assert self.process.poll() is not None, "stop the server first"
        if self.reader is not None:
            self.reader.join(timeout=10)
        return "".join(self.log)

    def password_of(self, login: str) -> str:
        match = re.search(rf"Log in as {re.escape(login)} with password (\S+)", self.banner)
        assert match, self.banner
        return match.group(1)

    def rss_mib(self) -> float:
        """Resident memory of the process and its children (workers), in MiB."""
        total_kib = 0
        for pid in [self.process.pid, *_children(self.process.pid)]:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            match = re.search(r"VmRSS:\s+(\d+) kB", status)
            total_kib += int(match.group(1)) if match else 0
        return total_kib / 1024

    def stop(self) -> None:
        if self.process.poll() is not None:
            print(f"server on port {self.port} had exited:", *self.log, sep="\n")
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def start_process(
    command: list[str],
    cwd: Path,
    env: dict[str, str],
    port: int,
    startup_line: str | None = "Application startup complete",
    keep: int | None = 200,
) -> Server:
    """Run ``command``; return once it printed ``startup_line`` and answers ``/health``."""
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=_pinned if SERVER_CPUS is not None else None,
    )
    server = Server(process, port, startup_line, keep)
    # A thread drains the output (a full pipe would block the server) and keeps it.
    server.reader = threading.Thread(target=server.keep_log, daemon=True)
    server.reader.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    if startup_line is not None:
        server.started.wait(timeout=STARTUP_SECONDS)
    # uvicorn binds its socket only after the startup it reported.
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{server.url}/health", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("server did not start:\n" + "".join(server.log))


def start_server(
    cwd: Path,
    env: dict[str, str],
    *args: str,
    startup_line: str | None = "Application startup complete",
    keep: int | None = 200,
) -> Server:
    """``gatehouse serve`` on a free port (``startup_line=None``: wait for /health alone)."""
    port = free_port()
    command = [GATEHOUSE, "serve", "--port", str(port), *args]
    return start_process(command, cwd, env, port, startup_line, keep)
