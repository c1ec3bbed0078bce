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

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

T = TypeVar("T")


async def check_examples(
    strategy: st.SearchStrategy[T],
    check: Callable[[T], Coroutine[Any, Any, Any]],
    *,
    max_examples: int,
    per_example_seconds: float = 30,
) -> None:
    """Run ``check`` on up to ``max_examples`` examples of ``strategy``; raise its failure."""
    loop = asyncio.get_running_loop()

    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        derandomize=False,
    )
    @given(strategy)
    def run(example: T) -> None:
        asyncio.run_coroutine_threadsafe(check(example), loop).result(per_example_seconds)

    await asyncio.to_thread(run)
