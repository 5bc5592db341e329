"""What keeps a form from abuse without a password: a per-address rate, a honeypot field,
and a CSRF token (double submit: a cookie and the same value in the form).

Every form a requester posts without an account (``/``, ``/forms/<slug>``) is guarded by
one ``SubmissionGuard``: the page hands out the token (``token`` then ``hand_out``), the
post is checked (``check``) before anything is read further, in the order a refusal is
cheapest: the token (403, counted nowhere), the rate (429 with Retry-After, counted in the
store), the honeypot (a thank-you that keeps nothing). The JSON API is none of this: a
program sends no cookie, and its idempotency key is its own.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from connectors.ports import RequesterDesk
from router.catalogs import N_, Catalog

R = TypeVar("R", bound=Response)
CSRF_COOKIE = "relaydesk_form"
CSRF_FIELD = "csrf"
HONEYPOT = "website"  # a field people never see, so never fill; robots fill every field
CATALOG = Catalog.beside(__file__)
PARTIALS = Path(__file__).resolve().parent / "templates"
"""Where ``_submission_guard.html`` is, for a page of another directory to include."""


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


class Refusal(StrEnum):
    """Why a guarded post was not taken; its value is what a page's template is given."""

    FORGED = "csrf"
    TOO_MANY = "rate"


REFUSAL_STATUS = {Refusal.FORGED: 403, Refusal.TOO_MANY: 429}
_REFUSAL_WORDS = {
    Refusal.FORGED: N_(
        "This page was open too long or came from elsewhere: please check the form and "
        "send it again."
    ),
    Refusal.TOO_MANY: N_(
        "You have sent many requests in a short time: please wait a minute and send it again."
    ),
}


def refusal_words(refusal: Refusal, language: str) -> str:
    """What the reader is told when their post was refused, in ``language``."""
    return CATALOG.texts(language).gettext(_REFUSAL_WORDS[refusal])


@dataclass(frozen=True)
class Verdict:
    """A guarded post: refused (and why, and for how long), a robot's (``trapped``: answer
    as if taken, keep nothing), or to be taken."""

    refused: Refusal | None = None
    retry_after: int = 0
    trapped: bool = False

    @property
    def status(self) -> int:
        return REFUSAL_STATUS[self.refused] if self.refused else 200

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.retry_after else {}


# the honeypot's label: nobody sees it, but a screen reader or a page read as text might
TRAP_LABEL = N_("Website")


@dataclass(frozen=True)
class GuardFields:
    """What a page's form prints for the guard (``templates/_submission_guard.html``);
    ``trap_label`` in the page's language (the guard's words are in this catalog, which
    the web form at ``/`` does not read)."""

    token: str
    trap_label: str
    csrf_field: str = CSRF_FIELD
    honeypot: str = HONEYPOT


class SubmissionGuard:
    """The CSRF token, the rate per address (when the desk counts: ``rate``) and the
    honeypot of the requester's forms."""

    def __init__(self, rate: SubmissionRate | None) -> None:
        self.rate = rate

    def fields(self, request: Request, language: str) -> GuardFields:
        """What a page in ``language`` prints in its form: the browser's token, else a
        new one."""
        return GuardFields(
            request.cookies.get(CSRF_COOKIE) or new_csrf_token(),
            CATALOG.texts(language).gettext(TRAP_LABEL),
        )

    def hand_out(self, response: R, fields: GuardFields) -> R:
        """Sets the token's cookie on the page that prints ``fields``."""
        response.set_cookie(CSRF_COOKIE, fields.token, httponly=True, samesite="strict")
        return response

    async def check(self, request: Request, token: object, trap: object) -> Verdict:
        """The verdict on a post whose form carried ``token`` and the honeypot ``trap``."""
        if not csrf_matches(request.cookies.get(CSRF_COOKIE), token):
            return Verdict(Refusal.FORGED)
        if self.rate is not None:
            wait = await self.rate.retry_after(client_address(request))
            if wait:
                return Verdict(Refusal.TOO_MANY, retry_after=wait)
        return Verdict(trapped=isinstance(trap, str) and bool(trap))


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


def csrf_matches(cookie: str | None, field: object) -> bool:
    if not cookie or not isinstance(field, str) or not field:
        return False
    return secrets.compare_digest(cookie.encode(), field.encode())
