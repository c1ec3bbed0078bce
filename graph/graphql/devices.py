"""GraphQL for the device side: ``requestDeviceCredentials``, the twin of the REST bootstrap."""

from __future__ import annotations

import strawberry
from starlette.responses import Response

from graph.graphql.arguments import given
from graph.graphql.context import Info
from graph.graphql.permissions import can
from resolvers.credentials import IssuedCredentials, request_credentials
from resolvers.errors import Throttled
from resolvers.permissions import Permission


@strawberry.type
class DeviceCredentials:
    id: strawberry.ID
    tenant_id: str
    username: str
    password: str

    @classmethod
    def from_issued(cls, issued: IssuedCredentials) -> DeviceCredentials:
        return cls(
            id=strawberry.ID(issued.device_id),
            tenant_id=issued.tenant_id,
            username=issued.username,
            password=issued.password,
        )


@strawberry.type
class DeviceMutations:
    @strawberry.mutation(
        permission_classes=[can(Permission.DEVICE_BOOTSTRAP)],
        description="DEVICE_BOOTSTRAP callers only: the GraphQL twin of "
        "POST /devicecontrol/deviceCredentials (§4); null while not available.",
    )
    async def request_device_credentials(
        self, info: Info, id: strawberry.ID, security_token: str | None = strawberry.UNSET
    ) -> DeviceCredentials | None:
        context = info.context
        try:
            issued = await request_credentials(
                context.caller,
                id,
                given(security_token),
                client_address=context.client_address,
                throttles=context.throttles,
            )
        except Throttled as throttled:
            # The error carries TOO_MANY_REQUESTS and retryAfter; HTTP also gets the header.
            if isinstance(context.response, Response):
                context.response.headers["Retry-After"] = str(throttled.retry_after)
            raise
        return DeviceCredentials.from_issued(issued) if issued else None
