"""What a requester sees for a link that opens nothing (a ticket with another key, a
form or a file that is not there): a page in their language for a browser, the same
404 JSON as ever for a program."""

from __future__ import annotations

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from config.settings import Settings
from connectors.web.requester.negotiation import wants_html
from connectors.web.requester.ticket_page import CATALOG, HEADERS, TEMPLATES, url_path
from connectors.web.templating import render
from router.language_choice import requester_language


def not_found_handler(settings: Settings):  # type: ignore[no-untyped-def]
    """The app's handler of ``RequesterNotFound``."""

    async def not_found(request: Request, exc: Exception) -> Response:
        detail = exc.detail if isinstance(exc, HTTPException) else "not found"
        if not wants_html(request.headers.get("Accept", "")):
            return JSONResponse({"detail": detail}, status_code=404)
        language = requester_language(
            chosen=request.query_params.get("lang", "")[:35],
            stated=request.headers.get("Accept-Language", "")[:500],
            default=settings.helpdesk.language,
        )
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
