"""'My requests': a requester asks for a one-time sign-in link by mail (no password),
follows it (a page with a button: a mail scanner's GET does not use it up), and sees
all their tickets, newest first, each linking to its page."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from config.settings import Settings
from connectors.ports import RequesterDesk
from connectors.web.requester.page_language import language_of_page, remember_choice
from connectors.web.requester.submission_guard import (
    CSRF_COOKIE,
    SubmissionRate,
    csrf_matches,
    new_csrf_token,
)
from connectors.web.requester.ticket_page import CATALOG, HEADERS, TEMPLATES
from connectors.web.route_paths import url_path
from connectors.web.templating import render
from connectors.web.text_fields import check_email_address
from router.requester_view import capitalised, requester_state
from router.vocabulary import Status
from router.vocabulary_texts import requester_state_word

SESSION_COOKIE = "relaydesk_requester"


class MyRequestsPage:
    def __init__(self, settings: Settings, desk: RequesterDesk, rate: SubmissionRate) -> None:
        self.settings = settings
        self.desk = desk
        self.rate = rate

    def language(self, request: Request, secret: str | None = None) -> str:
        """The page's language (``page_language``); known, when ``secret`` (the requester's
        session or sign-in link) says whose page it is, their stored language."""
        return language_of_page(request, self.settings, self._known(secret))

    def _known(self, secret: str | None) -> str | None:
        return self.desk.requester_language(secret[:100]) if secret else None

    def _render(
        self, request: Request, template: str, language: str, status: int = 200, **values: Any
    ) -> Any:
        html = render(
            TEMPLATES,
            template,
            CATALOG.texts(language),
            zone=self.settings.helpdesk.timezone,
            desk=self.settings.helpdesk.name,
            **values,
        )
        return remember_choice(request, HTMLResponse(html, status_code=status, headers=HEADERS))

    def _ask(self, request: Request, step: str, status: int = 200, **values: Any) -> Response:
        token = request.cookies.get(CSRF_COOKIE) or new_csrf_token()
        response = self._render(
            request,
            "sign_in.html",
            self.language(request),
            status,
            step=step,
            csrf=token,
            action=url_path(request, "ask_sign_in_link"),
            **values,
        )
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict")
        return response

    async def show(self, request: Request) -> Response:
        session = request.cookies.get(SESSION_COOKIE)
        tickets = await run_in_threadpool(self.desk.my_tickets, session) if session else None
        if tickets is None:
            return self._ask(request, "ask")
        language = await run_in_threadpool(self.language, request, session)
        rows = [
            {
                "ticket": t,
                "state": requester_state(Status(t.status)).value,
                "state_word": capitalised(requester_state_word(t.status, language)),
                "link": url_path(request, "get_ticket", number=t.number) + f"?key={t.access_key}",
            }
            for t in tickets
        ]
        return self._render(request, "my_requests.html", language, rows=rows)

    async def ask_link(self, request: Request) -> Response:
        async with request.form(max_files=0) as form:
            email, csrf = str(form.get("email") or "").strip(), form.get("csrf")
        if not csrf_matches(request.cookies.get(CSRF_COOKIE), csrf):
            return self._ask(request, "csrf", 403, email=email)
        wait = await self.rate.retry_after(request.client.host if request.client else None)
        if wait:
            response = self._ask(request, "rate", 429, email=email)
            response.headers["Retry-After"] = str(wait)
            return response
        try:
            address = check_email_address(email)
        except ValueError:
            return self._ask(request, "invalid", 422, email=email)
        await run_in_threadpool(
            lambda: self.desk.send_sign_in_link(
                address,
                link_base=self.settings.web.link_base(),
                language=self.language(request),
            )
        )
        return self._ask(request, "sent", email=address)  # the same whether known or not

    def confirm(self, request: Request, secret: str) -> Response:
        action = url_path(request, "use_sign_in_link", secret=secret)
        language = self.language(request, secret)  # the link's requester's
        return self._render(
            request, "sign_in.html", language, step="confirm", action=action, csrf=""
        )

    async def use_link(self, request: Request, secret: str) -> Response:
        session = await run_in_threadpool(self.desk.sign_in, secret[:100])
        if session is None:
            return self._ask(request, "expired", 410)
        response = RedirectResponse(url_path(request, "my_requests"), 303)
        response.set_cookie(
            SESSION_COOKIE,
            session,
            max_age=7 * 24 * 3600,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
        return response
