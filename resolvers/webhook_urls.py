"""Which webhook URLs and receiver addresses are allowed (API.md §10.1). Pure functions.

A webhook makes the server send requests wherever an operator points it, so
without a rule it would let a tenant reach the server's own network (a
database's HTTP port, a cloud metadata service at 169.254.169.254). Unless
``GATEHOUSE_WEBHOOKS_ALLOW_PRIVATE=true``, an address that is not a public
unicast address is refused, both when the webhook is created and at every
delivery (the name may resolve elsewhere by then); the deliverer connects to
the very address it checked.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from resolvers.errors import InvalidInput

MAX_URL_LENGTH = 2048

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class WebhookUrl:
    """A webhook URL that passed :func:`parse_webhook_url`."""

    url: str
    scheme: str
    host: str  # a name, or an address without brackets
    port: int

    @property
    def address(self) -> IPAddress | None:
        """The host when it is an IP address literal."""
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None


def parse_webhook_url(url: str) -> WebhookUrl:
    """The URL's parts, or :class:`InvalidInput` saying what is wrong with it."""
    if not url or len(url) > MAX_URL_LENGTH:
        raise InvalidInput(f"the webhook url must be 1 to {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise InvalidInput("the webhook url must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise InvalidInput(f"the webhook url is malformed: {error}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise InvalidInput("the webhook url must start with http:// or https://")
    if not parts.hostname:
        raise InvalidInput("the webhook url has no host")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput(
            "the webhook url must not carry a user name or password; "
            "receivers check the webhook-signature header instead"
        )
    if parts.fragment:
        raise InvalidInput("the webhook url must not have a #fragment")
    return WebhookUrl(
        url=url,
        scheme=scheme,
        host=parts.hostname,
        port=port if port is not None else (443 if scheme == "https" else 80),
    )


def refusal(address: IPAddress) -> str | None:
    """Why a webhook may not be delivered to ``address`` (``None``: it may)."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return refusal(mapped)
    if address.is_loopback:
        return "a loopback address"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private:
        return "a private address"
    if address.is_reserved or not address.is_global:
        return "not a public address"
    return None


def check_addresses(target: WebhookUrl, addresses: list[IPAddress]) -> None:
    """:class:`InvalidInput` unless every address the host resolved to may be used."""
    if not addresses:
        raise InvalidInput(f"the webhook host {target.host} does not resolve to any address")
    for address in addresses:
        why = refusal(address)
        if why is not None:
            named = "" if target.address is not None else f" resolves to {address}, which"
            raise InvalidInput(
                f"the webhook host {target.host}{named} is {why}; webhooks go to public "
                "addresses only (GATEHOUSE_WEBHOOKS_ALLOW_PRIVATE=true allows private ones)"
            )


def pinned_url(target: WebhookUrl, address: IPAddress) -> str:
    """The URL with its host replaced by ``address``, so no second lookup can change it."""
    parts = urlsplit(target.url)
    host = f"[{address}]" if isinstance(address, ipaddress.IPv6Address) else str(address)
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return SplitResult(parts.scheme, netloc, parts.path, parts.query, "").geturl()


def host_header(target: WebhookUrl) -> str:
    """The ``Host`` header for the URL as the operator wrote it."""
    netloc = urlsplit(target.url).netloc
    return netloc.lower()
