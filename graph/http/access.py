"""Who may call a route: each route of the app declares one of these.

An access kind either admits the request (returning the logged-in user, or
``None`` where no login is involved) or raises :class:`Denied` with a reason;
the route's refusal style (``graph/http/refusals.py``) turns the reason into
that protocol's answer. The gate (``graph/http/gate.py``) runs the check before
the endpoint sees the request.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field

from starlette.datastructures import Headers

from graph.http.addresses import Network, in_networks
from graph.http.logins import basic_login, parse_basic
from resolvers.auth import Authenticator
from resolvers.credentials import may_request
from resolvers.device_auth import DeviceLogin
from resolvers.device_logins import DeviceLogins
from resolvers.errors import Throttled
from resolvers.permissions import Actor, Permission

log = logging.getLogger("gatehouse.auth")


class Reason(enum.Enum):
    NO_LOGIN = "no credentials"
    BAD_LOGIN = "wrong credentials"
    FORBIDDEN = "missing permission"
    NOT_INTERNAL = "not from an internal network"
    THROTTLED = "too many failed logins"
    TOO_LARGE = "request body too large"
    UNAVAILABLE = "database unavailable"


class Denied(Exception):
    """The request may not reach the endpoint; ``message`` is safe to show the client.

    ``retry_after`` (seconds) is set for refusals that end by themselves (THROTTLED).
    """

    def __init__(self, reason: Reason, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.retry_after = retry_after


@dataclass(frozen=True)
class Caller:
    """What the gate knows of a request before the endpoint runs."""

    headers: Headers
    client_address: str


@dataclass(frozen=True)
class Checks:
    """What access kinds check against: the process's authenticator and networks."""

    authenticator: Authenticator
    internal_networks: tuple[Network, ...]
    #: Device credentials (API.md §6), for routes that admit devices.
    device_logins: DeviceLogins = field(default_factory=DeviceLogins)


class Access:
    """Base of the access kinds: admits everyone."""

    async def admit(self, caller: Caller, checks: Checks) -> Actor | DeviceLogin | None:
        return None


class Public(Access):
    """Anyone, with or without a login (``/health``)."""


PUBLIC = Public()


@dataclass(frozen=True)
class UserLogin(Access):
    """A valid ``tenant/username`` login; with ``permission``, one that holds it."""

    permission: Permission | None = None

    async def admit(self, caller: Caller, checks: Checks) -> Actor:
        header = caller.headers.get("authorization")
        if not header:
            raise Denied(Reason.NO_LOGIN, "log in with HTTP Basic as tenant/username")
        actor = await _authenticate(caller, checks, header)
        if actor is None:
            raise Denied(Reason.BAD_LOGIN, "wrong username or password")
        if self.permission is not None and not actor.can(self.permission):
            raise Denied(
                Reason.FORBIDDEN, f"{actor.name} lacks the {self.permission.value} permission"
            )
        return actor


class BootstrapLogin(Access):
    """The platform's device bootstrap login: a management-tenant user with DEVICE_BOOTSTRAP.

    Anything else is refused as a wrong login (API.md §4 answers 401, not 403).
    """

    MESSAGE = "log in with the device bootstrap credentials"

    async def admit(self, caller: Caller, checks: Checks) -> Actor:
        header = caller.headers.get("authorization")
        if not header:
            raise Denied(Reason.NO_LOGIN, self.MESSAGE)
        actor = await _authenticate(caller, checks, header)
        if actor is None or not may_request(actor):
            raise Denied(Reason.BAD_LOGIN, self.MESSAGE)
        return actor


@dataclass(frozen=True)
class InternalNetwork(Access):
    """Callers from ``GATEHOUSE_INTERNAL_NETWORKS`` only, checked before anything else."""

    then: Access = PUBLIC

    async def admit(self, caller: Caller, checks: Checks) -> Actor | DeviceLogin | None:
        if not in_networks(caller.client_address, checks.internal_networks):
            raise Denied(
                Reason.NOT_INTERNAL, "this path answers the platform's internal network only"
            )
        return await self.then.admit(caller, checks)


@dataclass(frozen=True)
class DeviceCredentials(Access):
    """A device's own credentials in ``Authorization: Basic`` (``device_<id>``, API.md §6.4).

    Users' logins are refused like wrong ones: users never pass device checks.
    """

    MESSAGE = "log in with the device's own credentials"
    #: Which surface asks, for the log and the metrics' ``broker`` label.
    surface: str = "http"

    async def admit(self, caller: Caller, checks: Checks) -> DeviceLogin:
        header = caller.headers.get("authorization")
        if not header:
            raise Denied(Reason.NO_LOGIN, self.MESSAGE)
        login = basic_login(header)
        if login is None:
            raise Denied(Reason.BAD_LOGIN, self.MESSAGE)
        username, password = login
        verdict = await checks.device_logins.login(self.surface, username, password)
        if not verdict.allowed or verdict.device is None:
            raise Denied(Reason.BAD_LOGIN, self.MESSAGE)
        return verdict.device


async def _authenticate(caller: Caller, checks: Checks, header: str) -> Actor | None:
    credentials = parse_basic(header)
    actor = None
    if credentials is not None:
        try:
            actor = await checks.authenticator.authenticate(
                credentials.tenant_id,
                credentials.username,
                credentials.password,
                client_address=caller.client_address,
            )
        except Throttled as throttled:
            # Logged once, when the address reaches its limit (resolvers/auth.py), not per refusal.
            raise Denied(Reason.THROTTLED, throttled.message, throttled.retry_after) from None
    if actor is None:
        log.info("rejected credentials from %s", caller.client_address)
    return actor
