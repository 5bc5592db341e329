"""What keeps a form from abuse without a password: a per-address rate, a honeypot field,
and a CSRF token (double submit: a cookie and the same value in the form)."""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque

CSRF_COOKIE = "relaydesk_form"
HONEYPOT = "website"  # a field people never see, so never fill; robots fill every field


class SubmissionRate:
    """At most ``per_minute`` submissions per client address in any minute, in this
    process (each web process counts its own)."""

    def __init__(self, per_minute: int, clock: object = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, address: str) -> int:
        """0 when ``address`` may submit now (the submission is counted); else the
        seconds until it may."""
        now = self._clock()  # type: ignore[operator]
        with self._lock:
            seen = self._seen.setdefault(address, deque())
            while seen and seen[0] <= now - 60:
                seen.popleft()
            if len(seen) >= self.per_minute:
                return max(1, int(seen[0] + 60 - now) + 1)
            seen.append(now)
            if len(self._seen) > 10_000:  # forget the quiet ones
                for quiet in [a for a, s in self._seen.items() if not s]:
                    del self._seen[quiet]
            return 0


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


def csrf_matches(cookie: str | None, field: object) -> bool:
    if not cookie or not isinstance(field, str) or not field:
        return False
    return secrets.compare_digest(cookie.encode(), field.encode())
