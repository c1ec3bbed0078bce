"""The client address of a request (API.md §9.2), computed once per request by the gate.

It is the connection's peer address, unless that peer is one of the trusted
proxies (``GATEHOUSE_TRUSTED_PROXIES``): then it is the first address of
``X-Forwarded-For`` that is not a trusted proxy, read from the right (the
entries a proxy appended), since anything further left was written by the
client and proves nothing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.types import Scope

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

UNKNOWN = "unknown"


def parse_address(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def in_networks(address: str, networks: Sequence[Network]) -> bool:
    """Whether ``address`` (text) lies in one of ``networks``; unparsable text never does."""
    parsed = parse_address(address)
    if parsed is None:
        return False
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    return any(parsed in network for network in networks)


class ClientAddresses:
    """Computes the client address of a request under the trusted-proxy setting."""

    def __init__(self, trusted_proxies: Sequence[Network]) -> None:
        self.trusted_proxies = tuple(trusted_proxies)

    def of(self, scope: Scope) -> str:
        peer = scope.get("client")
        address = str(peer[0]) if peer else UNKNOWN
        if not self.trusted_proxies or not in_networks(address, self.trusted_proxies):
            return address
        forwarded = Headers(scope=scope).getlist("x-forwarded-for")
        hops = [hop.strip() for value in forwarded for hop in value.split(",") if hop.strip()]
        for hop in reversed(hops):
            if parse_address(hop) is None:
                return address  # a malformed chain is not believed
            if not in_networks(hop, self.trusted_proxies):
                return hop
        return hops[0] if hops else address
