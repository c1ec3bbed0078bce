"""A private nginx (Debian's ``/usr/sbin/nginx``): own config, pid, logs, temp files and ports."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.kit.components import unavailable, wait_for_port

NGINX = Path("/usr/sbin/nginx")
STARTUP_SECONDS = 20
#: The service behind the gateway: it answers with the identity headers nginx passed on.
ECHO = (
    'return 200 "device=$http_x_device_id tenant=$http_x_tenant_id '
    'username=$http_x_username authorization=$http_authorization";'
)


class Nginx:
    """One nginx process, in the foreground, with ``locations`` in its server block."""

    def __init__(self, folder: Path, port: int, backend_port: int, locations: str) -> None:
        self.folder = folder
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        temp = "\n".join(
            f"    {kind}_temp_path {folder / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        self.config = folder / "nginx.conf"
        self.config.write_text(
            f"""daemon off;
master_process off;
worker_processes 1;
error_log {folder / "error.log"} info;
pid {folder / "nginx.pid"};
events {{ worker_connections 64; }}
http {{
    access_log {folder / "access.log"};
{temp}
    server {{
        listen 127.0.0.1:{port};
{locations}
    }}
    server {{
        listen 127.0.0.1:{backend_port};
        location / {{ {ECHO} }}
    }}
}}
"""
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if not NGINX.exists():
            unavailable(f"nginx is not installed ({NGINX}; apt-get install nginx)")
        self.process = subprocess.Popen(
            [
                str(NGINX),
                "-p",
                str(self.folder),
                "-e",
                str(self.folder / "error.log"),
                "-c",
                str(self.config),
            ],
            stdout=subprocess.DEVNULL,
            stderr=(self.folder / "stderr.log").open("w"),
        )
        if not wait_for_port(self.port, STARTUP_SECONDS, lambda: self.process.poll() is None):
            self.stop()
            log = (self.folder / "stderr.log").read_text() + (self.folder / "error.log").read_text()
            unavailable(f"the private nginx did not start:\n{log[-3000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
