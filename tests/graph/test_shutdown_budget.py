"""How ``GATEHOUSE_SHUTDOWN_SECONDS`` is split, and a teardown that cannot overrun it (§9.5)."""

from __future__ import annotations

import asyncio
import time

import pytest

from graph.shutdown import ShutdownBudget, stop_within


@pytest.mark.parametrize(
    ("total", "drain", "teardown", "margin"),
    [(10, 6.5, 3.0, 0.5), (1, 0.65, 0.3, 0.05), (60, 56.5, 3.0, 0.5)],
)
def test_drain_teardown_and_exit_margin_add_up_to_the_limit(
    total: float, drain: float, teardown: float, margin: float
) -> None:
    budget = ShutdownBudget(total)
    assert (budget.drain, budget.teardown, budget.margin) == pytest.approx(
        (drain, teardown, margin)
    )
    assert budget.drain + budget.teardown + budget.margin == pytest.approx(total)


async def test_a_step_that_hangs_is_left_and_the_later_steps_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ran: list[str] = []

    async def hangs() -> None:
        ran.append("hangs")
        await asyncio.sleep(60)

    async def fails() -> None:
        ran.append("fails")
        raise RuntimeError("broker gone")

    async def quick() -> None:
        ran.append("quick")

    started = time.monotonic()
    await stop_within(0.3, ("deliverer", hangs), ("hub", fails), ("pool", quick))
    assert time.monotonic() - started < 1.0
    assert ran == ["hangs", "fails", "quick"]
    assert "stopping the deliverer took longer than the budget" in caplog.text
    assert "stopping the hub failed" in caplog.text
