"""The requester's ticket page: the ticket link, opened in a browser.

``GET /api/v1/tickets/{number}?key=...`` answers this page to a browser (and
JSON to a program, ``connectors.web.requester.negotiation``); the page's forms
post here: a message (with files) through the same intake as every message,
"this solved it" (closes a resolved ticket) and "I still need help" (a message
that reopens it). The access key, a hidden field of each form, is what
authorises them: a page elsewhere cannot post without knowing it, so it is the
forms' CSRF token as well. Each form also carries a nonce: a double click or a
reload of the POST adds the message once.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from config.settings import Settings
from connectors.ports import Receipt, RequesterDesk, TicketQueries
from connectors.web.requester.errors import RequesterNotFound
from connectors.web.requester.page_language import language_of_page, remember_choice
from connectors.web.route_paths import url_path
from connectors.web.templating import page_environment, render
from connectors.web.uploads import check_uploads
from router.catalogs import Catalog
from router.envelopes import AttachmentRef, InboundMessage
from router.errors import PermanentError, TransientError
from router.ratings import MAX_COMMENT_CHARS, RatedVia, RatingView
from router.requester_view import (
    author_name,
    can_confirm,
    can_reply,
    capitalised,
    handler_name,
    requester_state,
    waits_for_requester,
)
from router.storable import is_id
from router.ticket_merges import MAX_HOPS
from router.ticket_views import TicketView
from router.vocabulary import Channel, Direction, Status
from router.vocabulary_texts import requester_state_word

CATALOG = Catalog.beside(__file__)
"""The requester's pages' texts."""
TEMPLATES = page_environment(CATALOG.directory.parent / "templates")
MAX_MESSAGE_CHARS = 100_000
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the link carries the key: never pass it on
    "Cache-Control": "no-store",
    "Vary": "Accept, Accept-Language",
}
_NONCE = re.compile(r"[0-9a-f]{32}")

Accept = Callable[[InboundMessage], Awaitable[Receipt]]


def key_matches(given: object, expected: str | None) -> bool:
    """Constant-time; a missing key on either side never matches."""
    if not isinstance(given, str) or not given or not expected:
        return False
    return secrets.compare_digest(given.encode(), expected.encode())


class TicketPage:
    """Renders the page and takes its forms."""

    def __init__(
        self, settings: Settings, tickets: TicketQueries, desk: RequesterDesk, accept: Accept
    ) -> None:
        self.settings = settings
        self.tickets = tickets
        self.desk = desk
        self.accept = accept

    def language(self, request: Request, view: TicketView) -> str:
        """The page's language (``page_language``): known, the ticket's requester's."""
        return language_of_page(request, self.settings, view.requester_language)

    def render(
        self,
        request: Request,
        view: TicketView,
        *,
        status: int = 200,
        problems: Mapping[str, Any] | None = None,
        body: str = "",
        notice: str = "",
    ) -> HTMLResponse:
        current = Status(view.status)
        link = ticket_link(request, view)
        language = self.language(request, view)
        rating = (
            self.desk.rating(view.number)
            if current in (Status.RESOLVED, Status.CLOSED)
            else RatingView(can_rate=False)
        )
        html = render(
            TEMPLATES,
            "ticket.html",
            CATALOG.texts(language),
            zone=self.settings.helpdesk.timezone,
            desk=self.settings.helpdesk.name,
            ticket=view,
            state=requester_state(current).value,
            state_word=capitalised(requester_state_word(view.status, language)),
            waiting_for_you=waits_for_requester(current),
            handler=handler_name(view.assignee_display_name, view.assignee, view.team),
            messages=[
                {
                    "mine": m.direction == Direction.INBOUND.value,
                    "author": author_name(m.author),
                    "body": m.body_text,
                    "at": m.created_at,
                    "files": m.attachments,
                }
                for m in view.messages
                if m.direction != Direction.INTERNAL.value
            ],
            file_url=lambda sha: file_link(request, view, sha),
            can_reply=can_reply(current),
            can_confirm=can_confirm(current),
            reply_action=url_path(request, "reply_on_page", number=view.number),
            solved_action=url_path(request, "solved_on_page", number=view.number),
            rating_action=url_path(request, "rate_on_page", number=view.number),
            rating=rating,
            max_comment_chars=MAX_COMMENT_CHARS,
            new_request=url_path(request, "show_form"),
            my_requests=url_path(request, "my_requests"),
            link=link,
            key=view.access_key,
            nonce=uuid.uuid4().hex,
            problems=problems or {},
            body=body,
            notice=notice or request.query_params.get("done", "")[:16],
            max_files=self.settings.web.files_per_message,
            max_message_chars=MAX_MESSAGE_CHARS,
        )
        return remember_choice(request, HTMLResponse(html, status_code=status, headers=HEADERS))

    async def view(self, number: int, key: object) -> TicketView:
        """The ticket ``key`` opens; 404 for any other key, as for no ticket."""
        return await run_in_threadpool(opened_ticket, self.tickets, number, key)

    async def reply(self, request: Request, number: int) -> Response:
        web = self.settings.web
        async with request.form(max_files=web.files_per_message + 1) as form:
            key, nonce = form.get("key"), form.get("nonce")
            text = form.get("body")
            text = text.strip() if isinstance(text, str) else ""
            still_need_help = form.get("still_need_help") == "1"
            files = [
                (part.filename or "", await part.read(web.max_file_bytes + 1))
                for part in form.getlist("files")
                if isinstance(part, UploadFile) and (part.filename or part.size)
            ]
        view = await self.view(number, key)
        texts = CATALOG.texts(self.language(request, view))
        if not can_reply(Status(view.status)):
            return self.render(request, view, status=409, body=text, notice="closed")
        if still_need_help and not text:
            text = texts.gettext("I still need help.")
        problems: dict[str, Any] = {}
        if "\x00" in text:
            problems["body"] = "nul"
            text = text.replace("\x00", "")
        elif not text and not files:
            problems["body"] = "empty"
        elif len(text) > MAX_MESSAGE_CHARS:
            problems["body"] = "too_long"
        uploads, file_problems = check_uploads(
            files,
            max_files=web.files_per_message,
            max_bytes=web.max_file_bytes,
            accepted=web.file_types,
        )
        if file_problems:
            problems["files"] = file_problems
        if problems:
            return self.render(request, view, status=422, problems=problems, body=text)
        try:
            kept = [
                AttachmentRef(u.filename, u.content_type, len(u.data), sha256=sha)
                for u in uploads
                for sha in [await run_in_threadpool(self.desk.keep_file, u.data)]
            ]
            await self.accept(self._message(request, view, text, kept, nonce, still_need_help))
        except (TransientError, PermanentError):
            response = self.render(request, view, status=503, body=text, notice="unavailable")
            response.headers["Retry-After"] = "5"
            return response
        done = "reopened" if still_need_help and can_confirm(Status(view.status)) else "sent"
        return RedirectResponse(f"{ticket_link(request, view)}&done={done}#latest", 303)

    def _message(
        self,
        request: Request,
        view: TicketView,
        text: str,
        files: list[AttachmentRef],
        nonce: object,
        still_need_help: bool,
    ) -> InboundMessage:
        nonce = nonce if isinstance(nonce, str) and _NONCE.fullmatch(nonce) else uuid.uuid4().hex
        content = "\n".join([nonce, text, *(f.sha256 or "" for f in files)])
        digest = hashlib.sha256(content.encode()).hexdigest()[:40]
        return InboundMessage(
            channel=Channel.WEB,
            idempotency_key=f"web:page:{view.number}:{digest}",
            sender_address=view.requester_address,
            sender_name=view.requester_name,
            subject=view.subject,
            body_text=text,
            access_key=secrets.token_urlsafe(18),  # a follow-up's, should it open one
            attachments=tuple(files),
            source="page:still-need-help" if still_need_help else "page",
            ticket_number=view.number,
            language=self.language(request, view),  # what they read the page in, and wrote
            headers={
                h: request.headers[h][:500]
                for h in ("User-Agent", "Accept-Language")
                if h in request.headers
            },
        )

    async def solved(self, request: Request, number: int) -> Response:
        async with request.form(max_files=0) as form:
            key = form.get("key")
        view = await self.view(number, key)
        address = request.client.host if request.client else None
        confirmed = await run_in_threadpool(self.desk.confirm_solved, number, address=address)
        done = "solved" if confirmed else "unchanged"
        return RedirectResponse(f"{ticket_link(request, view)}&done={done}", 303)

    async def rating_choice(self, request: Request, number: int) -> Response:
        """The page a rating link opens: the choice it named, not yet recorded (a mail
        scanner following the link records nothing); the requester confirms it."""
        view = await self.view(number, request.query_params.get("key"))
        rating = await run_in_threadpool(self.desk.rating, number)
        html = render(
            TEMPLATES,
            "rating.html",
            CATALOG.texts(self.language(request, view)),
            zone=self.settings.helpdesk.timezone,
            desk=self.settings.helpdesk.name,
            ticket=view,
            rating=rating,
            good=request.query_params.get("good", "") == "1",
            bad=request.query_params.get("good", "") == "0",
            rating_action=url_path(request, "rate_on_page", number=view.number),
            link=ticket_link(request, view),
            key=view.access_key,
            max_comment_chars=MAX_COMMENT_CHARS,
        )
        return remember_choice(request, HTMLResponse(html, status_code=200, headers=HEADERS))

    async def rate(self, request: Request, number: int) -> Response:
        async with request.form(max_files=0) as form:
            key, good, comment = form.get("key"), form.get("good"), form.get("comment")
            via = RatedVia.EMAIL if form.get("via") == "email" else RatedVia.PAGE
        view = await self.view(number, key)
        if good not in ("1", "0"):
            return RedirectResponse(f"{ticket_link(request, view)}&done=choose#rating", 303)
        address = request.client.host if request.client else None
        outcome = await run_in_threadpool(
            partial(
                self.desk.rate,
                number,
                good=good == "1",
                comment=comment if isinstance(comment, str) else "",
                via=via,
                address=address,
            )
        )
        return RedirectResponse(f"{ticket_link(request, view)}&done={outcome.value}#rating", 303)

    async def file(self, number: int, sha256: str, key: object) -> Response:
        view = await self.view(number, key)
        found = next(
            (
                a
                for m in view.messages
                if m.direction != Direction.INTERNAL.value
                for a in m.attachments
                if a.sha256 == sha256
            ),
            None,
        )
        data = await run_in_threadpool(self.desk.file, sha256) if found else None
        if found is None or data is None:
            raise RequesterNotFound("no such file on this ticket")
        return Response(
            data,
            media_type=found.content_type if found.content_type else "application/octet-stream",
            headers={
                "Content-Disposition": _attachment(found.filename),
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'none'; sandbox",
                "Cache-Control": "private, no-store",
            },
        )


def _attachment(filename: str) -> str:
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def ticket_link(request: Request, view: TicketView) -> str:
    return url_path(request, "get_ticket", number=view.number) + f"?key={view.access_key}"


def file_link(request: Request, view: TicketView, sha256: str) -> str:
    path = url_path(request, "get_ticket_file", number=view.number, sha256=sha256)
    return f"{path}?key={view.access_key}"


def opened_ticket(tickets: TicketQueries, number: int, key: object) -> TicketView:
    """The ticket ``key`` opens; ``RequesterNotFound`` (404, a page for a browser) for any
    other key, as for no ticket."""
    found = tickets.ticket(number) if is_id(number) else None
    if found is None or not key_matches(key, found.access_key):
        raise RequesterNotFound(f"ticket {number} not found")
    return found


def opened(
    request: Request, tickets: TicketQueries, number: int, key: object
) -> TicketView | RedirectResponse:
    """What a requester's link opens: the ticket (``opened_ticket``), or a 303 to the one
    it was merged into (``merged_redirect``)."""
    view = opened_ticket(tickets, number, key)
    return merged_redirect(request, tickets, view) or view


MERGED: dict[str, Any] = {
    "description": "The ticket was merged into another of the requester's: `Location` is "
    "that ticket's link (with its key), where the conversation goes on.",
    "headers": {"Location": {"schema": {"type": "string"}}},
}


def merged_redirect(
    request: Request, tickets: TicketQueries, view: TicketView
) -> RedirectResponse | None:
    """The requester's link of a merged ticket opens the one it went into (along a chain of
    merges): a 303 to that ticket's link; None for a ticket not merged."""
    remaining = view
    for _ in range(MAX_HOPS):
        into = tickets.ticket(remaining.merged_into) if remaining.merged_into else None
        if into is None:
            break
        remaining = into
    if remaining is view:
        return None
    return RedirectResponse(ticket_link(request, remaining), status_code=303)
