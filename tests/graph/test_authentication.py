"""HTTP Basic on ``/graphql`` (API.md §1): who gets in, and what the others see."""

from __future__ import annotations

import base64
import logging

import httpx
import pytest

from graph.settings import Settings
from tests.kit.accounts import ADMIN_PASSWORD, make_tenant, make_user
from tests.kit.clients import GraphQLClient, app_client, basic

WHO_AM_I = "{ me { tenantId username } }"
CHALLENGE = 'Basic realm="gatehouse"'


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


async def post_me(http: httpx.AsyncClient, authorization: str | None) -> httpx.Response:
    headers = {} if authorization is None else {"Authorization": authorization}
    return await http.post("/graphql", json={"query": WHO_AM_I}, headers=headers)


def assert_unauthenticated(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == CHALLENGE
    body = response.json()
    assert body.get("data") is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_no_credentials_get_a_basic_challenge(http: httpx.AsyncClient) -> None:
    assert_unauthenticated(await post_me(http, None))


MALFORMED = {
    "empty tenant": basic("/admin", ADMIN_PASSWORD),
    "empty username": basic("management/", ADMIN_PASSWORD),
    "overlong tenant": basic("x" * 33 + "/admin", ADMIN_PASSWORD),
    "not base64": "Basic !!!not-base64!!!",
    "no colon": "Basic " + b64(b"management/admin"),
    "not UTF-8": "Basic " + b64(b"\xff\xfe/admin:x"),
    "scheme only": "Basic",
    "empty header": "",
    "bearer scheme": "Bearer " + b64(f"management/admin:{ADMIN_PASSWORD}".encode()),
    "digest scheme": 'Digest username="management/admin"',
}


async def test_malformed_authorization_headers_are_refused_with_401() -> None:
    # None of these reaches the database, so this needs no ``db``.
    async with app_client(Settings()) as http:
        for case, authorization in MALFORMED.items():
            response = await post_me(http, authorization)
            assert response.status_code == 401, case
            assert_unauthenticated(response)


@pytest.mark.parametrize(
    ("login", "password"),
    [
        pytest.param("management/admin", "wrong-password", id="wrong-password"),
        pytest.param("management/admin", "", id="empty-password"),
        pytest.param("management/nobody", ADMIN_PASSWORD, id="unknown-user"),
        pytest.param("nosuchtenant/admin", ADMIN_PASSWORD, id="unknown-tenant"),
    ],
)
async def test_wrong_credentials_are_refused_with_401(
    http: httpx.AsyncClient, login: str, password: str
) -> None:
    assert_unauthenticated(await post_me(http, basic(login, password)))


async def test_failed_logins_do_not_say_which_part_was_wrong(http: httpx.AsyncClient) -> None:
    bodies = [
        (await post_me(http, basic(login, password))).json()
        for login, password in [
            ("management/admin", "wrong-password"),
            ("management/nobody", ADMIN_PASSWORD),
            ("nosuchtenant/admin", ADMIN_PASSWORD),
        ]
    ]
    assert bodies[0] == bodies[1] == bodies[2]


async def test_a_refused_password_is_not_logged(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert_unauthenticated(await post_me(http, basic("management/admin", "hunter2-is-wrong")))
    assert "hunter2-is-wrong" not in caplog.text


async def test_valid_credentials_reach_the_api(http: httpx.AsyncClient) -> None:
    response = await post_me(http, basic("management/admin", ADMIN_PASSWORD))
    assert response.status_code == 200
    assert response.json() == {"data": {"me": {"tenantId": "management", "username": "admin"}}}


async def test_scheme_name_is_case_insensitive(http: httpx.AsyncClient) -> None:
    # RFC 9110 §11.1: the authentication scheme is case-insensitive.
    encoded = b64(f"management/admin:{ADMIN_PASSWORD}".encode())
    response = await post_me(http, "basic " + encoded)
    assert response.status_code == 200


async def test_bare_username_logs_in_to_the_management_tenant(admin: GraphQLClient) -> None:
    me = (await admin.as_user("devicebootstrap", "bootstrap-password").data(WHO_AM_I))["me"]
    assert me == {"tenantId": "management", "username": "devicebootstrap"}


async def test_bare_username_does_not_reach_a_subtenant_user(admin: GraphQLClient) -> None:
    acme = await make_tenant(admin, "acme")
    alice = await make_user(acme, "alice", [])
    assert alice.password is not None
    assert_unauthenticated(await post_me(admin.http, basic("alice", alice.password)))


async def test_password_with_colon_and_non_ascii_characters_works(admin: GraphQLClient) -> None:
    password = "pa:ss wörd €:"
    await admin.data(
        """mutation($p: String!) {
          createUser(username: "carol", password: $p, permissions: []) { username }
        }""",
        p=password,
    )
    me = (await admin.as_user("management/carol", password).data(WHO_AM_I))["me"]
    assert me["username"] == "carol"


async def test_get_query_works_with_credentials(admin: GraphQLClient) -> None:
    response = await admin.http.get("/graphql", params={"query": WHO_AM_I}, headers=admin.headers())
    assert response.status_code == 200
    assert response.json()["data"]["me"]["username"] == "admin"


async def test_get_query_with_variables_works(admin: GraphQLClient) -> None:
    response = await admin.http.get(
        "/graphql",
        params={
            "query": "query($c: String!, $k: String!) "
            "{ tenantOption(category: $c, key: $k) { value } }",
            "variables": '{"c": "x", "k": "y"}',
        },
        headers=admin.headers(),
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"tenantOption": None}}


async def test_get_query_without_credentials_is_401(http: httpx.AsyncClient) -> None:
    assert_unauthenticated(await http.get("/graphql", params={"query": WHO_AM_I}))


async def test_get_refuses_mutations_and_changes_nothing(admin: GraphQLClient) -> None:
    response = await admin.http.get(
        "/graphql",
        params={"query": 'mutation { createGroup(name: "via-get") { id } }'},
        headers=admin.headers(),
    )
    assert 400 <= response.status_code < 500
    total = (await admin.data("{ groups { totalCount } }"))["groups"]["totalCount"]
    assert total == 0


async def test_graphiql_page_without_credentials_prompts_for_login(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get("/graphql", headers={"Accept": "text/html"})
    assert_unauthenticated(response)


async def test_graphiql_page_with_credentials_is_served(admin: GraphQLClient) -> None:
    response = await admin.http.get("/graphql", headers={"Accept": "text/html", **admin.headers()})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


@pytest.mark.parametrize(
    "headers",
    [{"X-Requested-With": "XMLHttpRequest"}, {"UseXBasic": "true"}, {"usexbasic": "TRUE"}],
)
async def test_a_web_page_with_its_own_login_form_gets_an_xbasic_challenge(
    http: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    for authorization in (None, basic("management/admin", "wrong-password")):
        sent = dict(headers) | ({"Authorization": authorization} if authorization else {})
        response = await http.post("/graphql", json={"query": WHO_AM_I}, headers=sent)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == 'XBasic realm="gatehouse"'
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_other_requested_with_values_keep_the_basic_challenge(
    http: httpx.AsyncClient,
) -> None:
    response = await http.post(
        "/graphql", json={"query": WHO_AM_I}, headers={"X-Requested-With": "fetch"}
    )
    assert_unauthenticated(response)
