"""The broker callbacks' benchmark: checks per second beside a raw-driver baseline.

Two Gatehouse callbacks, each under wrk against a pool of devices with valid
credentials: RabbitMQ's ``user`` check (a login: the password against its
digest) and EMQX's ``authorize`` for a topic in the device's namespace. The
baseline (``bench/baseline.py``'s ``POST /check``) is a bare Starlette endpoint
that runs the same indexed SELECT of the device's digest with asyncpg and
compares SHA-256 digests, on every request.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlencode

import httpx

from bench.processes import Server
from bench.scenarios import POLL_CONNECTIONS, POLL_SECONDS, Row, register_devices

DEVICES = 200
TARGET = 0.7
ACCEPT_ALL = "mutation { acceptAll { accepted { id } } }"


async def devices_with_credentials(
    server: Server, admin: str, bootstrap: str
) -> list[tuple[str, str]]:
    """``DEVICES`` registered, accepted and bootstrapped devices: (device id, password)."""
    ids = [f"cb-{n:04}" for n in range(DEVICES)]
    poll_url = f"{server.url}/devicecontrol/deviceCredentials"
    headers = {"Authorization": bootstrap}
    async with httpx.AsyncClient(timeout=60) as http:
        await register_devices(http, server, admin, ids)
        for device_id in ids:
            await http.post(poll_url, json={"id": device_id}, headers=headers)
        body = await http.post(
            f"{server.url}/graphql", json={"query": ACCEPT_ALL}, headers={"Authorization": admin}
        )
        assert len(body.json()["data"]["acceptAll"]["accepted"]) == DEVICES
        found = []
        for device_id in ids:
            answer = await http.post(poll_url, json={"id": device_id}, headers=headers)
            assert answer.status_code == 201, answer.text
            found.append((device_id, answer.json()["password"]))
    return found


def _script(path: str, content_type: str, bodies: list[str]) -> str:
    quoted = ",\n".join(json.dumps(b) for b in bodies)
    return (
        'wrk.method = "POST"\n'
        f'wrk.headers["Content-Type"] = "{content_type}"\n'
        f"local bodies = {{\n{quoted}\n}}\n"
        "local n = 0\n"
        "request = function()\n"
        "  n = n + 1\n"
        f'  return wrk.format(nil, "{path}", nil, bodies[(n % #bodies) + 1])\n'
        "end\n"
    )


def checks_per_second(wrk: str, url: str, path: str, content_type: str, bodies: list[str]) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_script(path, content_type, bodies))
    output = subprocess.run(
        [wrk, "-t1", f"-c{POLL_CONNECTIONS}", f"-d{POLL_SECONDS}s", "-s", script.name, url],
        capture_output=True,
        text=True,
        check=True,
        timeout=POLL_SECONDS + 30,
    ).stdout
    Path(script.name).unlink()
    if "Non-2xx" in output:
        raise RuntimeError(f"callbacks answered other than 200:\n{output}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if not match:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    return float(match.group(1))


async def _expect(url: str, content_type: str, body: str, answer: str) -> None:
    """One request of each kind first, so a wrong body fails loudly rather than fast."""
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(url, content=body, headers={"Content-Type": content_type})
        assert answer in response.text, (url, response.status_code, response.text)


async def run(
    wrk: str,
    server: Server,
    uncached: Server,
    baseline: Server,
    admin: str,
    bootstrap: str,
) -> list[Row]:
    """``uncached`` is a second Gatehouse on the same database with its device cache off."""
    devices = await devices_with_credentials(server, admin, bootstrap)
    form = "application/x-www-form-urlencoded"
    logins = [
        urlencode({"username": f"device_{d}", "password": p, "vhost": "/", "client_id": d})
        for d, p in devices
    ]
    topics = [
        json.dumps(
            {
                "username": f"device_{d}",
                "clientid": d,
                "topic": f"devices/{d}/state",
                "action": "publish",
            }
        )
        for d, _ in devices
    ]
    await _expect(f"{server.url}/auth/rabbitmq/user", form, logins[0], "allow")
    await _expect(f"{server.url}/auth/emqx/authorize", "application/json", topics[0], "allow")
    await _expect(f"{baseline.url}/check", form, logins[0], "allow")
    base = await asyncio.to_thread(checks_per_second, wrk, baseline.url, "/check", form, logins)
    user = await asyncio.to_thread(
        checks_per_second, wrk, server.url, "/auth/rabbitmq/user", form, logins
    )
    authorize = await asyncio.to_thread(
        checks_per_second, wrk, server.url, "/auth/emqx/authorize", "application/json", topics
    )
    await _expect(f"{uncached.url}/auth/rabbitmq/user", form, logins[0], "allow")
    cold = await asyncio.to_thread(
        checks_per_second, wrk, uncached.url, "/auth/rabbitmq/user", form, logins
    )
    note = f"{DEVICES} devices; baseline: SELECT + SHA-256 per request (asyncpg)"
    return [
        Row(
            "RabbitMQ user check, valid credentials (checks/s)",
            user,
            base,
            "checks/s",
            f"≥ {TARGET:.0%} of baseline",
            user >= TARGET * base,
            f"{user / base:.0%} of baseline; {note}",
        ),
        Row(
            "EMQX authorize, a topic in the namespace (checks/s)",
            authorize,
            base,
            "checks/s",
            f"≥ {TARGET:.0%} of baseline",
            authorize >= TARGET * base,
            f"{authorize / base:.0%} of baseline; {note}",
        ),
        Row(
            "RabbitMQ user check, device cache off (checks/s)",
            cold,
            base,
            "checks/s",
            f"≥ {TARGET:.0%} of baseline",
            cold >= TARGET * base,
            f"{cold / base:.0%} of baseline; GATEHOUSE_DEVICE_AUTH_CACHE_SECONDS=0: "
            "the same SELECT per check as the baseline",
        ),
    ]
