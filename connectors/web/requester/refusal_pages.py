"""What a requester's browser is shown when a request is refused before any page
handles it, in their language: a link that opens nothing (a ticket with another key, a
form or a file that is not there: 404), a form or message too large to read (413). A
program gets the same JSON as ever."""

from __future__ import annotations

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.types import Scope

from config.settings import Settings
from connectors.web.limits import TooLargePage
from connectors.web.requester.negotiation import wants_html
from connectors.web.requester.page_language import language_of_page
from connectors.web.requester.ticket_page import CATALOG, HEADERS, TEMPLATES, url_path
from connectors.web.templating import render


def not_found_handler(settings: Settings):  # type: ignore[no-untyped-def]
    """The app's handler of ``RequesterNotFound``."""

    async def not_found(request: Request, exc: Exception) -> Response:
        detail = exc.detail if isinstance(exc, HTTPException) else "not found"
        if not wants_html(request.headers.get("Accept", "")):
            return JSONResponse({"detail": detail}, status_code=404)
        language = language_of_page(request, settings)
        html = render(
            TEMPLATES,
            "not_found.html",
            CATALOG.texts(language),
            zone=settings.helpdesk.timezone,
            desk=settings.helpdesk.name,
            my_requests=url_path(request, "my_requests"),
            new_request=url_path(request, "show_form"),
        )
        return HTMLResponse(html, status_code=404, headers=HEADERS)

    return not_found


PAGES = ("/requests/", "/forms/")  # what a requester's browser posts files to


def too_large_page(settings: Settings) -> TooLargePage:
    """``BodySizeLimit``'s page for a requester's browser posting too much to a page."""

    def page(scope: Scope, limit: int) -> str | None:
        headers = Headers(scope=scope)
        path = str(scope.get("path", ""))
        if not path.startswith(PAGES) or not wants_html(headers.get("Accept", "")):
            return None
        return render(
            TEMPLATES,
            "too_large.html",
            CATALOG.texts(language_of_page(HTTPConnection(scope), settings)),
            zone=settings.helpdesk.timezone,
            desk=settings.helpdesk.name,
            megabytes=max(1, limit // 1_000_000),
        )

    return page
