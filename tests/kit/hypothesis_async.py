"""Running hypothesis examples against things that live on the test's event loop.

hypothesis drives plain functions; the app, its database and websocket clients
live on pytest-asyncio's loop. :func:`check_examples` runs hypothesis in a
worker thread and each example's coroutine on the loop, so shrinking and the
example database work as usual.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

T = TypeVar("T")


async def check_examples(
    strategy: st.SearchStrategy[T],
    check: Callable[[T], Coroutine[Any, Any, Any]],
    *,
    max_examples: int,
    per_example_seconds: float = 30,
    explicit: tuple[T, ...] = (),
) -> None:
    """Run ``check`` on ``explicit`` examples, then up to ``max_examples`` generated from
    ``strategy``; raise the first failure (shrunk)."""
    loop = asyncio.get_running_loop()

    def run(value: T) -> None:
        asyncio.run_coroutine_threadsafe(check(value), loop).result(per_example_seconds)

    for case in explicit:
        run = example(case)(run)
    run = given(strategy)(run)
    run = settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )(run)

    await asyncio.to_thread(run)
