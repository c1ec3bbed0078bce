"""``Authenticator``: verified logins, a short-lived cache renewed while in use, one argon2
run per concurrent login, and the login throttle per client address."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from models.tenants import User
from resolvers import auth, passwords
from resolvers.auth import Authenticator
from resolvers.errors import Throttled
from resolvers.permissions import MANAGEMENT_ADMIN_PERMISSIONS, Actor, Permission
from resolvers.throttling import Throttles
from tests.kit.accounts import ADMIN_PASSWORD, BOOTSTRAP_PASSWORD


async def test_correct_login_returns_the_actor(db: str) -> None:
    actor = await Authenticator(ttl=60).authenticate("management", "admin", ADMIN_PASSWORD)
    assert actor == Actor("management", "admin", MANAGEMENT_ADMIN_PERMISSIONS)


async def test_bootstrap_login_has_only_device_bootstrap(db: str) -> None:
    actor = await Authenticator(ttl=60).authenticate(
        "management", "devicebootstrap", BOOTSTRAP_PASSWORD
    )
    assert actor is not None
    assert actor.permissions == frozenset({Permission.DEVICE_BOOTSTRAP})


async def test_wrong_login_returns_none(db: str) -> None:
    authenticator = Authenticator(ttl=60)
    for tenant_id, username, password in [
        ("management", "admin", "wrong-password"),
        ("management", "admin", ""),
        ("management", "nobody", ADMIN_PASSWORD),
        ("nosuch", "admin", ADMIN_PASSWORD),
        ("management", "admin", "x" * 1025),
        ("management", "x" * 65, ADMIN_PASSWORD),
        ("x" * 33, "admin", ADMIN_PASSWORD),
    ]:
        actor = await authenticator.authenticate(tenant_id, username, password)
        assert actor is None, (tenant_id, username, password[:20])


async def test_unknown_user_costs_one_password_check_like_a_known_one(
    db: str, argon2_checks: list[str]
) -> None:
    # No shortcut for a missing user: it is verified against a dummy hash (no timing oracle).
    authenticator = Authenticator(ttl=60)
    assert await authenticator.authenticate("management", "nobody", "some-password") is None
    assert argon2_checks == ["some-password"]


async def test_concurrent_identical_logins_all_succeed_with_one_check(
    db: str, argon2_checks: list[str]
) -> None:
    authenticator = Authenticator(ttl=60)
    actors = await asyncio.gather(
        *(authenticator.authenticate("management", "admin", ADMIN_PASSWORD) for _ in range(20))
    )
    assert all(a is not None and a.name == "management/admin" for a in actors)
    assert argon2_checks == [ADMIN_PASSWORD]


async def test_concurrent_wrong_logins_all_fail(db: str) -> None:
    authenticator = Authenticator(ttl=60)
    results = await asyncio.gather(
        *(authenticator.authenticate("management", "admin", "wrong-password") for _ in range(20))
    )
    assert results == [None] * 20


async def test_cached_login_stays_valid_within_ttl_without_a_new_check(
    db: str, argon2_checks: list[str]
) -> None:
    authenticator = Authenticator(ttl=60)
    first = await authenticator.authenticate("management", "admin", ADMIN_PASSWORD)
    second = await authenticator.authenticate("management", "admin", ADMIN_PASSWORD)
    assert first is not None
    assert second == first
    assert argon2_checks == [ADMIN_PASSWORD]


async def test_cache_is_keyed_by_the_whole_login(db: str, argon2_checks: list[str]) -> None:
    authenticator = Authenticator(ttl=60)
    assert await authenticator.authenticate("management", "admin", ADMIN_PASSWORD) is not None
    # A cached login does not vouch for another password, user or tenant.
    assert await authenticator.authenticate("management", "admin", ADMIN_PASSWORD + "x") is None
    assert await authenticator.authenticate("other", "admin", ADMIN_PASSWORD) is None
    assert len(argon2_checks) == 3


async def test_failures_are_not_cached(db: str, argon2_checks: list[str]) -> None:
    authenticator = Authenticator(ttl=60)
    for _ in range(3):
        assert await authenticator.authenticate("management", "admin", "wrong-password") is None
    assert argon2_checks == ["wrong-password"] * 3


async def test_ttl_zero_disables_caching(db: str, argon2_checks: list[str]) -> None:
    authenticator = Authenticator(ttl=0)
    for _ in range(3):
        assert await authenticator.authenticate("management", "admin", ADMIN_PASSWORD) is not None
    assert argon2_checks == [ADMIN_PASSWORD] * 3


async def test_cached_login_expires_after_ttl(db: str, argon2_checks: list[str]) -> None:
    authenticator = Authenticator(ttl=0.05)
    assert await authenticator.authenticate("management", "admin", ADMIN_PASSWORD) is not None
    await asyncio.sleep(0.1)
    assert await authenticator.authenticate("management", "admin", ADMIN_PASSWORD) is not None
    assert argon2_checks == [ADMIN_PASSWORD] * 2


async def test_clear_forgets_cached_logins(db: str, argon2_checks: list[str]) -> None:
    authenticator = Authenticator(ttl=60)
    await authenticator.authenticate("management", "admin", ADMIN_PASSWORD)
    authenticator.clear()
    await authenticator.authenticate("management", "admin", ADMIN_PASSWORD)
    assert len(argon2_checks) == 2


async def test_cache_holds_at_most_max_entries(db: str, argon2_checks: list[str]) -> None:
    authenticator = Authenticator(ttl=60, max_entries=1)
    await authenticator.authenticate("management", "admin", ADMIN_PASSWORD)
    await authenticator.authenticate("management", "devicebootstrap", BOOTSTRAP_PASSWORD)
    # The admin's entry was evicted to make room: it is checked again.
    await authenticator.authenticate("management", "admin", ADMIN_PASSWORD)
    assert argon2_checks == [ADMIN_PASSWORD, BOOTSTRAP_PASSWORD, ADMIN_PASSWORD]


# ---------------------------------------------------------------- throttling (API.md §9.2)


def throttled_authenticator(max_failures: int = 3, ttl: float = 60) -> Authenticator:
    throttles = Throttles(login_max_failures=max_failures, refusal_delay=0)
    return Authenticator(ttl=ttl, throttles=throttles)


async def test_an_address_that_failed_the_limit_is_refused_without_hashing(
    db: str, argon2_checks: list[str]
) -> None:
    authenticator = throttled_authenticator(max_failures=3)
    for n in range(3):
        assert (
            await authenticator.authenticate(
                "management", "admin", f"wrong-{n}", client_address="10.0.0.9"
            )
            is None
        )
    assert len(argon2_checks) == 3
    for password in ("wrong-again", ADMIN_PASSWORD):  # even the right one, uncached
        with pytest.raises(Throttled) as refused:
            await authenticator.authenticate(
                "management", "admin", password, client_address="10.0.0.9"
            )
        assert refused.value.retry_after > 0
    assert len(argon2_checks) == 3  # nothing more was hashed
    # Another address, and an in-process caller with no address, are not affected.
    assert (
        await authenticator.authenticate(
            "management", "admin", ADMIN_PASSWORD, client_address="10.0.0.10"
        )
        is not None
    )
    assert await authenticator.authenticate("management", "admin", "wrong") is None


async def test_a_cached_login_works_from_a_throttled_address(
    db: str, argon2_checks: list[str]
) -> None:
    authenticator = throttled_authenticator(max_failures=2)
    address = "10.0.0.9"
    login = ("management", "devicebootstrap", BOOTSTRAP_PASSWORD)
    assert await authenticator.authenticate(*login, client_address=address) is not None
    for n in range(2):
        await authenticator.authenticate(
            "management", "admin", f"wrong-{n}", client_address=address
        )
    with pytest.raises(Throttled):
        await authenticator.authenticate("management", "admin", "wrong", client_address=address)
    for _ in range(5):
        assert await authenticator.authenticate(*login, client_address=address) is not None
    assert argon2_checks == [BOOTSTRAP_PASSWORD, "wrong-0", "wrong-1"]


async def test_concurrent_wrong_logins_hash_no_more_than_the_limit_and_one_per_slot(
    db: str, argon2_checks: list[str]
) -> None:
    # Attempts that queued for a hashing slot before the limit was reached are refused
    # when their turn comes, not hashed.
    authenticator = throttled_authenticator(max_failures=3)
    outcomes = await asyncio.gather(
        *(
            authenticator.authenticate(
                "management", "admin", f"guess-{n}", client_address="10.0.0.9"
            )
            for n in range(40)
        ),
        return_exceptions=True,
    )
    refused = [o for o in outcomes if isinstance(o, Throttled)]
    assert len(refused) + outcomes.count(None) == 40
    assert len(argon2_checks) == outcomes.count(None)
    assert 3 <= len(argon2_checks) <= 3 + passwords.HASH_CONCURRENCY


# ---------------------------------------------------------------- refresh ahead (§9.6)


async def until(condition: Callable[[], bool], timeout: float = 1.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.005)


async def test_a_login_in_use_is_renewed_in_the_background_before_it_expires(
    db: str, argon2_checks: list[str]
) -> None:
    authenticator = Authenticator(ttl=1.0)
    login = ("management", "devicebootstrap", BOOTSTRAP_PASSWORD)
    first = time.monotonic()
    assert await authenticator.authenticate(*login) is not None
    await asyncio.sleep(0.55)  # past half of its lifetime: the next use renews it
    assert await authenticator.authenticate(*login) is not None
    assert argon2_checks == [BOOTSTRAP_PASSWORD]  # answered from the cache, renewal pending
    await until(lambda: len(argon2_checks) == 2, timeout=0.4)  # renewed in the background
    await asyncio.sleep(max(0.0, first + 1.05 - time.monotonic()))  # the first entry expired
    started = time.monotonic()
    assert await authenticator.authenticate(*login) is not None
    assert time.monotonic() - started < 0.05  # from the renewed entry, no check
    assert argon2_checks == [BOOTSTRAP_PASSWORD] * 2


async def test_a_renewal_that_finds_the_password_changed_forgets_the_login(
    db: str, argon2_checks: list[str]
) -> None:
    authenticator = Authenticator(ttl=0.4)
    login = ("management", "admin", ADMIN_PASSWORD)
    assert await authenticator.authenticate(*login) is not None
    await User.filter(tenant_id="management", username="admin").update(
        password_hash=await passwords.hash_password("a-new-password")
    )
    await asyncio.sleep(0.25)
    assert await authenticator.authenticate(*login) is not None  # still cached: renews
    await asyncio.sleep(0.1)
    assert await authenticator.authenticate(*login) is None  # the renewal dropped it


async def test_an_expired_login_waits_for_its_renewal_instead_of_checking_again(
    db: str, argon2_checks: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    authenticator = Authenticator(ttl=0.2)
    login = ("management", "devicebootstrap", BOOTSTRAP_PASSWORD)
    assert await authenticator.authenticate(*login) is not None
    gate = asyncio.Event()
    verify = passwords.verify_password

    async def held_verify(*args: Any, **kwargs: Any) -> bool:
        await gate.wait()
        return await verify(*args, **kwargs)

    monkeypatch.setattr(auth, "verify_password", held_verify)
    await asyncio.sleep(0.12)
    assert await authenticator.authenticate(*login) is not None  # starts the held renewal
    await asyncio.sleep(0.1)  # the entry has expired; its renewal is still running
    waiting = asyncio.create_task(authenticator.authenticate(*login))
    await asyncio.sleep(0.02)
    gate.set()
    assert await waiting is not None
    assert argon2_checks == [BOOTSTRAP_PASSWORD] * 2  # the first check and the one renewal


async def test_concurrent_checks_of_one_login_through_a_slow_throttle_all_answer(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With Redis, asking the throttle takes a round trip: checks of the same login that
    # arrive meanwhile must still share one run and all answer (no lost or doubled entry).
    throttles = Throttles()
    asked = throttles.login_refusal

    async def slow(client_address: str) -> Throttled | None:
        await asyncio.sleep(0.01)
        return await asked(client_address)

    monkeypatch.setattr(throttles, "login_refusal", slow)
    authenticator = Authenticator(ttl=0, throttles=throttles)
    results = await asyncio.gather(
        *(
            authenticator.authenticate(
                "management", "admin", ADMIN_PASSWORD, client_address="127.0.0.1"
            )
            for _ in range(20)
        )
    )
    assert all(r is not None and r.username == "admin" for r in results)


async def test_forget_drops_every_cached_check_of_that_login_only(
    db: str, argon2_checks: list[str]
) -> None:
    authenticator = Authenticator(ttl=60)
    await authenticator.authenticate("management", "admin", ADMIN_PASSWORD)
    await authenticator.authenticate("management", "devicebootstrap", BOOTSTRAP_PASSWORD)
    authenticator.forget("management/admin")
    before = len(argon2_checks)
    await authenticator.authenticate("management", "admin", ADMIN_PASSWORD)
    await authenticator.authenticate("management", "devicebootstrap", BOOTSTRAP_PASSWORD)
    assert argon2_checks[before:] == [ADMIN_PASSWORD]  # only the forgotten one is checked again
