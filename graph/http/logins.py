"""HTTP Basic logins: ``tenant/username:password`` (a bare ``username``: the management tenant)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field

from resolvers.auth import Authenticator
from resolvers.permissions import MANAGEMENT_TENANT, Actor

REALM = 'Basic realm="gatehouse"'
#: The challenge for web pages with a login form of their own (no browser prompt).
XBASIC_REALM = 'XBasic realm="gatehouse"'


@dataclass(frozen=True)
class Credentials:
    tenant_id: str
    username: str
    password: str = field(repr=False)


def basic_login(header: str | None) -> tuple[str, str] | None:
    """The login and password of an ``Authorization: Basic ...`` header, as sent."""
    if not header:
        return None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    login, sep, password = decoded.partition(":")
    if not sep:
        return None
    return login, password


def parse_basic(header: str | None) -> Credentials | None:
    """The credentials of an ``Authorization: Basic ...`` header, or ``None`` when malformed."""
    pair = basic_login(header)
    if pair is None:
        return None
    login, password = pair
    tenant_id, slash, username = login.partition("/")
    if not slash:
        tenant_id, username = MANAGEMENT_TENANT, login
    if not tenant_id or not username:
        return None
    if not (tenant_id.isprintable() and username.isprintable()):
        # NUL and other control characters: no account has them, and PostgreSQL
        # cannot even compare text holding NUL. A wrong login, answered as one.
        return None
    return Credentials(tenant_id, username, password)


async def authenticate_header(
    authenticator: Authenticator, header: str | None, client_address: str | None = None
) -> Actor | None:
    """The user an ``Authorization`` header logs in, or ``None``.

    With ``client_address``, raises :class:`~resolvers.errors.Throttled` for an
    address with too many failed logins (API.md §9.2).
    """
    credentials = parse_basic(header)
    if credentials is None:
        return None
    return await authenticator.authenticate(
        credentials.tenant_id,
        credentials.username,
        credentials.password,
        client_address=client_address,
    )
