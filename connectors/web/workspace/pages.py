"""How a workspace page is made: the reader's language and zone, the frame, the headers.

Every page is a Jinja2 template of ``connectors/web/templates/`` rendered with the
web catalog's texts (``connectors/web/locale``) in the reader's language: the agent's configured
``language``, else what their browser asks for (Accept-Language), else the desk's.
Times are shown in the agent's ``timezone`` (else the desk's). Customers' words are
escaped like everything else (autoescape); no template marks anything ``safe``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from config.settings import Settings
from connectors.ports import Staff
from connectors.web.form_titles import FormTitles
from connectors.web.route_paths import url_path
from connectors.web.templating import CATALOG, TEMPLATES, page_environment, render
from router.catalogs import Texts
from router.language_choice import stated_language
from router.staff_views import Caller

STATIC = Path(__file__).resolve().parent.parent / "static"

HEADERS = {
    # our own styles and script only; nothing inline, nothing from elsewhere
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; script-src 'self'; "
    "img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class Unread:
    """Not read yet (``Pages.page``'s ``own_status``: None is a value, no agent)."""


UNREAD = Unread()


class Pages:
    """Renders the workspace's templates for one request."""

    def __init__(self, settings: Settings, desk: Staff) -> None:
        self.env = page_environment(TEMPLATES)
        self.desk = desk
        self.desk_name = settings.helpdesk.name
        self.default_language = settings.helpdesk.language
        self.default_zone = settings.helpdesk.timezone
        self.agents = {a.name: a for a in settings.agents}
        self.team_names = sorted(t.name for t in settings.teams)
        self.web = settings.web
        self.form_titles = FormTitles(settings)

    def texts(self, request: Request, caller: Caller | None = None) -> Texts:
        configured = self.agents.get(caller.principal.name) if caller else None
        language = (
            (configured.language if configured else "")
            or stated_language(request.headers.get("accept-language", ""))
            or self.default_language
        )
        return CATALOG.texts(language)

    def zone(self, caller: Caller | None) -> str:
        configured = self.agents.get(caller.principal.name) if caller else None
        return configured.timezone if configured else self.default_zone

    async def page(
        self,
        request: Request,
        template: str,
        caller: Caller | None = None,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        own_status: str | Unread | None = UNREAD,
        **values: Any,
    ) -> HTMLResponse:
        """``template`` as a response; with ``caller``, inside the signed-in frame (the
        header with their own status, the navigation, the CSRF token for its forms). A
        page that read the caller's ``own_status`` with its own facts passes it (else it
        is read here, in a transaction of its own)."""
        frame: dict[str, Any] = {
            "caller": caller,
            "own_status": None,
            "csrf_token": "",
            "supervises": False,
            "now": self.desk.now(),
        }
        if caller is not None:
            frame["csrf_token"] = caller.csrf_token or ""
            if isinstance(own_status, Unread):
                own_status = await run_in_threadpool(self.desk.own_status, caller)
            frame["own_status"] = own_status
            frame["supervises"] = caller.principal.role.value != "agent"
        html = render(
            self.env,
            template,
            self.texts(request, caller),
            zone=self.zone(caller),
            desk_name=self.desk_name,
            url=lambda name, **params: url_path(request, name, **params),
            static=lambda path: url_path(request, "workspace_static", path=path),
            here=request.url.path,
            **frame,
            **values,
        )
        return HTMLResponse(html, status_code=status, headers={**HEADERS, **(headers or {})})
