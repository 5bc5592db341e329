"""Webhook decisions: which receiver URLs and addresses are allowed, when to try again,
what an answer means. Pure: the caller resolves names and reads the clock.

A webhook must never be a door into the desk's own network (SSRF): a URL whose
host resolves to a loopback, private, link-local, shared (CGNAT), multicast or
reserved address is refused, when subscribing and again at every delivery
(the name may resolve elsewhere by then: DNS rebinding), unless the
configuration allows private networks, or the one the address is in.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_URL_CHARS = 2000


@dataclass(frozen=True)
class AddressPolicy:
    allow_private: bool = False
    allowed: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def of(cls, allow_private: bool, networks: Iterable[str]) -> AddressPolicy:
        return cls(
            allow_private=allow_private,
            allowed=tuple(ipaddress.ip_network(n, strict=False) for n in networks),
        )


@dataclass(frozen=True)
class Target:
    """A receiver URL taken apart: where to connect, and what to ask for there."""

    scheme: str  # http or https
    host: str  # a name or an address literal, as written (no brackets)
    port: int


def parse_url(url: str) -> Target:
    """The target of a receiver URL; ``ValueError`` says why it cannot be one (not http or
    https, no host, credentials in it, a fragment, a bad port, too long)."""
    if len(url) > MAX_URL_CHARS:
        raise ValueError(f"the URL is longer than {MAX_URL_CHARS} characters")
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise ValueError("the URL contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"not a URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError("the URL must start with https:// (or http://)")
    if not parts.hostname:
        raise ValueError("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("the URL must not carry a user name or password")
    if parts.fragment:
        raise ValueError("the URL must not have a #fragment")
    return Target(
        scheme=scheme, host=parts.hostname, port=port or (443 if scheme == "https" else 80)
    )


def address_literal(host: str) -> IPAddress | None:
    """The address a host names literally (``127.0.0.1``, ``::1``), or None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def refusal(address: IPAddress, policy: AddressPolicy) -> str | None:
    """Why a receiver at ``address`` is refused, or None when it may be reached."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1
    if any(address in network for network in policy.allowed):
        return None
    if address.is_global and not address.is_multicast:
        return None
    if address.is_multicast or address.is_unspecified:
        return f"{address} is not a unicast address"
    if policy.allow_private:
        return None
    kind = (
        "loopback"
        if address.is_loopback
        else "link-local"
        if address.is_link_local
        else "private"
        if address.is_private
        else "reserved"
    )
    return (
        f"{address} is a {kind} address: receivers inside the desk's network are refused "
        "(webhooks.allow_private_networks or webhooks.allowed_networks allow them)"
    )


def first_refusal(addresses: Sequence[IPAddress], policy: AddressPolicy) -> str | None:
    """Every address a name resolves to must be allowed (a client may pick any of them)."""
    if not addresses:
        return "the host name resolves to no address"
    for address in addresses:
        why = refusal(address, policy)
        if why is not None:
            return why
    return None


def next_attempt(attempts: int, schedule: Sequence[float], now: datetime) -> datetime | None:
    """When to try again after ``attempts`` failed attempts, or None: out of attempts
    (the schedule's waits, one attempt more than waits)."""
    if attempts < 1 or attempts > len(schedule):
        return None
    return now + timedelta(seconds=schedule[attempts - 1])


def delivered(status: int) -> bool:
    """A 2xx answer is a delivery; anything else (a redirect too: never followed) is not."""
    return 200 <= status < 300


def answer_problem(status: int, location: str | None = None) -> str:
    """What a failed answer is, in words for the delivery's log."""
    if 300 <= status < 400:
        return f"HTTP {status}: redirects are not followed" + (
            f" (to {location[:200]})" if location else ""
        )
    return f"HTTP {status}"
