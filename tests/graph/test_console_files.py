"""How the console and GraphiQL files are served: caching, CSP, on and off (API.md §7).

Through the ASGI app; the static files need no database.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from graph.console.surface import Console
from graph.graphql.graphiql import GraphiQLPage
from graph.http.assets import AssetTree
from graph.settings import Settings
from tests.kit.clients import app_client

STATIC = Path(__file__).parents[2] / "graph" / "console" / "static"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(Settings(database_url="sqlite://:memory:")) as opened:
        yield opened


def policy(response: httpx.Response) -> dict[str, str]:
    header = response.headers["content-security-policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


async def test_root_and_bare_console_redirect_to_the_console(client: httpx.AsyncClient) -> None:
    for path in ("/", "/console"):
        response = await client.get(path)
        assert response.status_code == 302
        assert response.headers["location"] == "/console/"


async def test_the_page_is_revalidated_and_its_files_are_cached_for_a_year(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/console/")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-cache"
    directives = policy(page)
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in page.headers["content-security-policy"]
    urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert urls and all(re.fullmatch(r"/console/assets/[0-9a-f]{16}/[\w.-]+", u) for u in urls)
    for url in urls:
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert asset.headers["content-security-policy"] == page.headers["content-security-policy"]
        assert asset.headers["x-content-type-options"] == "nosniff"
    script = await client.get(urls[-1])
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"


async def test_a_file_under_another_digest_or_path_is_not_found(client: httpx.AsyncClient) -> None:
    digest = Console().assets.digest
    assert (await client.get(f"/console/assets/{digest}/main.js")).status_code == 200
    old = await client.get("/console/assets/0000000000000000/main.js")
    assert old.status_code == 404
    assert old.headers["cache-control"] == "no-store"
    assert (await client.get(f"/console/assets/{digest}/nope.js")).status_code == 404
    assert (await client.get(f"/console/assets/{digest}/%2E%2E/surface.py")).status_code == 404


async def test_text_files_are_compressed_for_clients_that_accept_gzip(
    client: httpx.AsyncClient,
) -> None:
    url = Console().assets.url("registrations.js")
    plain = await client.get(url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    raw = await client.send(
        client.build_request("GET", url, headers={"Accept-Encoding": "gzip"}), stream=True
    )
    compressed = b"".join([chunk async for chunk in raw.aiter_raw()])
    assert raw.headers["content-encoding"] == "gzip"
    assert gzip.decompress(compressed) == plain.content
    assert len(compressed) < len(plain.content)


def test_the_digest_changes_with_any_file_and_only_then(tmp_path: Path) -> None:
    (tmp_path / "a.js").write_text("export const a = 1;\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.css").write_text("body {}\n")
    first = AssetTree(tmp_path, "/x", {}).digest
    assert AssetTree(tmp_path, "/x", {}).digest == first
    (tmp_path / "sub" / "b.css").write_text("body { margin: 0 }\n")
    assert AssetTree(tmp_path, "/x", {}).digest != first


async def test_gatehouse_console_false_turns_the_console_off() -> None:
    assert Settings().console is True
    async with app_client(Settings(database_url="sqlite://:memory:", console=False)) as client:
        for path in ("/", "/console/", f"/console/assets/{Console().assets.digest}/main.js"):
            assert (await client.get(path)).status_code == 404, path


def test_gatehouse_console_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEHOUSE_CONSOLE", "false")
    assert Settings.from_env().console is False


async def test_graphiql_page_names_only_files_that_gatehouse_serves(
    client: httpx.AsyncClient,
) -> None:
    html = GraphiQLPage().html
    assert "http://" not in html and "https://" not in html
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(urls) == 6
    for url in urls:
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["cache-control"].endswith("immutable")


async def test_graphiql_off_serves_no_graphiql_files() -> None:
    url = GraphiQLPage().assets.url("start-graphiql.js")
    async with app_client(Settings(database_url="sqlite://:memory:", graphiql=False)) as client:
        assert (await client.get(url)).status_code == 404


def test_console_code_inserts_data_as_text_and_loads_nothing_from_elsewhere() -> None:
    """Safe by construction: no HTML parsing of strings, no eval, no other host."""
    own = [p for p in STATIC.rglob("*.*s") if "vendor" not in p.parts]  # .js and .css
    assert {p.name for p in own} >= {"main.js", "registrations.js", "dom.js"}
    forbidden = re.compile(
        r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function"
        r"|localStorage\s*\.|document\.cookie|https?://"
    )
    for path in own:
        found = forbidden.findall(path.read_text(encoding="utf-8"))
        assert not found, f"{path.name}: {found}"
