"""How ``GATEHOUSE_SHUTDOWN_SECONDS`` is spent after SIGTERM (API.md §9.5).

uvicorn stops in two steps, one after the other: it closes the listening
sockets, closes every websocket with 1012 and waits for the requests in flight
(``timeout_graceful_shutdown``, after which it cancels what still runs); then
it runs the app's lifespan shutdown, which uvicorn does not bound at all. The
budget is split so that both together, and the process's exit, fit in the
total: the app's teardown (the webhook deliverer, the event hub, the database
pool) gets up to 30 % of it and at most 3 s, a margin of 5 % (at most 0.5 s)
is kept for the process to exit, and the requests in flight get the rest
(6.5 s of the default 10).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger("gatehouse")

#: The default of ``GATEHOUSE_SHUTDOWN_SECONDS``.
DEFAULT_SECONDS = 10.0


@dataclass(frozen=True)
class ShutdownBudget:
    """The split of ``total`` seconds between draining requests and tearing the app down."""

    total: float = DEFAULT_SECONDS

    @property
    def teardown(self) -> float:
        """The longest the app's lifespan shutdown may take."""
        return min(3.0, self.total * 0.3)

    @property
    def margin(self) -> float:
        """Kept for the process to exit after the teardown."""
        return min(0.5, self.total * 0.05)

    @property
    def drain(self) -> float:
        """How long requests in flight may take to finish (uvicorn's graceful timeout)."""
        return max(self.total - self.teardown - self.margin, 0.1)


Step = tuple[str, Callable[[], Awaitable[object]]]


async def stop_within(seconds: float, *steps: Step) -> None:
    """Run each ``(name, stop)`` in order, all of them within ``seconds``.

    A step still running at the deadline is cancelled with a warning naming it
    (what it held ends with the process: claims expire, connections close), and
    a step that fails is logged; neither keeps the later steps from running.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    for name, stop in steps:
        left = max(deadline - loop.time(), 0.05)
        try:
            await asyncio.wait_for(stop(), left)
        except TimeoutError:
            log.warning("shutdown: stopping the %s took longer than the budget; left it", name)
        except Exception as error:
            log.warning("shutdown: stopping the %s failed: %r", name, error)
