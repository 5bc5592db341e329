"""What keeps a form from abuse without a password: a per-address rate, a honeypot field,
and a CSRF token (double submit: a cookie and the same value in the form)."""

from __future__ import annotations

import secrets

from starlette.concurrency import run_in_threadpool

from connectors.ports import RequesterDesk

CSRF_COOKIE = "relaydesk_form"
HONEYPOT = "website"  # a field people never see, so never fill; robots fill every field


class SubmissionRate:
    """At most ``web.submissions_per_minute`` submissions per client address in a minute,
    counted in the store (``RequesterDesk.count_submission``): every web process shares
    the count."""

    def __init__(self, desk: RequesterDesk) -> None:
        self.desk = desk

    async def retry_after(self, address: str | None) -> int:
        """0 when ``address`` may submit now (the submission is counted); else the
        seconds until it may."""
        return int(await run_in_threadpool(self.desk.count_submission, address))


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


def csrf_matches(cookie: str | None, field: object) -> bool:
    if not cookie or not isinstance(field, str) or not field:
        return False
    return secrets.compare_digest(cookie.encode(), field.encode())
