"""Where a webhook may go (design §12, no SSRF): ``http(s)`` URLs; in ``prod`` only ``https`` and only public
addresses — never loopback, private, link-local, shared, reserved or cloud-metadata ones. Checked when an endpoint
is saved and again on the resolved address at every send (the sender connects to exactly the address checked, so a
DNS answer that changes between the check and the connection can't redirect it)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeoutError
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud instance-metadata services, refused in every environment (most are link-local or private anyway; listed so
# the rule does not rest on that). Alibaba's sits in 100.64.0.0/10 (shared address space, not global either).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)


class UnsafeUrlError(ValueError):
    """The URL, or the address it resolves to, is not one a webhook may be sent to; the message says why."""


@dataclass(frozen=True)
class Target:
    """A URL taken apart for sending: where to connect, and what to say in Host/SNI and the request line."""

    scheme: str
    host: str
    port: int
    path: str  # with its query, percent-encoded (ASCII only)

    @property
    def host_header(self) -> str:
        """The Host header: the name (IDNA for a non-ASCII one, an IPv6 address in brackets), with the port only
        when it is not the scheme's default (``Host: name``, not ``name:443``)."""
        name = f"[{self.host}]" if ":" in self.host else self.host.encode("idna").decode("ascii")
        return name if self.port == DEFAULT_PORTS[self.scheme] else f"{name}:{self.port}"


DEFAULT_PORTS = {"http": 80, "https": 443}
# RFC 3986: what may stay as it is in a path (and, with "?", a query); "%" keeps what is already percent-encoded.
_PATH_SAFE = "/:@!$&'()*+,;=%"


def parse_url(url: str, *, https_only: bool) -> Target:
    """A webhook URL's parts; UnsafeUrlError when it is not an absolute http(s) URL with a host (https only in prod),
    or carries credentials or a fragment."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrlError("Must be a valid URL.") from exc
    allowed = ("https",) if https_only else ("http", "https")
    if parts.scheme not in allowed:
        raise UnsafeUrlError("Must be an https URL." if https_only else "Must be an http or https URL.")
    if not parts.hostname:
        raise UnsafeUrlError("Must name a host.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrlError("Must not carry credentials (deliveries are signed instead).")
    if parts.fragment:
        raise UnsafeUrlError("Must not have a fragment.")
    if any(c.isspace() or ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        raise UnsafeUrlError("Must not contain spaces or control characters.")
    try:
        parts.hostname.encode("idna")
    except UnicodeError as exc:
        raise UnsafeUrlError("Must name a valid host.") from exc
    # Non-ASCII (or otherwise unsafe) characters percent-encoded as UTF-8, per RFC 3986: what is encoded already stays.
    path = quote(parts.path or "/", safe=_PATH_SAFE)
    if parts.query:
        path += "?" + quote(parts.query, safe=_PATH_SAFE + "?")
    return Target(parts.scheme, parts.hostname, port or DEFAULT_PORTS[parts.scheme], path)


def _unwrapped(address: IpAddress) -> IpAddress:
    """The IPv4 address inside an IPv4-mapped, 6to4 or Teredo IPv6 address (judged as itself), else the address."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if inner is not None:
            return inner
    return address


def refusal(address: IpAddress, *, public_only: bool) -> str | None:
    """Why a webhook may not go to this address (None: it may). ``public_only`` (prod): only globally routable
    unicast addresses; otherwise (dev, test) anything but cloud metadata."""
    inner = _unwrapped(address)
    if address in METADATA_ADDRESSES or inner in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if not public_only:
        return None
    for candidate in {address, inner}:
        if candidate.is_loopback:
            return "a loopback address"
        if candidate.is_link_local:
            return "a link-local address"
        if candidate.is_private:
            return "a private address"
        if candidate.is_multicast or candidate.is_reserved or candidate.is_unspecified or not candidate.is_global:
            return "not a public address"
    return None


Resolver = Callable[[str, int], list[IpAddress]]


# getaddrinfo has no timeout of its own (the system resolver may take 30 s and more): lookups run in these threads,
# and a caller waits at most RESOLVE_TIMEOUT_S (a lookup still hanging keeps its thread until it ends; past 64 of
# them, lookups queue, and time out too).
RESOLVE_TIMEOUT_S = 3.0
_LOOKUPS = ThreadPoolExecutor(max_workers=64, thread_name_prefix="webhook-resolve")


def resolve(host: str, port: int) -> list[IpAddress]:
    """Every address the host resolves to (an IP literal is itself), IPv4 first; UnsafeUrlError when it does not
    resolve within RESOLVE_TIMEOUT_S."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    lookup = _LOOKUPS.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = lookup.result(timeout=RESOLVE_TIMEOUT_S)
    except FutureTimeoutError as exc:
        lookup.cancel()  # not started yet: never will
        raise UnsafeUrlError(f"The host {host} did not resolve within {RESOLVE_TIMEOUT_S:g} s.") from exc
    except (OSError, UnicodeError) as exc:
        raise UnsafeUrlError(f"The host {host} does not resolve.") from exc
    addresses = []
    for info in sorted(infos, key=lambda info: info[0] != socket.AF_INET):
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])  # "fe80::1%eth0": no zone
        if address not in addresses:
            addresses.append(address)
    return addresses


def vetted_address(target: Target, *, public_only: bool, resolver: Resolver = resolve) -> IpAddress:
    """The one address to connect to for this target: every address its host resolves to must be allowed (one bad
    record refuses the host — an attacker's name may mix a public address with an internal one)."""
    addresses = resolver(target.host, target.port)
    if not addresses:
        raise UnsafeUrlError(f"The host {target.host} does not resolve.")
    for address in addresses:
        why = refusal(address, public_only=public_only)
        if why is not None:
            raise UnsafeUrlError(f"The host {target.host} resolves to {why}.")
    return addresses[0]


def check_url(url: str, *, prod: bool, resolver: Resolver = resolve) -> None:
    """An endpoint's URL as it is saved: UnsafeUrlError unless a webhook may go there (prod resolves its host)."""
    target = parse_url(url, https_only=prod)
    if prod:
        vetted_address(target, public_only=True, resolver=resolver)
    else:
        try:  # an IP literal is judged without DNS in every environment
            refused = refusal(ipaddress.ip_address(target.host), public_only=False)
        except ValueError:
            refused = None
        if refused is not None:
            raise UnsafeUrlError(f"Must not be {refused}.")
