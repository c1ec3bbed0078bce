"""``Authenticator``: verified logins, a short-lived cache, one argon2 run per concurrent login."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from resolvers import passwords
from resolvers.auth import Authenticator
from resolvers.permissions import MANAGEMENT_ADMIN_PERMISSIONS, Actor, Permission
from tests.kit.accounts import ADMIN_PASSWORD, BOOTSTRAP_PASSWORD


@pytest.fixture
def argon2_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts password verifications (the expensive argon2 step) by the password checked."""
    checked: list[str] = []
    verify: Callable[[str, str], bool] = passwords._verify

    def counting(password_hash: str, password: str) -> bool:
        checked.append(password)
        return verify(password_hash, password)

    monkeypatch.setattr(passwords, "_verify", counting)
    return checked


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
