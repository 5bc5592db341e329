"""How many failed sign-ins an account or a client address may make before it must wait.

A fixed window per key: the first failure opens a window of ``window``; each
failure in it counts; once ``max_failures`` have been counted, sign-in with
that key is refused until the window closes (the answer says when). A success
forgets the account's failures, never the address's: one valid password must
not reset the count of an address trying many accounts.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class FailureCount:
    """The failures counted for one key (``account:ana``, ``address:203.0.113.9``)."""

    failures: int
    window_started_at: datetime


@dataclass(frozen=True)
class SignInLimit:
    max_failures: int
    window: timedelta

    def window_open(self, count: FailureCount, now: datetime) -> bool:
        return now < count.window_started_at + self.window

    def after_failure(self, count: FailureCount | None, now: datetime) -> FailureCount:
        """The count once another failure is recorded (the store does the same atomically)."""
        if count is None or not self.window_open(count, now):
            return FailureCount(failures=1, window_started_at=now)
        return FailureCount(failures=count.failures + 1, window_started_at=count.window_started_at)

    def wait(self, count: FailureCount | None, now: datetime) -> timedelta | None:
        """How long sign-in with this key must wait, or None when it may try now."""
        if count is None or not self.window_open(count, now):
            return None
        if count.failures < self.max_failures:
            return None
        return count.window_started_at + self.window - now


def retry_after_seconds(wait: timedelta) -> int:
    """A ``Retry-After`` value: whole seconds, rounded up, at least 1."""
    return max(1, math.ceil(wait.total_seconds()))


def account_key(name: str) -> str:
    return f"account:{name.strip().lower()[:100]}"


def address_key(address: str | None) -> str:
    """The key an address's failures count under: IPv4 as it is, IPv6 by its /64 (one
    subscriber is handed a whole /64)."""
    if not address:
        return "address:unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"address:{address[:100]}"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return f"address:{ip.ipv4_mapped}"
        return f"address:{ipaddress.ip_network(f'{ip}/64', strict=False)}"
    return f"address:{ip}"
