"""``Throttles`` (API.md §9.2) over the in-process moving windows: no database, no HTTP."""

from __future__ import annotations

import time

import pytest

from resolvers import moving_windows
from resolvers.errors import Throttled
from resolvers.moving_windows import MovingWindowMemory
from resolvers.throttling import Throttles, retry_after


async def test_an_address_is_refused_once_it_failed_the_limit_within_the_window() -> None:
    throttles = Throttles(login_max_failures=3, login_window_seconds=300, refusal_delay=0)
    for n in range(1, 3):
        assert await throttles.login_refusal("10.0.0.1") is None
        assert await throttles.login_failed("10.0.0.1") is False, n
    assert await throttles.login_failed("10.0.0.1") is True  # the third reaches the limit
    refusal = await throttles.login_refusal("10.0.0.1")
    assert isinstance(refusal, Throttled)
    assert refusal.code == "TOO_MANY_REQUESTS"
    assert 299 <= refusal.retry_after <= 300  # until the oldest failure leaves the window
    assert await throttles.login_refusal("10.0.0.2") is None  # another address


async def test_failures_leave_the_window_and_the_address_may_try_again() -> None:
    throttles = Throttles(login_max_failures=2, login_window_seconds=1, refusal_delay=0)
    await throttles.login_failed("10.0.0.1")
    await throttles.login_failed("10.0.0.1")
    refusal = await throttles.login_refusal("10.0.0.1")
    assert refusal is not None and refusal.retry_after == 1
    time.sleep(1.05)
    assert await throttles.login_refusal("10.0.0.1") is None


async def test_more_than_the_poll_limit_for_one_device_is_refused_with_retry_after() -> None:
    throttles = Throttles(poll_limit=10)
    for _ in range(10):
        await throttles.admit_poll("SN-1")
    with pytest.raises(Throttled) as refused:
        await throttles.admit_poll("SN-1")
    assert 1 <= refused.value.retry_after <= 10
    assert "try again in" in refused.value.message
    await throttles.admit_poll("SN-2")  # per device id


async def test_poll_limit_zero_turns_the_limit_off() -> None:
    throttles = Throttles(poll_limit=0)
    for _ in range(100):
        await throttles.admit_poll("SN-1")


def test_retry_after_is_whole_seconds_and_never_zero() -> None:
    assert retry_after(100.2, 100.0) == 1
    assert retry_after(100.0, 100.0) == 1
    assert retry_after(104.5, 100.0) == 5


async def test_moving_window_counts_exactly_the_last_seconds_and_forgets_idle_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [1000.0]
    monkeypatch.setattr(moving_windows.time, "time", lambda: now[0])
    storage = MovingWindowMemory()
    assert [await storage.acquire_entry("k", 2, 10) for _ in range(3)] == [True, True, False]
    assert await storage.get_moving_window("k", 2, 10) == (1000.0, 2)
    now[0] = 1009.9
    assert await storage.acquire_entry("k", 2, 10) is False
    now[0] = 1010.0  # the first two hits leave the window: no burst at a boundary
    assert await storage.get_moving_window("k", 2, 10) == (1010.0, 0)
    assert await storage.acquire_entry("k", 2, 10) is True
    assert await storage.get_moving_window("k", 2, 10) == (1010.0, 1)

    await storage.acquire_entry("idle", 2, 10)
    now[0] = 1010.0 + moving_windows.SWEEP_EVERY_SECONDS + 11
    await storage.get_moving_window("other", 2, 10)  # a use after a minute sweeps
    assert "idle" not in storage._hits and "k" not in storage._hits


async def test_an_unreachable_redis_lets_requests_through_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    throttles = Throttles("redis://127.0.0.1:1/0", login_max_failures=1, poll_limit=1)
    for _ in range(3):
        assert await throttles.login_failed("10.0.0.1") is False
        assert await throttles.login_refusal("10.0.0.1") is None
        await throttles.admit_poll("SN-1")
    warnings = [r for r in caplog.records if r.name == "resolvers.throttling"]
    assert len(warnings) == 1  # once a minute at most
    assert "throttling is off" in warnings[0].getMessage()
