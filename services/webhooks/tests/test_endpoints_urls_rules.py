"""Where a webhook may go (design §12, no SSRF): the address rules, without any HTTP."""

import ipaddress

import pytest

from webhooks_service.endpoints import urls
from webhooks_service.endpoints.urls import (
    Target,
    UnsafeUrlError,
    check_url,
    parse_url,
    refusal,
    vetted_address,
)


def resolver(*addresses):
    return lambda host, port: [ipaddress.ip_address(a) for a in addresses]


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "::1",
        "10.0.0.5",
        "172.16.3.4",
        "192.168.1.1",
        "169.254.169.254",  # AWS/GCP/Azure metadata
        "169.254.1.1",
        "fe80::1",
        "fc00::1",
        "fd00:ec2::254",  # AWS metadata over IPv6
        "100.64.0.1",  # shared address space (carrier NAT)
        "100.100.100.200",  # Alibaba metadata
        "0.0.0.0",  # noqa: S104 — an address under test, not a bind
        "::",
        "224.0.0.1",
        "255.255.255.255",
        "240.0.0.1",
        "192.0.2.1",  # documentation range
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "::ffff:169.254.169.254",
        "2002:7f00:1::",  # 6to4 around 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1: not global
    ],
)
def test_internal_addresses_are_refused_in_prod(address):
    assert refusal(ipaddress.ip_address(address), public_only=True) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "8.8.8.8"])
def test_public_addresses_are_allowed(address):
    assert refusal(ipaddress.ip_address(address), public_only=True) is None


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "10.1.2.3"])
def test_dev_and_test_allow_loopback_and_private(address):
    assert refusal(ipaddress.ip_address(address), public_only=False) is None


@pytest.mark.parametrize("address", ["169.254.169.254", "fd00:ec2::254", "::ffff:169.254.169.254"])
def test_metadata_is_refused_everywhere(address):
    assert refusal(ipaddress.ip_address(address), public_only=False) == "a cloud metadata address"


def test_one_internal_record_refuses_the_host():
    target = Target("https", "mixed.example", 443, "/")
    with pytest.raises(UnsafeUrlError, match="private"):
        vetted_address(target, public_only=True, resolver=resolver("93.184.216.34", "10.0.0.1"))
    assert vetted_address(target, public_only=True, resolver=resolver("93.184.216.34")) == ipaddress.ip_address(
        "93.184.216.34"
    )


def test_a_host_that_does_not_resolve_is_refused():
    with pytest.raises(UnsafeUrlError, match="does not resolve"):
        vetted_address(Target("https", "nowhere.example", 443, "/"), public_only=True, resolver=resolver())


@pytest.mark.parametrize(
    "url, message",
    [
        ("ftp://example.com/hook", "http or https"),
        ("file:///etc/passwd", "http or https"),
        ("gopher://example.com", "http or https"),
        ("example.com/hook", "http or https"),
        ("http:///nohost", "host"),
        ("https://user:pass@example.com/hook", "credentials"),
        ("https://example.com/hook#frag", "fragment"),
        ("https://example.com:99999/", "valid URL"),
        ("https://exa mple.com/", "spaces"),
    ],
)
def test_urls_that_are_not_http_are_refused(url, message):
    with pytest.raises(UnsafeUrlError, match=message):
        parse_url(url, https_only=False)


def test_prod_wants_https_and_a_public_address():
    with pytest.raises(UnsafeUrlError, match="https"):
        check_url("http://example.com/hook", prod=True, resolver=resolver("93.184.216.34"))
    with pytest.raises(UnsafeUrlError, match="loopback"):
        check_url("https://localhost/hook", prod=True, resolver=resolver("127.0.0.1"))
    with pytest.raises(UnsafeUrlError, match="private"):
        check_url("https://10.0.0.7/hook", prod=True)
    check_url("https://hooks.example.com/in?x=1", prod=True, resolver=resolver("93.184.216.34"))


def test_dev_allows_loopback_http_but_not_metadata():
    check_url("http://127.0.0.1:8080/hook", prod=False)
    check_url("http://localhost/hook", prod=False)
    with pytest.raises(UnsafeUrlError, match="metadata"):
        check_url("http://169.254.169.254/latest/meta-data/", prod=False)


def test_a_url_is_taken_apart_for_sending():
    assert parse_url("https://h.example/a/b?c=1&d=2", https_only=True) == Target(
        "https", "h.example", 443, "/a/b?c=1&d=2"
    )
    assert parse_url("http://[::1]:8080", https_only=False) == Target("http", "::1", 8080, "/")


def test_a_non_ascii_path_is_percent_encoded_and_what_is_encoded_stays():
    assert parse_url("https://h.example/hü/a%20b?q=ü&r=%C3%BC", https_only=True).path == (
        "/h%C3%BC/a%20b?q=%C3%BC&r=%C3%BC"
    )
    assert parse_url("https://h.example/a:b@c!$&'()*+,;=-._~?x=/?y", https_only=True).path == (
        "/a:b@c!$&'()*+,;=-._~?x=/?y"
    )


@pytest.mark.parametrize(
    "target, host",
    [
        (Target("https", "h.example", 443, "/"), "h.example"),
        (Target("http", "h.example", 80, "/"), "h.example"),
        (Target("https", "h.example", 8443, "/"), "h.example:8443"),
        (Target("http", "h.example", 443, "/"), "h.example:443"),
        (Target("https", "::1", 443, "/"), "[::1]"),
        (Target("http", "::1", 8080, "/"), "[::1]:8080"),
        (Target("https", "bücher.example", 443, "/"), "xn--bcher-kva.example"),
    ],
)
def test_the_host_header_names_the_port_only_when_it_is_not_the_default(target, host):
    assert target.host_header == host


def test_a_hanging_lookup_is_given_up(hanging_lookup):
    """getaddrinfo has no timeout of its own: a resolver that never answers is a refusal after the wait."""
    with pytest.raises(UnsafeUrlError, match="did not resolve within 0.2 s"):
        urls.resolve("black-hole.example", 443)
    with pytest.raises(UnsafeUrlError, match="did not resolve within 0.2 s"):
        check_url("https://black-hole.example/hook", prod=True)
