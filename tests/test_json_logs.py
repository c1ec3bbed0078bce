"""``GATEHOUSE_LOG_FORMAT=json`` (API.md §9.4): a real server writes one JSON object per line."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.kit.accounts import ADMIN_PASSWORD, BOOTSTRAP_PASSWORD
from tests.kit.clients import basic
from tests.kit.servers import run_env, start_server

TOKEN = "json-log-token-5f3a"
WRONG_PASSWORD = "json-log-wrong-password"


def test_every_line_is_a_json_object_with_the_request_id_and_no_secret(tmp_path: Path) -> None:
    env = run_env(
        GATEHOUSE_LOG_FORMAT="json",
        GATEHOUSE_ADMIN_PASSWORD=ADMIN_PASSWORD,
        GATEHOUSE_BOOTSTRAP_PASSWORD=BOOTSTRAP_PASSWORD,
    )
    server = start_server(tmp_path, env)
    admin = {"Authorization": basic("admin", ADMIN_PASSWORD)}
    device = {"Authorization": basic("devicebootstrap", BOOTSTRAP_PASSWORD)}
    try:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            wrong = http.post(
                "/graphql",
                json={"query": "{ me { username } }"},
                headers={"Authorization": basic("admin", WRONG_PASSWORD)},
            )
            assert wrong.status_code == 401
            registered = http.post(
                "/graphql",
                json={"query": 'mutation { register(devices: [{id: "JSON-1"}]) { __typename } }'},
                headers=admin,
            )
            assert registered.status_code == 200
            poll = {"id": "JSON-1", "securityToken": TOKEN}
            assert (
                http.post("/devicecontrol/deviceCredentials", json=poll, headers=device).status_code
                == 404
            )
            accept = (
                'mutation($t: String) { accept(id: "JSON-1", securityToken: $t) { __typename } }'
            )
            accepted = http.post(
                "/graphql", json={"query": accept, "variables": {"t": TOKEN}}, headers=admin
            )
            assert accepted.json()["data"]["accept"]["__typename"] == "Registration"
            issued = http.post("/devicecontrol/deviceCredentials", json=poll, headers=device)
            assert issued.status_code == 201
            device_password = issued.json()["password"]
    finally:
        server.stop()

    lines = [line for line in server.log if line.strip()]
    banner = set(server.banner.splitlines())
    records = []
    for line in lines:
        if line.rstrip("\n") in banner:
            continue
        record = json.loads(line)  # every log line is one JSON object
        assert isinstance(record, dict), line
        assert {"time", "level", "logger", "message"} <= record.keys(), record
        records.append(record)
    registered_lines = [r for r in records if "registered 1 device(s)" in r["message"]]
    assert registered_lines and all(len(r.get("request_id", "")) == 16 for r in registered_lines)
    assert any(r["logger"].startswith("uvicorn") for r in records)
    text = "\n".join(lines)
    for secret in (ADMIN_PASSWORD, BOOTSTRAP_PASSWORD, WRONG_PASSWORD, TOKEN, device_password):
        assert secret not in text
    assert "$argon2" not in text
