"""The bound on hashes computed at once (API.md §9.2): ``HashSlots`` and its use for argon2."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from resolvers import passwords
from resolvers.passwords import HASH_CONCURRENCY, HashSlots


async def test_at_most_size_holders_and_the_others_wait_in_order() -> None:
    slots = HashSlots(2)
    order: list[int] = []
    holding = 0
    most = 0

    async def hold(n: int) -> None:
        nonlocal holding, most
        async with slots.slot():
            holding += 1
            most = max(most, holding)
            order.append(n)
            await asyncio.sleep(0.01)
            holding -= 1

    await asyncio.gather(*(hold(n) for n in range(8)))
    assert most == 2
    assert order == list(range(8))
    assert slots.busy == 0 and slots.queued == 0


async def test_urgent_waiters_go_before_every_waiting_one() -> None:
    slots = HashSlots(1)
    order: list[str] = []
    release = asyncio.Event()

    async def first() -> None:
        async with slots.slot():
            await release.wait()

    async def waiter(name: str, urgent: bool) -> None:
        async with slots.slot(urgent=urgent):
            order.append(name)

    holder = asyncio.create_task(first())
    await asyncio.sleep(0)
    waiting = [asyncio.create_task(waiter(f"attempt-{n}", False)) for n in range(3)]
    await asyncio.sleep(0)
    renewal = asyncio.create_task(waiter("renewal", True))
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(holder, renewal, *waiting)
    assert order == ["renewal", "attempt-0", "attempt-1", "attempt-2"]


async def test_a_cancelled_waiter_loses_no_slot() -> None:
    slots = HashSlots(1)
    release = asyncio.Event()

    async def hold() -> None:
        async with slots.slot():
            await release.wait()

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0)
    cancelled = asyncio.create_task(hold())
    await asyncio.sleep(0)
    cancelled.cancel()
    release.set()
    await holder
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert slots.busy == 0 and slots.queued == 0
    async with slots.slot():  # still usable
        assert slots.busy == 1


async def test_password_checks_never_run_more_than_one_per_core_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    running = 0
    most = 0
    lock = threading.Lock()

    def slow_verify(password_hash: str, password: str) -> bool:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        return False

    monkeypatch.setattr(passwords, "_verify", slow_verify)
    results = await asyncio.gather(
        *(passwords.verify_password(None, f"guess-{n}") for n in range(4 * HASH_CONCURRENCY + 1))
    )
    assert results == [False] * (4 * HASH_CONCURRENCY + 1)
    assert most == HASH_CONCURRENCY


async def test_admission_refused_after_waiting_gives_the_slot_up_unhashed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hashed: list[str] = []

    def counting(password_hash: str, password: str) -> bool:
        hashed.append(password)
        return False

    monkeypatch.setattr(passwords, "_verify", counting)

    async def refuse() -> None:
        raise PermissionError("throttled meanwhile")

    with pytest.raises(PermissionError):
        await passwords.verify_password(None, "refused", admit=refuse)
    assert await passwords.verify_password(None, "admitted") is False
    assert hashed == ["admitted"]
