"""The plain HTML form at ``/``: no JavaScript, every value escaped, problems shown by their field.

The form goes through the same pipeline as the JSON API. Its idempotency key
is derived from a nonce printed into the page and the validated content, so a
double click or a reload of the POST does not open a second ticket, while an
edited resubmission does.

The pages are ``templates/request_form.html`` and ``request_received.html``, in the
requester's language: the one they chose on the form (``language``, also ``?language=``
in the page's address), else their browser's Accept-Language, else the desk's; the
words are in the web catalog (``connectors/web/locale``).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from config.settings import Settings
from connectors.web.requester.page_language import chosen_language
from connectors.web.requester.submission_guard import (
    CSRF_FIELD,
    HONEYPOT,
    PARTIALS,
    SubmissionGuard,
    refusal_words,
)
from connectors.web.route_paths import url_path, url_path_if
from connectors.web.schemas import MAX_BODY_CHARS, MAX_NAME_CHARS, AcceptedResponse, TicketRequest
from connectors.web.templating import CATALOG, TEMPLATES, page_environment, render
from router.catalogs import LANGUAGES, N_, Texts
from router.errors import PermanentError, TransientError
from router.language_choice import LANGUAGE_NAMES, requester_language
from router.storable import without_nul
from router.vocabulary import Priority, RowState
from router.vocabulary_texts import priority_word

Submit = Callable[[TicketRequest, str, Request], Awaitable[AcceptedResponse]]

LABELS = {
    "language": N_("Language"),
    "name": N_("Your name"),
    "email": N_("Email"),
    "subject": N_("Subject"),
    "category": N_("Topic"),
    "priority": N_("Priority"),
    "message": N_("Message"),
}
FIELDS = tuple(LABELS)
_FIELD_AT = {
    ("requester", "name"): "name",
    ("requester", "email"): "email",
    ("subject",): "subject",
    ("body",): "message",
    ("category",): "category",
    ("priority",): "priority",
    ("language",): "language",
}
RETRY_AFTER_S = "5"
_NONCE = re.compile(r"[0-9a-f]{32}")
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def form_router(
    submit: Submit,
    settings: Settings,
    request_model: type[TicketRequest],
    guard: SubmissionGuard,
) -> APIRouter:
    """GET / shows the form; POST / submits it and answers a page. The ``guard`` is the
    scenario forms': a post without the page's CSRF token is 403, the form shown again
    with its values and a good token; with the desk counting, at most
    ``web.submissions_per_minute`` a minute per client address (429 with Retry-After); a
    filled honeypot is thanked and nothing is kept."""
    router = APIRouter(include_in_schema=False)
    page = FormPage(settings, guard)

    @router.get("/", name="show_form", response_class=HTMLResponse)
    def show_form(request: Request, language: str = "") -> Response:
        if settings.web.forms:  # forms made for each scenario: "/" lists them
            return RedirectResponse(url_path(request, "list_forms"), 303)
        return page.form(request, {}, {}, nonce=uuid.uuid4().hex, chosen=language[:35])

    @router.post("/", name="submit_form", response_class=HTMLResponse)
    async def submit_form(request: Request) -> HTMLResponse:
        async with request.form() as form:  # closes any uploaded file, which is ignored
            values = {f: v.strip() if isinstance(v := form.get(f), str) else "" for f in FIELDS}
            nonce = form.get("nonce")
            token, trap = form.get(CSRF_FIELD), form.get(HONEYPOT)
        nonce = nonce if isinstance(nonce, str) and _NONCE.fullmatch(nonce) else uuid.uuid4().hex
        language = page.language(request, values["language"])
        texts = CATALOG.texts(language)
        verdict = await guard.check(request, token, trap)
        if verdict.refused:
            notice = refusal_words(verdict.refused, language)
            status = verdict.status
            response = page.form(
                request, values, {}, nonce=nonce, status=status, notice=notice, chosen=language
            )
            response.headers.update(verdict.headers())
            return response
        if verdict.trapped:  # a robot: thanked as a person would be, and nothing kept
            return page.received(request, None, email=values["email"], language=language)
        try:
            ticket = request_model.model_validate(
                {
                    "requester": {"name": values["name"], "email": values["email"]},
                    "subject": values["subject"],
                    "body": values["message"],
                    "category": values["category"] or None,
                    "priority": values["priority"] or None,
                    "language": language,
                }
            )
        except ValidationError as exc:
            problems = _problems(exc, texts)
            return page.form(request, values, problems, nonce=nonce, status=422, chosen=language)
        try:
            accepted = await submit(ticket, _key(nonce, ticket), request)
        except PermanentError as exc:  # a value the store refuses: sending it again cannot help
            notice = texts.gettext(
                "We could not keep your request as it is (%(why)s). Please change it.", why=exc
            )
            return page.form(
                request, values, {}, nonce=nonce, status=422, notice=notice, chosen=language
            )
        except TransientError:
            notice = texts.gettext(
                "We could not take your request just now and nothing was saved. "
                "Please send it again in a few seconds."
            )
            response = page.form(
                request, values, {}, nonce=nonce, status=503, notice=notice, chosen=language
            )
            response.headers["Retry-After"] = RETRY_AFTER_S
            return response
        return page.received(request, accepted, email=ticket.requester.email, language=language)

    return router


def _key(nonce: str, ticket: TicketRequest) -> str:
    """Same page and same content -> same key; anything edited -> a new ticket."""
    content = json.dumps(ticket.model_dump(mode="json"), sort_keys=True)
    return "form-" + hashlib.sha256(f"{nonce}\n{content}".encode()).hexdigest()[:40]


def _problems(exc: ValidationError, texts: Texts) -> dict[str, str]:
    """The first problem of each form field, in words for a person."""
    problems: dict[str, str] = {}
    for error in exc.errors():
        field = _FIELD_AT.get(tuple(str(p) for p in error["loc"]), "message")
        problems.setdefault(field, _in_words(field, error, texts))
    return problems


def _in_words(field: str, error: Any, texts: Texts) -> str:
    _ = texts.gettext
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind in ("missing", "blank") or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return _("Please fill this in.")
    if kind == "nul_character":
        return _(
            "This contained a NUL character (U+0000), which cannot be kept; it has been "
            "removed below: please check the text and send it again."
        )
    if kind == "string_too_long":
        return _("Please use at most %(count)s characters.", count=ctx.get("max_length"))
    if field in ("category", "priority", "language"):
        return _("Please choose one of the listed options.")
    if field == "email":
        return _("Not an email address: please write it as name@example.com.")
    if kind == "string_pattern_mismatch" or "control characters" in str(error["msg"]):
        return _("Please write this on one line, without control characters.")
    message = str(error["msg"]).removeprefix("Value error, ")
    return _("This cannot be used: %(why)s.", why=message)


class FormPage:
    """Renders the pages in the requester's language; every value that came from outside
    is escaped (the templates autoescape)."""

    def __init__(self, settings: Settings, guard: SubmissionGuard) -> None:
        self.guard = guard
        self.name = settings.helpdesk.name
        self.default_language = settings.helpdesk.language
        self.max_subject = settings.web.max_subject_chars
        self.categories = sorted(c for c in settings.categories if c != "general")
        self.env = page_environment(TEMPLATES, PARTIALS)

    def language(self, request: Request, chosen: str) -> str:
        """The page's language: the one chosen on the form, else the one chosen for the
        requester's pages (``?lang``, its cookie), else the browser's."""
        return requester_language(
            chosen=chosen or chosen_language(request),
            stated=request.headers.get("accept-language", "")[:500],
            default=self.default_language,
        )

    def form(
        self,
        request: Request,
        values: Mapping[str, str],
        problems: Mapping[str, str],
        *,
        nonce: str,
        status: int = 200,
        notice: str = "",
        chosen: str = "",
    ) -> HTMLResponse:
        language = self.language(request, chosen)
        texts = CATALOG.texts(language)
        _ = texts.gettext
        kept = without_nul(dict(values))[0]  # a page cannot show a NUL
        kept["language"] = language
        categories = [("general", _("General")), *((c, _label(c)) for c in self.categories)]
        priorities = [("", _("Let us decide"))] + [
            (p.value, _capitalized(priority_word(p.value, language))) for p in reversed(Priority)
        ]
        guarded = self.guard.fields(request, language)
        html = render(
            self.env,
            "request_form.html",
            texts,
            title=_("Ask for help"),
            desk=self.name,
            labels={field: _(label) for field, label in LABELS.items()},
            values=kept,
            problems=problems,
            notice=notice,
            nonce=nonce,
            guard=guarded,
            action=url_path(request, "submit_form"),
            my_requests=url_path_if(request, "my_requests"),
            languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
            categories=categories,
            priorities=priorities,
            max_name=MAX_NAME_CHARS,
            max_subject=self.max_subject,
            max_body=MAX_BODY_CHARS,
        )
        response = HTMLResponse(html, status_code=status, headers=HEADERS)
        return self.guard.hand_out(response, guarded)

    def received(
        self, request: Request, accepted: AcceptedResponse | None, *, email: str, language: str
    ) -> HTMLResponse:
        """The thanks for ``accepted``; for a robot's post (None), thanks with no link."""
        texts = CATALOG.texts(language)
        number = accepted.ticket_number if accepted else None
        link: str | None = None
        if accepted is None:
            title, status = texts.gettext("Thank you, your request was received"), 200
        elif number is not None and accepted.ticket_url is not None:
            title = texts.gettext("Thank you, your ticket #%(number)s is open", number=number)
            link, status = accepted.ticket_url, 201
        else:
            title = texts.gettext(
                "Thank you, your request was received, reference %(reference)s",
                reference=accepted.submission_id,
            )
            link, status, number = accepted.status_url, 202, None
        html = render(
            self.env,
            "request_received.html",
            texts,
            title=title,
            desk=self.name,
            number=number,
            link=link,
            email=email,
            failed=accepted is not None and accepted.state == RowState.FAILED.value,
            again=url_path(request, "show_form"),
            my_requests=url_path_if(request, "my_requests"),
        )
        return HTMLResponse(html, status_code=status, headers=HEADERS)


def _capitalized(word: str) -> str:
    return word[:1].upper() + word[1:]


def _label(slug: str) -> str:
    return slug.replace("-", " ").replace("_", " ").capitalize()
