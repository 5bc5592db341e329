"""Who is looking at a page: the staff gate's caller, or a way to the sign-in page.

Pages take their caller from the same ``StaffGate`` as the JSON API (the session
cookie, and for a form post its ``csrf_token`` field), so scope, roles and the
audit are the API's. Only the answers differ where a person reads them: not
signed in is a redirect to the sign-in page (and back after it), and a refusal
(403, 404, ...) is a page in the reader's language instead of JSON.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from connectors.web.route_paths import url_path
from connectors.web.staff.gate import SESSION_COOKIE, StaffGate, TicketAccess
from connectors.web.workspace.pages import Pages
from router.access import Ability, Verdict, check
from router.staff_views import Caller

PREFIX = "/desk"


class SignInFirst(Exception):
    """The page needs a signed-in caller; ``back`` is where to return afterwards."""

    def __init__(self, back: str) -> None:
        super().__init__(back)
        self.back = back


def local_path(value: object, default: str) -> str:
    """``value`` when it is a path of the workspace (never another site: ``//x``, ``\\x``)."""
    if not isinstance(value, str) or not value.startswith(PREFIX + "/"):
        return default
    if any(c in value for c in ("\\", "\n", "\r")):
        return default
    return value


class PageDoor:
    """Page dependencies over the staff gate."""

    def __init__(self, gate: StaffGate) -> None:
        self.gate = gate

    async def caller(self, request: Request) -> Caller:
        """The signed-in caller (a form post must carry its ``csrf_token``: 403), or a
        redirect to the sign-in page."""
        session = request.cookies.get(SESSION_COOKIE)
        try:
            return await self.gate.caller(request, session=session, token=None)
        except HTTPException as exc:
            if exc.status_code == 401:
                back = request.url.path if request.method == "GET" else PREFIX + "/"
                raise SignInFirst(back) from None
            raise

    async def on_ticket(self, caller: Caller, number: int, ability: Ability) -> TicketAccess:
        """The staff gate's ticket check for a page: 404 outside the caller's scope (as for
        a ticket that does not exist), 403 beyond their role."""
        return await self.gate.on_ticket(ability)(number=number, caller=caller)

    def allowed(self, caller: Caller, ability: Ability) -> None:
        """403 unless ``caller``'s role may do ``ability``."""
        if check(caller.principal, ability) is not Verdict.ALLOWED:
            raise HTTPException(403, detail=ability.value)


def sign_in_redirect(request: Request, exc: SignInFirst) -> Response:
    query = urlencode({"next": exc.back})
    return RedirectResponse(f"{url_path(request, 'workspace_sign_in')}?{query}", status_code=303)


def error_page(pages: Pages) -> object:
    """The app's HTTPException handler: a page for the workspace's paths, JSON elsewhere."""

    async def handle(request: Request, exc: StarletteHTTPException) -> Response:
        if not request.url.path.startswith(PREFIX + "/") or exc.status_code < 400:
            return await http_exception_handler(request, exc)
        response = await pages.page(
            request, "error.html", status=exc.status_code, code=exc.status_code
        )
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    return handle
