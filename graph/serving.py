"""Running the app under uvicorn with the edge limits, in one process or several.

``gatehouse serve`` calls :func:`serve`. It is ``uvicorn.run`` with
:class:`~graph.http.connections.GatehouseConfig`, so that one worker and
``--workers N`` (each worker a process building its app from the environment)
use the same protocol and limits. One process counts its metrics in memory;
several share a directory (``graph/workers.py``).
"""

from __future__ import annotations

import logging
import resource

import uvicorn
from uvicorn.supervisors import ChangeReload

from graph.http.connections import EdgeLimits, GatehouseConfig
from graph.settings import Settings
from graph.shutdown import ShutdownBudget
from graph.workers import Workers, metrics_directory

log = logging.getLogger("gatehouse")

#: File descriptors kept beside the connections: database pool, broker, log files, imports.
SPARE_DESCRIPTORS = 256


def descriptors_for(connections: int) -> int:
    """Raise this process's open-file limit towards what ``connections`` need; the cap the
    limit then allows (``connections`` itself when the hard limit is high enough)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + SPARE_DESCRIPTORS
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return connections
    allowed = max(1, soft - SPARE_DESCRIPTORS)
    log.warning(
        "GATEHOUSE_MAX_CONNECTIONS is %d but this process may open only %d files; "
        "serving at most %d connections (raise the limit with ulimit -n)",
        connections,
        soft,
        allowed,
    )
    return allowed


def edge_limits(settings: Settings) -> EdgeLimits:
    return EdgeLimits(
        header_timeout=settings.header_timeout_seconds,
        max_header_bytes=settings.max_header_bytes,
        max_headers=settings.max_headers,
        max_connections=descriptors_for(settings.max_connections),
    )


def serve(settings: Settings, *, host: str, port: int, workers: int, reload: bool) -> None:
    """Serve until stopped (a signal), like ``uvicorn.run``.

    SIGTERM stops within ``GATEHOUSE_SHUTDOWN_SECONDS`` (``graph/shutdown.py``);
    with ``--workers N`` the metrics of every worker add up (``graph/workers.py``).
    """
    several = workers > 1 or reload
    if several:
        # Each worker builds its own app from the same environment.
        app: object = "graph.app:app_from_env"
    else:
        from graph.app import create_app

        app = create_app(settings)
    config = GatehouseConfig(
        app,
        edge_limits=edge_limits(settings),
        factory=several,
        workers=workers if several and not reload else None,
        reload=reload,
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        log_config=None,  # graph/logs.py configured logging (and does so in each worker)
        ws_max_size=settings.max_websocket_message_bytes,
        # Events are small JSON messages: compressing each one for each subscriber
        # costs more CPU than the bytes it saves on the wire.
        ws_per_message_deflate=False,
        # Requests in flight get this long after SIGTERM; the app's teardown the rest.
        timeout_graceful_shutdown=ShutdownBudget(settings.shutdown_seconds).drain,
    )
    server = uvicorn.Server(config)
    if config.should_reload:
        ChangeReload(config, target=server.run, sockets=[config.bind_socket()]).run()
    elif config.workers > 1:
        with metrics_directory() as directory:
            log.info("metrics of the %d workers are kept in %s", config.workers, directory)
            Workers(
                config,
                sockets=[config.bind_socket()],
                metrics_dir=directory,
                stop_seconds=settings.shutdown_seconds,
            ).run()
    else:
        server.run()
