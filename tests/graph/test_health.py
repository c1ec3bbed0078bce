"""``GET /health``: liveness without credentials (API.md §1)."""

from __future__ import annotations

import httpx


async def test_health_answers_ok_without_credentials(http: httpx.AsyncClient) -> None:
    response = await http.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_health_ignores_wrong_credentials(http: httpx.AsyncClient) -> None:
    response = await http.get("/health", headers={"Authorization": "Basic bm9ib2R5Ondyb25n"})
    assert response.status_code == 200
