"""Every registration operation against the permission it needs (API.md §2).

A caller missing it gets a top-level FORBIDDEN error, the field null, and no
registration or event changes.
"""

from __future__ import annotations

import httpx
import pytest

from tests.kit.accounts import ALL_PERMISSIONS, make_user
from tests.kit.clients import GraphQLClient, error_codes
from tests.kit.devices import pending

OPERATIONS = {
    "registration": ("DEVICE_CONTROL_READ", '{ registration(id: "dev-1") { id } }'),
    "registrations": ("DEVICE_CONTROL_READ", "{ registrations { totalCount } }"),
    "events": ("DEVICE_CONTROL_READ", "{ events { edges { cursor } } }"),
    "register": (
        "DEVICE_CONTROL_ADMIN",
        'mutation { register(devices: [{id: "dev-2"}]) { __typename } }',
    ),
    "accept": ("DEVICE_CONTROL_ADMIN", 'mutation { accept(id: "dev-1") { __typename } }'),
    "acceptAll": ("DEVICE_CONTROL_ADMIN", "mutation { acceptAll { warning } }"),
    "removeRegistration": (
        "DEVICE_CONTROL_ADMIN",
        'mutation { removeRegistration(id: "dev-1") { __typename } }',
    ),
    "requestDeviceCredentials": (
        "DEVICE_BOOTSTRAP",
        'mutation { requestDeviceCredentials(id: "dev-1") { password } }',
    ),
}
STATE = """{
  registrations { totalCount edges { node { id status } } }
  events(first: 1000) { edges { cursor } }
}"""


@pytest.mark.parametrize("field", OPERATIONS)
async def test_caller_lacking_only_the_needed_permission_is_forbidden_and_nothing_changes(
    http: httpx.AsyncClient, admin: GraphQLClient, field: str
) -> None:
    permission, document = OPERATIONS[field]
    await pending(http, admin, "dev-1")
    before = await admin.data(STATE)
    caller = await make_user(admin, "almost", [p for p in ALL_PERMISSIONS if p != permission])
    body = await caller(document)
    assert error_codes(body) == ["FORBIDDEN"], body
    assert body["data"] is None or body["data"].get(field) is None
    assert permission in body["errors"][0]["message"]
    assert await admin.data(STATE) == before
