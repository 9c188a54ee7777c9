"""Where webhooks may go: a public address only, checked after resolution and pinned for the connection.

A callback URL's host is resolved and *every* address it resolves to must be public: loopback, private,
link-local (the cloud metadata service 169.254.169.254 among them), CGNAT (100.64/10), multicast,
unspecified, reserved and documentation ranges are refused, in IPv4, IPv6 and the IPv6 forms that carry an
IPv4 address (mapped, compatible, 6to4, NAT64, Teredo). Integer, hex, octal and short IPv4 spellings
(2130706433, 0x7f000001, 127.1) are whatever the system resolver makes of them, so they are checked as the
address they become. Metadata host names are refused by name as well.

The connection then goes to the address that was checked (the URL's host is replaced by it; ``Host`` and
TLS SNI keep the original name), so a name that resolves differently a moment later (DNS rebinding) cannot
steer the request inside. ``PLASTINKA_WEBHOOK_ALLOWED_HOSTS`` lists host names, addresses or networks an
operator trusts; those are let through (still pinned).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]

#: Names refused whatever they resolve to: the cloud metadata services and the local host.
BLOCKED_NAMES = frozenset(
    {
        "localhost",
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "metadata.azure.internal",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
#: Not public, beyond what ``ipaddress``'s ``is_global`` already says.
_EXTRA_BLOCKED: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(n)
    for n in ("100.64.0.0/10", "192.0.0.0/24", "198.18.0.0/15", "240.0.0.0/4", "224.0.0.0/4", "ff00::/8")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_COMPAT = ipaddress.ip_network("::/96")
RESOLVE_TIMEOUT_S = 5.0
#: The privileged ports a public callback may use: the web's own. Any port from 1024 up is allowed (receivers
#: often listen on 8080 or 8443); a public host's 22, 25 or 110 is not a webhook receiver, and letting callbacks
#: reach it would make the server a probe of other people's mail and shell services.
WEB_PORTS = frozenset({80, 443})
FIRST_UNPRIVILEGED_PORT = 1024


class RefusedDestination(ValueError):
    """A callback URL that may not be called: the message says which host or address and why."""


class UnresolvedDestination(RefusedDestination):
    """The host did not resolve (now): refused at submission, retried at delivery."""


def normal_host(host: str) -> str:
    return host.strip().rstrip(".").lower().strip("[]")


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, compatible, 6to4, NAT64, Teredo client), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64 or (address in _COMPAT and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: IPAddress) -> bool:
    """True for an address on the public internet (and for an IPv6 one, the IPv4 address it carries too)."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None and not is_public(inner):
            return False
    if not address.is_global or address.is_multicast or address.is_reserved:
        return False
    return not any(address.version == net.version and address in net for net in _EXTRA_BLOCKED)


@dataclass(frozen=True)
class EgressPolicy:
    """The allow-list: names (exact, case-insensitive) and networks an operator trusts."""

    names: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, text: str) -> EgressPolicy:
        """``"hooks.example.com, 10.0.0.0/8, 127.0.0.1"``: comma- or space-separated names, IPs and networks."""
        names: set[str] = set()
        networks: list[IPNetwork] = []
        for item in text.replace(",", " ").split():
            try:
                networks.append(ipaddress.ip_network(normal_host(item), strict=False))
            except ValueError:
                names.add(normal_host(item))
        return cls(frozenset(names), tuple(networks))

    def trusts_name(self, host: str) -> bool:
        return normal_host(host) in self.names

    def trusts_address(self, address: IPAddress) -> bool:
        return any(address.version == n.version and address in n for n in self.networks)


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host`` (numeric spellings included, as a connect would)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True)
class Destination:
    """A checked callback: the URL as given and the address it is pinned to."""

    url: httpx.URL
    address: str

    @property
    def pinned_url(self) -> httpx.URL:
        return self.url.copy_with(host=self.address)

    def request_options(self) -> dict[str, Any]:
        """``headers`` and ``extensions`` that keep the original name in ``Host`` and in TLS SNI."""
        options: dict[str, Any] = {"headers": {"Host": self.url.netloc.decode("ascii")}}
        if self.url.scheme == "https":
            options["extensions"] = {"sni_hostname": self.url.host}
        return options


async def check(url: str, policy: EgressPolicy, resolver: Resolver = system_resolver) -> Destination:
    """Resolve ``url``'s host and pin it to an allowed address; raise :class:`RefusedDestination` otherwise."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise RefusedDestination(f"not a URL: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise RefusedDestination("only http and https URLs with a host can be called back")
    host = normal_host(parsed.host)
    trusted = policy.trusts_name(host)
    if not trusted and (host in BLOCKED_NAMES or host.endswith(".localhost")):
        raise RefusedDestination(f"host {host!r} is a local or metadata name")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_S):
            addresses = await resolver(host, port)
    except (OSError, TimeoutError, UnicodeError) as exc:
        raise UnresolvedDestination(f"host {host!r} does not resolve: {exc}") from None
    if not addresses:
        raise UnresolvedDestination(f"host {host!r} does not resolve")
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if trusted or policy.trusts_address(address):
            continue
        if not is_public(address):
            raise RefusedDestination(
                f"host {host!r} resolves to {address}, which is not a public address "
                "(loopback, private, link-local, metadata, CGNAT, multicast or reserved); "
                "an operator can trust it with PLASTINKA_WEBHOOK_ALLOWED_HOSTS"
            )
        if port < FIRST_UNPRIVILEGED_PORT and port not in WEB_PORTS:
            raise RefusedDestination(
                f"port {port} of a public host: a callback may use port 80, 443 or any port from "
                f"{FIRST_UNPRIVILEGED_PORT} up; an operator can trust the host with PLASTINKA_WEBHOOK_ALLOWED_HOSTS"
            )
    return Destination(parsed, addresses[0].split("%", 1)[0])
