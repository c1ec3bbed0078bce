"""The README's webhook receiver, run as written: it gets a registration flow, verified.

The code block is taken from the README's "Webhooks" section and served by a
real uvicorn on 127.0.0.1; only its ``handle`` function is swapped for one that
records what it is given.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from graph.settings import Settings
from tests.kit.clients import GraphQLClient
from tests.kit.devices import poll
from tests.kit.documents import REMOVE
from tests.kit.receivers import running_receiver
from tests.kit.registrations import accept, register
from tests.kit.servers import free_port
from tests.kit.webhooks import create_webhook, delivering, until

README = Path(__file__).parents[2] / "README.md"


def receiver_example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Webhooks") :]
    section = section[: section.index("\n## ", 1)]
    block = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert block is not None, "the README's Webhooks section has no python example"
    return block.group(1)


@pytest.fixture
def settings() -> Settings:
    return Settings(database_url="sqlite://:memory:", webhooks_allow_private=True)


async def test_the_readme_receiver_gets_a_flow_verified_and_refuses_forgeries(
    http: httpx.AsyncClient, admin: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/gatehouse-events"
    _, secret = await create_webhook(admin, url)
    monkeypatch.setenv("GATEHOUSE_WEBHOOK_SECRET", secret)
    example: dict[str, Any] = {"__name__": "receiver"}
    exec(compile(receiver_example(), "README.md (receiver.py)", "exec"), example)
    handled: list[dict[str, Any]] = []
    example["handle"] = handled.append

    async with running_receiver(example["app"], port=port), delivering():
        await register(admin, {"id": "README-1"})
        assert (await poll(http, "README-1")).status_code == 404
        assert (await accept(admin, "README-1"))["__typename"] == "Registration"
        assert (await poll(http, "README-1")).status_code == 201
        await admin.data(REMOVE, id="README-1")

        async def all_handled() -> list[dict[str, Any]] | None:
            return handled if len(handled) >= 5 else None

        await until(all_handled, timeout=10)
        assert [event["type"] for event in handled] == [
            "registration.registered",
            "registration.connected",
            "registration.accepted",
            "registration.credentials_delivered",
            "registration.removed",
        ]
        assert {event["data"]["id"] for event in handled} == {"README-1"}

        async with httpx.AsyncClient() as client:
            forged = await client.post(
                url,
                content=b'{"type": "registration.accepted", "data": {"id": "X"}}',
                headers={
                    "webhook-id": "forged",
                    "webhook-timestamp": "1700000000",
                    "webhook-signature": "v1,bm90IGEgc2lnbmF0dXJl",
                },
            )
        assert forged.status_code == 400
        assert len(handled) == 5
