"""The staff API's door: who is asking (session cookie or bearer token), CSRF, role and scope.

Every staff endpoint takes its caller from ``StaffGate``, in one of three ways:

- ``Depends(gate.caller)``: anyone signed in (401 otherwise);
- ``Depends(gate.allowed(Ability.X))``: and their role may do X (403 otherwise);
- ``Depends(gate.on_ticket(Ability.X))``: the ticket ``{number}`` of the path is in the
  caller's scope (404 as if it did not exist otherwise) and their role may do X on it
  (403 otherwise); gives a ``TicketAccess`` (the caller and the ticket's scope facts);
- ``Depends(gate.acting_on())``: the caller and ``{number}``, for a use case that makes the
  same decision itself on the row it locks (a reply, a note: one statement less).

A request with ``Authorization: Bearer <token>`` is a program's; without, the
session cookie is read. A cookie-authenticated request with an unsafe method
must carry the session's CSRF token, as the ``X-CSRF-Token`` header (scripts)
or the ``csrf_token`` field of a form (the workspace's HTML forms): checked
here, in one place. Changes are recorded with ``caller.origin`` as the actor,
which names the account or token and the client's address.
"""

# no `from __future__ import annotations`: FastAPI reads these endpoints' annotations at
# run time, and they name dependencies made inside functions (no module global to resolve)

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, HTTPException, Path, Request, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from connectors.ports import StaffAuth, StaffDesk
from connectors.web.schemas import ID, Problem, ValidationProblems
from router.access import Ability, TicketScope, Verdict, check, refusal, ticket_verdict
from router.staff_views import Caller
from router.storable import is_id

SESSION_COOKIE = "relaydesk_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

session_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    scheme_name="session",
    description="The cookie `POST /api/v1/session` sets (HttpOnly, SameSite=Lax). A request "
    f"with an unsafe method must also send the session's CSRF token as `{CSRF_HEADER}` "
    f"(or as the form field `{CSRF_FIELD}`); `GET /api/v1/me` gives it.",
    auto_error=False,
)
bearer_token = HTTPBearer(
    scheme_name="token",
    bearerFormat="rdk_...",
    description="An API token (`relaydesk tokens create`, or `POST /api/v1/tokens`): "
    "`Authorization: Bearer rdk_...`. No CSRF token is needed.",
    auto_error=False,
)

UNAUTHENTICATED = {"model": Problem, "description": "Not signed in: no valid session or token."}
FORBIDDEN = {
    "model": Problem,
    "description": "The caller's role may not do this; or, with the session cookie, the "
    "CSRF token of an unsafe request is missing or wrong.",
}
HIDDEN = {"model": Problem, "description": "No such ticket in the caller's scope."}
INVALID = {"model": ValidationProblems, "description": "The request cannot be taken as it is."}
UNAVAILABLE = {
    "model": Problem,
    "description": "The helpdesk is unavailable: retry after Retry-After.",
}
AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: UNAUTHENTICATED,
    403: FORBIDDEN,
    422: INVALID,
    503: UNAVAILABLE,
}
TICKET_ERRORS: dict[int | str, dict[str, Any]] = {**AUTH_ERRORS, 404: HIDDEN}

T = TypeVar("T")


@dataclass(frozen=True)
class TicketAccess:
    caller: Caller
    ticket: TicketScope


@dataclass(frozen=True)
class TicketAction:
    """A caller acting on ticket ``number``, whose scope the use case checks on the row it
    locks for the change (``OutOfScope``: 404, ``NotAllowed``: 403)."""

    caller: Caller
    number: int


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def unauthenticated(detail: str) -> HTTPException:
    return HTTPException(401, detail=detail, headers={"WWW-Authenticate": 'Bearer realm="staff"'})


def forbidden(caller: Caller, ability: Ability) -> HTTPException:
    """403: the caller's role may not do ``ability`` (``Verdict.FORBIDDEN``)."""
    return HTTPException(403, detail=refusal(caller.principal, ability))


def ticket_not_found(number: int) -> HTTPException:
    """404: ticket ``number`` is outside the caller's scope or does not exist, answered
    alike (``Verdict.HIDDEN``)."""
    return HTTPException(404, detail=f"ticket {number} not found")


def granted(verdict: Verdict, found: T | None, caller: Caller, ability: Ability, number: int) -> T:
    """What was read of ticket ``number`` (its scope, the ticket, a page's facts) when
    ``router.access.ticket_verdict`` allows ``ability``; else its answer: 404 for
    ``HIDDEN``, 403 for ``FORBIDDEN``."""
    if verdict is Verdict.FORBIDDEN:
        raise forbidden(caller, ability)
    if verdict is not Verdict.ALLOWED or found is None:
        raise ticket_not_found(number)
    return found


class StaffGate:
    def __init__(self, auth: StaffAuth, desk: StaffDesk) -> None:
        self.auth = auth
        self.desk = desk

    async def caller(
        self,
        request: Request,
        session: Annotated[str | None, Security(session_cookie)] = None,
        token: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_token)] = None,
    ) -> Caller:
        """The signed-in caller of this request, or 401."""
        address = client_address(request)
        # a caller the process remembers is answered here, without a thread for the store
        if token is not None:
            secret = token.credentials
            caller = self.auth.remembered_caller(secret, token=True, address=address)
            if caller is None:
                caller = await run_in_threadpool(self.auth.token_caller, secret, address=address)
            if caller is None:
                raise unauthenticated("the API token is unknown, expired or revoked")
            return caller
        if session:
            caller = self.auth.remembered_caller(session, token=False, address=address)
            if caller is None:
                caller = await run_in_threadpool(self.auth.session_caller, session, address=address)
            if caller is None:
                raise unauthenticated("the session has ended: sign in again")
            if request.method not in SAFE_METHODS:
                await _check_csrf(request, caller)
            return caller
        raise unauthenticated(
            "sign in first (POST /api/v1/session) or send Authorization: Bearer <API token>"
        )

    def allowed(self, ability: Ability) -> Callable[..., Awaitable[Caller]]:
        """A dependency: the caller, when their role may do ``ability`` (else 403)."""

        async def allowed_caller(caller: Annotated[Caller, Depends(self.caller)]) -> Caller:
            if check(caller.principal, ability) is not Verdict.ALLOWED:
                raise forbidden(caller, ability)
            return caller

        return allowed_caller

    def on_ticket(self, ability: Ability) -> Callable[..., Awaitable[TicketAccess]]:
        """A dependency for paths with ``{number}``: the ticket, when in the caller's scope
        (else 404, as for a ticket that does not exist) and their role may do ``ability``
        on it (else 403)."""

        async def ticket_access(
            number: Annotated[int, Path(description="The ticket number.", **ID)],
            caller: Annotated[Caller, Depends(self.caller)],
        ) -> TicketAccess:
            scope = (
                await run_in_threadpool(self.desk.ticket_scope, number) if is_id(number) else None
            )
            verdict = ticket_verdict(caller.principal, ability, scope)
            ticket = granted(verdict, scope, caller, ability, number)
            return TicketAccess(caller=caller, ticket=ticket)

        return ticket_access

    def acting_on(self) -> Callable[..., Awaitable[TicketAction]]:
        """A dependency for an action on ``{number}`` whose use case decides the scope and the
        role on the ticket's locked row, in its own transaction (what ``on_ticket`` decides
        with a statement of its own before it); a number out of range is 404 here."""

        async def ticket_action(
            number: Annotated[int, Path(description="The ticket number.", **ID)],
            caller: Annotated[Caller, Depends(self.caller)],
        ) -> TicketAction:
            if not is_id(number):
                raise ticket_not_found(number)
            return TicketAction(caller=caller, number=number)

        return ticket_action


async def _check_csrf(request: Request, caller: Caller) -> None:
    """An unsafe request on a session must carry the session's CSRF token (403 if not)."""
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(FORM_TYPES):
        field = (await request.form()).get(CSRF_FIELD)
        given = field if isinstance(field, str) else None
    expected = caller.csrf_token or ""
    if not given or not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(
            403,
            detail=f"the CSRF token is missing or wrong: send the session's csrf_token "
            f"(GET /api/v1/me) as the {CSRF_HEADER} header",
        )
