"""Which webhook URLs and receiver addresses are allowed (API.md §10.1); no database, no network."""

from __future__ import annotations

import ipaddress

import pytest

from resolvers.errors import InvalidInput
from resolvers.webhook_urls import (
    check_addresses,
    host_header,
    parse_webhook_url,
    pinned_url,
    refusal,
)


@pytest.mark.parametrize(
    ("url", "scheme", "host", "port"),
    [
        ("https://hooks.example.com/gatehouse", "https", "hooks.example.com", 443),
        ("http://hooks.example.com:8080/a?b=c", "http", "hooks.example.com", 8080),
        ("HTTPS://Hooks.Example.com/x", "https", "hooks.example.com", 443),
        ("http://[2001:db8::1]:9000/x", "http", "2001:db8::1", 9000),
    ],
)
def test_http_and_https_urls_are_parsed(url: str, scheme: str, host: str, port: int) -> None:
    parsed = parse_webhook_url(url)
    assert (parsed.scheme, parsed.host, parsed.port) == (scheme, host, port)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("", "1 to 2048"),
        ("https://example.com/" + "a" * 2048, "1 to 2048"),
        ("ftp://example.com/file", "http:// or https://"),
        ("file:///etc/passwd", "http:// or https://"),
        ("javascript:alert(1)", "http:// or https://"),
        ("example.com/hook", "http:// or https://"),
        ("https:///no-host", "no host"),
        ("https://user:pass@example.com/", "user name or password"),
        ("https://token@example.com/", "user name or password"),
        ("https://example.com/#part", "fragment"),
        ("https://exa mple.com/", "spaces or control"),
        ("https://example.com/\x00", "spaces or control"),
        ("https://example.com:99999/", "malformed"),
        ("https://[::1/", "malformed"),
    ],
)
def test_other_urls_are_refused_saying_why(url: str, says: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_webhook_url(url)
    assert says in refused.value.message


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fd00::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("ff02::1", "multicast"),
        ("100.64.0.1", "not a public address"),
        ("192.0.2.10", "private"),  # documentation range
        ("240.0.0.1", "private"),  # reserved, which Python counts as private
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:10.0.0.1", "private"),
        ("2002:7f00:1::", "loopback"),  # 6to4 around 127.0.0.1
    ],
)
def test_non_public_addresses_are_refused(address: str, why: str) -> None:
    assert why in (refusal(ipaddress.ip_address(address)) or "")


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


def test_a_name_is_refused_when_any_of_its_addresses_is_private() -> None:
    target = parse_webhook_url("https://hooks.example.com/x")
    public, private = ipaddress.ip_address("93.184.215.14"), ipaddress.ip_address("10.0.0.5")
    check_addresses(target, [public])
    with pytest.raises(InvalidInput) as refused:
        check_addresses(target, [public, private])
    assert "hooks.example.com resolves to 10.0.0.5, which is a private address" in (
        refused.value.message
    )
    assert "GATEHOUSE_WEBHOOKS_ALLOW_PRIVATE" in refused.value.message
    with pytest.raises(InvalidInput, match="does not resolve"):
        check_addresses(target, [])


def test_delivery_goes_to_the_checked_address_under_the_original_host() -> None:
    target = parse_webhook_url("https://Hooks.Example.com:8443/in?x=1")
    assert pinned_url(target, ipaddress.ip_address("93.184.215.14")) == (
        "https://93.184.215.14:8443/in?x=1"
    )
    assert pinned_url(target, ipaddress.ip_address("2606:4700::1")) == (
        "https://[2606:4700::1]:8443/in?x=1"
    )
    assert host_header(target) == "hooks.example.com:8443"
    plain = parse_webhook_url("http://hooks.example.com/in")
    assert pinned_url(plain, ipaddress.ip_address("93.184.215.14")) == "http://93.184.215.14/in"
    assert host_header(plain) == "hooks.example.com"
