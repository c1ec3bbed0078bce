"""No password, security token or hash leaks into a log record or a response (API.md §3, §4,
§9.6).

One whole flow runs with every logger at DEBUG and every HTTP response recorded;
afterwards no secret and no stored hash may appear in any log record (the ORM's
SQL lines included), and the only response that may carry a secret is the one
that hands a device its new password. ``tests/test_debug_log.py`` does the same
for a real server process's whole output.
"""

from __future__ import annotations

import contextlib
import logging
import traceback
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from graph.logs import PLAIN_FORMAT, GatehouseJsonFormatter, RequestIdFilter
from models.registrations import Registration
from models.tenants import User
from tests.kit.accounts import ADMIN_PASSWORD, BOOTSTRAP_LOGIN, BOOTSTRAP_PASSWORD, bootstrap_client
from tests.kit.clients import GraphQLClient, basic, error_codes
from tests.kit.devices import poll, post_raw
from tests.kit.documents import ACCEPT, CREATE_TENANT, CREATE_USER, REGISTER, REQUEST_CREDENTIALS

TENANT_ADMIN_PASSWORD = "Tenant-Admin-S3cret-9f1c"
OPERATOR_PASSWORD = "Operator-S3cret-77ab"
REJECTED_PASSWORD = "Qz9#Lk"  # too short: refused, and must not be echoed either
WRONG_LOGIN_PASSWORD = "Wrong-Login-Pass-0d9e"
REST_TOKEN = "Token-For-REST-5e2d"
GRAPHQL_TOKEN = "Token-For-GraphQL-a8c4"
WRONG_TOKEN = "Wrong-Guess-Token-31b0"
NUMERIC_PASSWORD = 73914682055  # a password sent as a number: refused, never echoed

REGISTRATION_FIELDS = """
{ __type(name: "Registration") { fields { name type { kind ofType { kind ofType { kind } } } } } }
"""

EVENTS = """
query { events(first: 100) { edges { node { kind id status actor registration { id } } } } }"""


@dataclass(frozen=True)
class Recorded:
    url: str
    status: int
    body: str


@pytest.fixture
def responses(http: httpx.AsyncClient) -> list[Recorded]:
    """Every response ``http`` receives, body included."""
    recorded: list[Recorded] = []

    async def record(response: httpx.Response) -> None:
        await response.aread()
        recorded.append(Recorded(str(response.request.url), response.status_code, response.text))

    http.event_hooks = {"request": [], "response": [record]}
    return recorded


JSON_LINES = GatehouseJsonFormatter(timestamp=False)
PLAIN_LINES = logging.Formatter(PLAIN_FORMAT)


def log_text(record: logging.LogRecord) -> str:
    """Everything a log handler could write out of ``record``, in both log formats too."""
    parts = [str(record.msg), repr(record.args), record.exc_text or ""]
    with contextlib.suppress(TypeError):  # a malformed record must not hide a secret
        parts.append(record.getMessage())
        RequestIdFilter().filter(record)
        parts += [JSON_LINES.format(record), PLAIN_LINES.format(record)]
    if record.exc_info and record.exc_info[1] is not None:
        parts.extend(traceback.format_exception(record.exc_info[1]))
    return "\n".join(parts)


def leaf_selection(fields: list[dict[str, Any]]) -> str:
    """A selection of every field of a type: leaves as they are, objects by ``__typename``."""
    selected = []
    for field in fields:
        kind = field["type"]
        while kind["kind"] in ("NON_NULL", "LIST"):
            kind = kind["ofType"]
        selected.append(
            field["name"]
            if kind["kind"] in ("SCALAR", "ENUM")
            else field["name"] + " { __typename }"
        )
    return " ".join(selected)


async def test_no_secret_in_any_log_record_or_response(
    http: httpx.AsyncClient,
    admin: GraphQLClient,
    responses: list[Recorded],
    all_logs: pytest.LogCaptureFixture,
) -> None:
    # Operators: a subtenant with its admin, and a user of it.
    await admin.data(CREATE_TENANT, id="leaky", name="Leaky", password=TENANT_ADMIN_PASSWORD)
    tenant_admin = admin.as_user("leaky/admin", TENANT_ADMIN_PASSWORD)
    refused = await tenant_admin(
        CREATE_USER, username="shorty", password=REJECTED_PASSWORD, permissions=[]
    )
    assert error_codes(refused) == ["INVALID_INPUT"]
    await tenant_admin.data(
        CREATE_USER,
        username="operator",
        password=OPERATOR_PASSWORD,
        permissions=["DEVICE_CONTROL_ADMIN", "DEVICE_CONTROL_READ", "OPTION_MANAGEMENT_READ"],
    )
    operator = admin.as_user("leaky/operator", OPERATOR_PASSWORD)
    wrong_login = await operator.as_user("leaky/operator", WRONG_LOGIN_PASSWORD).post(
        "{ me { username } }"
    )
    assert wrong_login.status_code == 401
    wrong_bootstrap = await post_raw(
        http, b'{"id": "LEAK-REST"}', authorization=basic(BOOTSTRAP_LOGIN, WRONG_LOGIN_PASSWORD)
    )
    assert wrong_bootstrap.status_code == 401

    # Two devices: one speaks REST, the other the GraphQL twin; both use a token.
    devices = [{"id": "LEAK-REST"}, {"id": "LEAK-GQL"}]
    assert (await operator.data(REGISTER, devices=devices))["register"]["__typename"] == (
        "RegisterSuccess"
    )
    device = bootstrap_client(admin)
    assert (await poll(http, "LEAK-REST", token=REST_TOKEN)).status_code == 404
    assert (await device.data(REQUEST_CREDENTIALS, id="LEAK-GQL", token=GRAPHQL_TOKEN)) == {
        "requestDeviceCredentials": None
    }
    for device_id, token in (("LEAK-REST", REST_TOKEN), ("LEAK-GQL", GRAPHQL_TOKEN)):
        wrong = (await operator.data(ACCEPT, id=device_id, token=WRONG_TOKEN))["accept"]
        assert wrong["__typename"] == "SecurityTokenMismatch"
        right = (await operator.data(ACCEPT, id=device_id, token=token))["accept"]
        assert right["__typename"] == "Registration"
    assert (await poll(http, "LEAK-REST", token=WRONG_TOKEN)).status_code == 404  # counts
    # A password of the wrong type is refused without being echoed (API.md §9.6).
    typed_wrong = await tenant_admin.post(
        CREATE_USER, {"username": "numeric", "password": NUMERIC_PASSWORD, "permissions": []}
    )
    assert typed_wrong.status_code == 200 and "errors" in typed_wrong.json()

    issued = await poll(http, "LEAK-REST", token=REST_TOKEN)
    assert issued.status_code == 201
    rest_password: str = issued.json()["password"]
    twin = await device.data(REQUEST_CREDENTIALS, id="LEAK-GQL", token=GRAPHQL_TOKEN)
    graphql_password: str = twin["requestDeviceCredentials"]["password"]
    assert (await poll(http, "LEAK-REST", token=REST_TOKEN)).status_code == 404
    again = await device.data(REQUEST_CREDENTIALS, id="LEAK-GQL", token=GRAPHQL_TOKEN)
    assert again == {"requestDeviceCredentials": None}

    # Every field of every registration, and the event log, as an operator sees them.
    fields = (await operator.data(REGISTRATION_FIELDS))["__type"]["fields"]
    selection = leaf_selection(fields)
    listed = await operator.data(f"{{ registrations {{ edges {{ node {{ {selection} }} }} }} }}")
    nodes = [edge["node"] for edge in listed["registrations"]["edges"]]
    assert {node["id"] for node in nodes} == {"LEAK-REST", "LEAK-GQL"}
    await operator.data(EVENTS)

    hashes = [str(h) for h in await User.all().values_list("password_hash", flat=True)]
    for row in await Registration.all():
        assert row.token_hash is not None and row.device_password_hash is not None
        hashes += [row.token_hash, row.device_password_hash]
    for node in nodes:
        for name, value in node.items():
            text = str(value)
            assert "$argon2" not in text, name
            assert not any(h in text for h in hashes), name
            assert REST_TOKEN not in text and GRAPHQL_TOKEN not in text, name

    never_shown = {
        "management admin password": ADMIN_PASSWORD,
        "bootstrap password": BOOTSTRAP_PASSWORD,
        "tenant admin password": TENANT_ADMIN_PASSWORD,
        "user password": OPERATOR_PASSWORD,
        "refused password": REJECTED_PASSWORD,
        "wrong login password": WRONG_LOGIN_PASSWORD,
        "REST security token": REST_TOKEN,
        "GraphQL security token": GRAPHQL_TOKEN,
        "wrong security token": WRONG_TOKEN,
        "password sent as a number": str(NUMERIC_PASSWORD),
    }
    logged_too = {
        **never_shown,
        "REST device password": rest_password,
        "GraphQL device password": graphql_password,
        **{
            f"Basic header of {login}": basic(login, password).split()[1]
            for login, password in (
                ("management/admin", ADMIN_PASSWORD),
                (BOOTSTRAP_LOGIN, BOOTSTRAP_PASSWORD),
                ("leaky/admin", TENANT_ADMIN_PASSWORD),
                ("leaky/operator", OPERATOR_PASSWORD),
            )
        },
    }

    records = all_logs.records
    assert records, "nothing was logged: the capture is not working"
    assert any(r.name == "tortoise.db_client" for r in records), "the SQL log was not captured"
    texts = [log_text(record) for record in records] + [all_logs.text]
    for what, secret in logged_too.items():
        leaks = [t for t in texts if secret in t]
        assert not leaks, f"the {what} is in the log: {leaks[0][:300]}"
    for stored_hash in hashes:  # nor any hash of a secret, at DEBUG either (API.md §9.6)
        leaks = [t for t in texts if stored_hash in t]
        assert not leaks, f"a stored hash is in the log: {leaks[0][:300]}"
    assert not [t for t in texts if "$argon2" in t]

    assert len(responses) == 21  # every request of the flow above was recorded
    for what, secret in never_shown.items():
        shown = [r for r in responses if secret in r.body]
        assert not shown, f"the {what} is in a response: {shown[0]}"
    for stored_hash in hashes:
        assert not [r for r in responses if stored_hash in r.body], stored_hash
    assert [r for r in responses if "$argon2" in r.body] == []

    carrying_rest = [r for r in responses if rest_password in r.body]
    assert [(r.url, r.status) for r in carrying_rest] == [
        ("http://gatehouse.test/devicecontrol/deviceCredentials", 201)
    ]
    carrying_graphql = [r for r in responses if graphql_password in r.body]
    assert len(carrying_graphql) == 1
    assert carrying_graphql[0].url == "http://gatehouse.test/graphql"
    assert "requestDeviceCredentials" in carrying_graphql[0].body
