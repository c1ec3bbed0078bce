"""The per-request (or per-websocket) GraphQL context."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.dataloader import DataLoader
from strawberry.types import Info as StrawberryInfo

from graph.http.addresses import UNKNOWN
from graph.settings import Settings
from models.groups import Group
from resolvers.auth import Authenticator
from resolvers.errors import Forbidden
from resolvers.groups import groups_by_ids
from resolvers.permissions import Actor
from resolvers.throttling import Throttles


class Loaders:
    """DataLoaders bound to one actor's tenant, so a batch never crosses tenants."""

    def __init__(self, actor: Actor) -> None:
        tenant_id = actor.tenant_id

        async def load_groups(ids: list[int]) -> list[Group | None]:
            return await groups_by_ids(tenant_id, ids)

        self.group = DataLoader[int, Group | None](load_fn=load_groups)


@dataclass
class Context:
    request: Request | WebSocket
    response: Response | WebSocket | None
    settings: Settings
    authenticator: Authenticator
    request_id: str
    actor: Actor | None = None
    connection_params: dict[str, Any] | None = None
    #: The process's throttles (API.md §9.2); the app always sets them.
    throttles: Throttles = field(default_factory=Throttles)
    _loaders: Loaders | None = field(default=None, repr=False)

    @property
    def caller(self) -> Actor:
        """The authenticated actor; the transport guarantees one before any field runs."""
        if self.actor is None:
            raise Forbidden("not authenticated")
        return self.actor

    @property
    def client_address(self) -> str:
        """The client address the gate computed (API.md §9.2)."""
        address: str = self.request.scope.get("state", {}).get("client_address", UNKNOWN)
        return address

    @property
    def loaders(self) -> Loaders:
        if self._loaders is None:
            self._loaders = Loaders(self.caller)
        return self._loaders


Info = StrawberryInfo[Context, None]
