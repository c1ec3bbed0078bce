"""Failed logins throttled per client address (API.md §9.2), through the app.

An address that failed ``GATEHOUSE_LOGIN_MAX_FAILURES`` uncached logins within
the window is answered 429 with ``Retry-After``, in each surface's own style,
without a password being hashed; a login verified before keeps working from
anywhere, and other addresses are not affected. The two-process (Redis) and
websocket cases run against real servers in ``tests/test_throttling_servers.py``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest

from graph.settings import Settings, SettingsError
from tests.kit.accounts import ADMIN_LOGIN, ADMIN_PASSWORD, BOOTSTRAP_LOGIN, BOOTSTRAP_PASSWORD
from tests.kit.clients import app_clients, basic
from tests.kit.devices import CREDENTIALS_URL, poll
from tests.kit.documents import ME

LIMIT = 3
ATTACKER = "198.51.100.7"
OPERATOR = "198.51.100.8"


@pytest.fixture
def settings() -> Settings:
    return Settings(
        database_url="sqlite://:memory:", login_max_failures=LIMIT, login_refusal_delay_ms=0
    )


@pytest.fixture
async def clients(db: str, settings: Settings) -> AsyncIterator[list[httpx.AsyncClient]]:
    """An attacker's and an operator's client on one app, from two addresses."""
    async with app_clients(settings, ATTACKER, OPERATOR) as opened:
        yield opened


async def me(
    client: httpx.AsyncClient, password: str, login: str = ADMIN_LOGIN, **headers: str
) -> httpx.Response:
    return await client.post(
        "/graphql",
        json={"query": ME},
        headers={"Authorization": basic(login, password), **headers},
    )


async def fail(client: httpx.AsyncClient, times: int, **headers: str) -> None:
    for n in range(times):
        assert (await me(client, f"wrong-{n}", **headers)).status_code == 401


async def test_graphql_answers_429_with_retry_after_once_the_address_failed_the_limit(
    clients: list[httpx.AsyncClient], argon2_checks: list[str]
) -> None:
    attacker, _ = clients
    await fail(attacker, LIMIT)
    assert len(argon2_checks) == LIMIT
    for password in ("wrong-again", ADMIN_PASSWORD):  # uncached: even the right one waits
        refused = await me(attacker, password)
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 300
        assert "www-authenticate" not in refused.headers
        [error] = refused.json()["errors"]
        assert error["extensions"]["code"] == "TOO_MANY_REQUESTS"
        assert error["extensions"]["retryAfter"] == int(refused.headers["retry-after"])
        assert password not in refused.text
    assert len(argon2_checks) == LIMIT  # refused without hashing


async def test_no_password_is_hashed_for_a_throttled_address(
    clients: list[httpx.AsyncClient], argon2_checks: list[str]
) -> None:
    attacker, _ = clients
    await fail(attacker, LIMIT)
    for n in range(30):
        assert (await me(attacker, f"guess-{n}")).status_code == 429
        wrong_bootstrap = basic(BOOTSTRAP_LOGIN, f"guess-{n}")
        answer = await attacker.post(
            CREDENTIALS_URL, json={"id": "X"}, headers={"Authorization": wrong_bootstrap}
        )
        assert answer.status_code == 429
    assert len(argon2_checks) == LIMIT


async def test_the_device_endpoint_answers_a_cumulocity_429(
    clients: list[httpx.AsyncClient],
) -> None:
    attacker, _ = clients
    await fail(attacker, LIMIT)
    refused = await attacker.post(
        CREDENTIALS_URL,
        json={"id": "SN-1"},
        headers={"Authorization": basic(BOOTSTRAP_LOGIN, "a-guess")},
    )
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["error"] == "security/Too Many Requests"
    assert "try again in" in refused.json()["message"]


async def test_a_verified_login_keeps_working_from_the_throttled_address(
    clients: list[httpx.AsyncClient], argon2_checks: list[str]
) -> None:
    attacker, _ = clients
    assert (await poll(attacker, "SN-1")).status_code == 404  # verified and cached
    await fail(attacker, LIMIT)
    assert (await me(attacker, "one-more")).status_code == 429
    for _ in range(5):
        assert (await poll(attacker, "SN-1")).status_code == 404  # not 429
    assert argon2_checks == [BOOTSTRAP_PASSWORD] + [f"wrong-{n}" for n in range(LIMIT)]


async def test_another_address_is_not_affected(clients: list[httpx.AsyncClient]) -> None:
    attacker, operator = clients
    await fail(attacker, LIMIT)
    assert (await me(attacker, ADMIN_PASSWORD)).status_code == 429
    assert (await me(operator, ADMIN_PASSWORD)).status_code == 200
    await fail(operator, LIMIT - 1)  # its own count
    assert (await me(operator, "last-chance")).status_code == 401


async def test_x_forwarded_for_is_ignored_from_untrusted_peers(
    clients: list[httpx.AsyncClient],
) -> None:
    attacker, _ = clients
    for n in range(LIMIT):  # a new forged address each time: all count against the peer
        forged = {"X-Forwarded-For": f"203.0.113.{n}"}
        assert (await me(attacker, f"wrong-{n}", **forged)).status_code == 401
    refused = await me(attacker, ADMIN_PASSWORD, **{"X-Forwarded-For": "203.0.113.99"})
    assert refused.status_code == 429


async def test_x_forwarded_for_names_the_client_behind_a_trusted_proxy(db: str) -> None:
    proxied = Settings(
        database_url="sqlite://:memory:",
        login_max_failures=LIMIT,
        login_refusal_delay_ms=0,
        trusted_proxies="198.51.100.0/24",  # type: ignore[arg-type]
    )
    async with app_clients(proxied, ATTACKER) as (proxy,):
        behind = {"X-Forwarded-For": "203.0.113.5"}
        await fail(proxy, LIMIT, **behind)
        assert (await me(proxy, ADMIN_PASSWORD, **behind)).status_code == 429
        # Another client behind the same proxy is another address.
        other = {"X-Forwarded-For": "203.0.113.6"}
        assert (await me(proxy, ADMIN_PASSWORD, **other)).status_code == 200
        # A client cannot escape by prepending addresses: the proxy's own entry counts.
        spoofed = {"X-Forwarded-For": "192.0.2.1, 203.0.113.5"}
        assert (await me(proxy, "another-guess", **spoofed)).status_code == 429


async def test_a_refused_login_is_answered_after_the_refusal_pause(db: str) -> None:
    paused = Settings(
        database_url="sqlite://:memory:", login_max_failures=1, login_refusal_delay_ms=300
    )
    async with app_clients(paused, ATTACKER) as (attacker,):
        await fail(attacker, 1)
        started = time.monotonic()
        assert (await me(attacker, "again")).status_code == 429
        assert time.monotonic() - started >= 0.3


def test_the_limits_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEHOUSE_LOGIN_MAX_FAILURES", "25")
    monkeypatch.setenv("GATEHOUSE_LOGIN_WINDOW_SECONDS", "60")
    monkeypatch.setenv("GATEHOUSE_LOGIN_REFUSAL_DELAY_MS", "0")
    monkeypatch.setenv("GATEHOUSE_POLL_LIMIT", "0")
    settings = Settings.from_env()
    assert (settings.login_max_failures, settings.login_window_seconds) == (25, 60)
    assert (settings.login_refusal_delay_ms, settings.poll_limit) == (0, 0)
    assert Settings().login_max_failures == 10 and Settings().poll_limit == 10
    monkeypatch.setenv("GATEHOUSE_LOGIN_MAX_FAILURES", "0")
    with pytest.raises(SettingsError, match="GATEHOUSE_LOGIN_MAX_FAILURES"):
        Settings.from_env()
