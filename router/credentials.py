"""When a session or an API token may still be used, and how long a token lives.

Pure decisions over stored timestamps and an explicit ``now``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

TOKEN_PREFIX = "rdk_"  # every API token starts so: a secret scanner can recognise it
_LIFETIME = re.compile(r"^\s*(\d{1,6})\s*([mhdw])\s*$")
_UNIT = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
MAX_LIFETIME = timedelta(days=3660)
NEVER = ("never", "none", "0")
TOKEN_USE_EVERY = timedelta(seconds=60)  # a token's last use is written at most this often


def secret_hash(secret: str) -> str:
    """What the store keeps of a session's or a token's secret (256 random bits: a fast
    hash is enough, and lets a request find its row by it)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_lifetime(text: str) -> timedelta | None:
    """``"30d"`` -> 30 days (also ``m`` minutes, ``h`` hours, ``w`` weeks; wall-clock time);
    ``"never"`` -> None. Raises ``ValueError`` naming what is accepted."""
    if text.strip().lower() in NEVER:
        return None
    match = _LIFETIME.match(text.lower())
    if match is None or int(match[1]) == 0:
        raise ValueError(
            f"{text!r} is not a lifetime: write a number and a unit, e.g. 90m, 12h, 30d, 8w, "
            "or never"
        )
    lifetime = timedelta(seconds=int(match[1]) * _UNIT[match[2]])
    if lifetime > MAX_LIFETIME:
        raise ValueError(f"{text!r} is too long: at most 10 years (or never)")
    return lifetime


@dataclass(frozen=True)
class SessionPolicy:
    """A session ends ``idle`` after its last request, and ``max_age`` after sign-in."""

    idle: timedelta
    max_age: timedelta
    touch_every: timedelta = timedelta(seconds=60)  # last seen is written at most this often

    def expires_at(self, created_at: datetime, last_seen_at: datetime) -> datetime:
        return min(last_seen_at + self.idle, created_at + self.max_age)

    def alive(
        self,
        *,
        created_at: datetime,
        last_seen_at: datetime,
        revoked_at: datetime | None,
        now: datetime,
    ) -> bool:
        return revoked_at is None and now < self.expires_at(created_at, last_seen_at)

    def needs_touch(self, last_seen_at: datetime, now: datetime) -> bool:
        return now - last_seen_at >= self.touch_every


def token_usable(
    *, expires_at: datetime | None, revoked_at: datetime | None, now: datetime
) -> bool:
    return revoked_at is None and (expires_at is None or now < expires_at)


def token_use_worth_recording(
    *,
    last_used_at: datetime | None,
    last_used_from: str | None,
    address: str | None,
    now: datetime,
    every: timedelta = TOKEN_USE_EVERY,
) -> bool:
    """A token's last use is written when the address changes or once a minute, not on
    every request (a busy integration would otherwise write on each one)."""
    return last_used_at is None or last_used_from != address or now - last_used_at >= every
