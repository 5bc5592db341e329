"""How many web submissions a client address may make in a minute, whatever the number
of web processes: the store counts them per address in a fixed window of a minute
(``store.sign_in_failures``: one atomic INSERT ... ON CONFLICT DO UPDATE per count, the
table sign-in failures are counted in, under keys of their own). Every try counts, a
refused one too, so a client hammering the form waits until its window closes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from router.sign_in_limits import FailureCount, address_key

SUBMISSION_WINDOW = timedelta(minutes=1)
KEY_PREFIX = "submissions:"


def submission_key(address: str | None) -> str:
    """The key an address's submissions are counted under (IPv6 by its /64)."""
    return KEY_PREFIX + address_key(address)


def submission_wait(count: FailureCount, per_minute: int, now: datetime) -> timedelta | None:
    """How long the address must wait, once ``count`` includes this try; None: it may."""
    if count.failures <= per_minute:
        return None
    return max(count.window_started_at + SUBMISSION_WINDOW - now, timedelta(0))
