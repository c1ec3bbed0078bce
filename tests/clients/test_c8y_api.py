"""``c8y-api`` (PyPI) against a real Gatehouse server, unchanged (API.md §4, §8).

Its operator calls (``device_inventory.request`` and ``accept``, tenant
options) and its device bootstrap (``CumulocityDeviceRegistry``), as a
Cumulocity script uses them. The package is strict: a PUT succeeds only on
200, 202 or 204, a GET only on 200, and it pages tenant options until a page
comes back empty.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from c8y_api import CumulocityApi, CumulocityDeviceRegistry
from c8y_api._base_api import AccessDeniedError, UnauthorizedError
from c8y_api.model import TenantOption

from tests.kit.accounts import ADMIN_PASSWORD, BOOTSTRAP_PASSWORD
from tests.kit.c8y import gatehouse
from tests.kit.clients import basic
from tests.kit.servers import Server

CATEGORY = "device-registration"
POLICY = "security-token.policy"
REGISTRATION = "query($id: ID!) { registration(id: $id) { status failedAttempts } }"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    cwd: Path = tmp_path_factory.mktemp("c8y-api")
    with gatehouse(cwd) as running:
        yield running


@pytest.fixture(scope="module")
def c8y(server: Server) -> CumulocityApi:
    return CumulocityApi(server.url, "management", username="admin", password=ADMIN_PASSWORD)


def registry(server: Server) -> CumulocityDeviceRegistry:
    return CumulocityDeviceRegistry(server.url, "management", "devicebootstrap", BOOTSTRAP_PASSWORD)


def graphql(server: Server, query: str, **variables: Any) -> dict[str, Any]:
    response = httpx.post(
        f"{server.url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": basic("management/admin", ADMIN_PASSWORD)},
        timeout=10,
    )
    data: dict[str, Any] = response.json()["data"]
    return data


def status_of(server: Server, device_id: str) -> str | None:
    found = graphql(server, REGISTRATION, id=device_id)["registration"]
    return None if found is None else str(found["status"])


def wait_for_status(server: Server, device_id: str, status: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while status_of(server, device_id) != status:
        assert time.monotonic() < deadline, f"{device_id} never became {status}"
        time.sleep(0.05)


def test_request_accept_and_the_device_bootstrap(server: Server, c8y: CumulocityApi) -> None:
    c8y.device_inventory.request("py-dev-1")
    assert status_of(server, "py-dev-1") == "WAITING_FOR_CONNECTION"

    collected: dict[str, Any] = {}

    def device() -> None:
        collected["credentials"] = registry(server).await_credentials(
            "py-dev-1", timeout="20s", pause="1s"
        )

    thread = threading.Thread(target=device)
    thread.start()
    wait_for_status(server, "py-dev-1", "PENDING_ACCEPTANCE")
    c8y.device_inventory.accept("py-dev-1")
    thread.join(timeout=30)
    assert "credentials" in collected, "the device gave up without its credentials"
    credentials = collected["credentials"]
    assert (credentials.tenant_id, credentials.username) == ("management", "device_py-dev-1")
    assert len(credentials.password) >= 20
    assert status_of(server, "py-dev-1") == "ACCEPTED"


def test_request_of_an_id_already_registered_raises(c8y: CumulocityApi) -> None:
    c8y.device_inventory.request("py-dev-2")
    with pytest.raises(ValueError, match="409"):
        c8y.device_inventory.request("py-dev-2")


def test_accept_with_a_token_through_the_packages_own_put(
    server: Server, c8y: CumulocityApi
) -> None:
    c8y.device_inventory.request("py-dev-3")
    response = httpx.post(
        f"{server.url}/devicecontrol/deviceCredentials",
        json={"id": "py-dev-3", "securityToken": "printed-token"},
        headers={"Authorization": basic("management/devicebootstrap", BOOTSTRAP_PASSWORD)},
    )
    assert response.status_code == 404
    path = "/devicecontrol/newDeviceRequests/py-dev-3"
    with pytest.raises(ValueError, match="422"):
        c8y.device_inventory.accept("py-dev-3")  # no token: refused, and counted
    with pytest.raises(ValueError, match="Security Token Mismatch"):
        c8y.put(path, {"status": "ACCEPTED", "securityToken": "a-guess"})
    accepted = c8y.put(path, {"status": "ACCEPTED", "securityToken": "printed-token"})
    assert accepted["status"] == "ACCEPTED"
    found = graphql(server, REGISTRATION, id="py-dev-3")["registration"]
    assert found == {"status": "ACCEPTED", "failedAttempts": 2}


def test_tenant_options_set_read_page_and_delete(c8y: CumulocityApi) -> None:
    options = c8y.tenant_options
    options.set_value(CATEGORY, POLICY, "REQUIRED")
    assert options.get_value(CATEGORY, POLICY) == "REQUIRED"
    options.set_value("py-app", "colour", "red")
    options.set_value("py-app", "size", "L")

    # It reads page after page until one is empty: three pages of one, then stop.
    every = options.get_all(page_size=1)
    assert [(o.category, o.key) for o in every] == [
        (CATEGORY, POLICY),
        ("py-app", "colour"),
        ("py-app", "size"),
    ]
    assert options.get_all_mapped(category="py-app") == {"colour": "red", "size": "L"}

    options.update_by("py-app", {"colour": "blue"})
    option = options.get("py-app", "colour")
    assert option.value == "blue"
    option.value = "green"
    assert option.update().value == "green"
    # A new TenantOption object has no "changed" fields: c8y-api PUTs {} for it.
    with pytest.raises(ValueError, match="422"):
        options.update(TenantOption(category="py-app", key="size", value="XL"))
    assert options.get_value("py-app", "size") == "L"

    options.delete_by("py-app", "size")
    with pytest.raises(KeyError):
        options.get("py-app", "size")


def test_an_update_with_nothing_changed_is_refused_not_a_crash(c8y: CumulocityApi) -> None:
    c8y.tenant_options.set_value("py-empty", "key", "value")
    option = c8y.tenant_options.get("py-empty", "key")
    with pytest.raises(ValueError, match="422"):
        option.update()  # sends {}
    assert c8y.tenant_options.get_value("py-empty", "key") == "value"


def test_a_refused_policy_value_raises_with_the_servers_reason(c8y: CumulocityApi) -> None:
    with pytest.raises(ValueError, match="Invalid Option"):
        c8y.tenant_options.set_value(CATEGORY, POLICY, "SOMETIMES")


def test_wrong_logins_and_missing_permissions_raise(server: Server, c8y: CumulocityApi) -> None:
    wrong = CumulocityApi(server.url, "management", username="admin", password="not-it")
    with pytest.raises(UnauthorizedError):
        wrong.tenant_options.get_value(CATEGORY, POLICY)
    bootstrap = CumulocityApi(
        server.url, "management", username="devicebootstrap", password=BOOTSTRAP_PASSWORD
    )
    with pytest.raises(AccessDeniedError):
        bootstrap.tenant_options.get_value(CATEGORY, POLICY)
    with pytest.raises(AccessDeniedError):
        bootstrap.device_inventory.request("py-dev-never")
    assert status_of(server, "py-dev-never") is None
