"""The plain HTML form at ``/``: no JavaScript, every value escaped, problems shown by their field.

The form goes through the same pipeline as the JSON API. Its idempotency key
is derived from a nonce printed into the page and the validated content, so a
double click or a reload of the POST does not open a second ticket, while an
edited resubmission does.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from html import escape
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from config.settings import Settings
from connectors.web.schemas import MAX_BODY_CHARS, MAX_NAME_CHARS, AcceptedResponse, TicketRequest
from router.errors import PermanentError, TransientError
from router.storable import without_nul
from router.vocabulary import Priority, RowState

Submit = Callable[[TicketRequest, str, Request], Awaitable[AcceptedResponse]]

LABELS = {
    "name": "Your name",
    "email": "Email",
    "subject": "Subject",
    "category": "Topic",
    "priority": "Priority",
    "message": "Message",
}
FIELDS = tuple(LABELS)
_FIELD_AT = {
    ("requester", "name"): "name",
    ("requester", "email"): "email",
    ("subject",): "subject",
    ("body",): "message",
    ("category",): "category",
    ("priority",): "priority",
}
RETRY_AFTER_S = "5"
_NONCE = re.compile(r"[0-9a-f]{32}")
PRIORITIES = (("", "Let us decide"), *((p.value, p.value.capitalize()) for p in reversed(Priority)))
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
CSS = """
body{font:1rem/1.5 system-ui,sans-serif;margin:0;color:#1a1a1a;background:#f6f6f6}
main{max-width:40rem;margin:2rem auto;padding:1.5rem;background:#fff;border-radius:.5rem}
label{display:block;font-weight:600;margin-top:1rem}
input,select,textarea{box-sizing:border-box;width:100%;font:inherit;padding:.5rem;
border:1px solid #767676;border-radius:.25rem}
textarea{min-height:10rem}
:focus{outline:3px solid #1d5fbf;outline-offset:1px}
.error{color:#a3000b;margin:.25rem 0 0}
.invalid input,.invalid select,.invalid textarea{border:2px solid #a3000b}
.alert{border:2px solid #a3000b;padding:.5rem 1rem;margin-bottom:1rem}
button{margin-top:1.5rem;font:inherit;padding:.6rem 1.4rem;border:0;border-radius:.25rem;
background:#1d5fbf;color:#fff;cursor:pointer}
"""


def form_router(
    submit: Submit, settings: Settings, request_model: type[TicketRequest]
) -> APIRouter:
    """GET / shows the form; POST / submits it and answers a page."""
    router = APIRouter(include_in_schema=False)
    page = FormPage(settings)

    @router.get("/", name="show_form", response_class=HTMLResponse)
    def show_form(request: Request) -> HTMLResponse:
        return page.form(request, {}, {}, nonce=uuid.uuid4().hex)

    @router.post("/", name="submit_form", response_class=HTMLResponse)
    async def submit_form(request: Request) -> HTMLResponse:
        async with request.form() as form:  # closes any uploaded file, which is ignored
            values = {f: v.strip() if isinstance(v := form.get(f), str) else "" for f in FIELDS}
            nonce = form.get("nonce")
        nonce = nonce if isinstance(nonce, str) and _NONCE.fullmatch(nonce) else uuid.uuid4().hex
        try:
            ticket = request_model.model_validate(
                {
                    "requester": {"name": values["name"], "email": values["email"]},
                    "subject": values["subject"],
                    "body": values["message"],
                    "category": values["category"] or None,
                    "priority": values["priority"] or None,
                }
            )
        except ValidationError as exc:
            return page.form(request, values, _problems(exc), nonce=nonce, status=422)
        try:
            accepted = await submit(ticket, _key(nonce, ticket), request)
        except PermanentError as exc:  # a value the store refuses: sending it again cannot help
            notice = f"We could not keep your request as it is ({exc}). Please change it."
            return page.form(request, values, {}, nonce=nonce, status=422, notice=notice)
        except TransientError:
            notice = "We could not take your request just now and nothing was saved. "
            notice += "Please send it again in a few seconds."
            response = page.form(request, values, {}, nonce=nonce, status=503, notice=notice)
            response.headers["Retry-After"] = RETRY_AFTER_S
            return response
        return page.received(request, accepted, email=ticket.requester.email)

    return router


def _key(nonce: str, ticket: TicketRequest) -> str:
    """Same page and same content -> same key; anything edited -> a new ticket."""
    content = json.dumps(ticket.model_dump(mode="json"), sort_keys=True)
    return "form-" + hashlib.sha256(f"{nonce}\n{content}".encode()).hexdigest()[:40]


def _problems(exc: ValidationError) -> dict[str, str]:
    """The first problem of each form field, in words for a person."""
    problems: dict[str, str] = {}
    for error in exc.errors():
        field = _FIELD_AT.get(tuple(str(p) for p in error["loc"]), "message")
        problems.setdefault(field, _in_words(field, error))
    return problems


def _in_words(field: str, error: Any) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind in ("missing", "blank") or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return "Please fill this in."
    if kind == "nul_character":
        return (
            "This contained a NUL character (U+0000), which cannot be kept; it has been "
            "removed below: please check the text and send it again."
        )
    if kind == "string_too_long":
        return f"Please use at most {ctx.get('max_length')} characters."
    if field in ("category", "priority"):
        return "Please choose one of the listed options."
    message = str(error["msg"]).removeprefix("Value error, ")
    return message[:1].upper() + message[1:] + "."


class FormPage:
    """Renders the pages; every value that came from outside goes through ``escape``."""

    def __init__(self, settings: Settings) -> None:
        self.name = settings.helpdesk.name
        self.max_subject = settings.web.max_subject_chars
        configured = sorted(c for c in settings.categories if c != "general")
        self.categories = [("general", "General"), *((c, _label(c)) for c in configured)]

    def form(
        self,
        request: Request,
        values: Mapping[str, str],
        problems: Mapping[str, str],
        *,
        nonce: str,
        status: int = 200,
        notice: str = "",
    ) -> HTMLResponse:
        alert = ""
        if problems:
            items = "".join(
                f'<li><a href="#{f}">{LABELS[f]}: {escape(m)}</a></li>' for f, m in problems.items()
            )
            count = "1 problem" if len(problems) == 1 else f"{len(problems)} problems"
            alert = (
                f'<div class="alert" role="alert"><p>Please fix {count}:</p><ul>{items}</ul></div>'
            )
        elif notice:
            alert = f'<div class="alert" role="alert"><p>{escape(notice)}</p></div>'
        field = _Fields(without_nul(dict(values))[0], problems)  # a page cannot show a NUL
        body = (
            f"<h1>{escape(self.name)}: ask for help</h1>{alert}"
            f'<form method="post" action="{escape(url_path(request, "submit_form"))}">'
            f'<input type="hidden" name="nonce" value="{escape(nonce)}">'
            + field.text("name", MAX_NAME_CHARS, autocomplete="name")
            + field.text("email", 254, autocomplete="email", kind="email")
            + field.text("subject", self.max_subject)
            + field.select("category", self.categories)
            + field.select("priority", PRIORITIES)
            + field.textarea("message", MAX_BODY_CHARS)
            + '<button type="submit">Send</button></form>'
        )
        return self._page("Ask for help", body, status)

    def received(self, request: Request, accepted: AcceptedResponse, *, email: str) -> HTMLResponse:
        number = accepted.ticket_number
        if number is not None and accepted.ticket_url is not None:
            heading = f"Thank you, your ticket #{number} is open"
            link = f'<a href="{escape(accepted.ticket_url)}">See ticket #{number}</a>'
            status = 201
        else:
            heading = f"Thank you, your request was received, reference {accepted.submission_id}"
            link = f'<a href="{escape(accepted.status_url)}">Check its status</a>'
            status = 202
        follow_up = (
            "It could not be processed automatically; we will look into it."
            if accepted.state == RowState.FAILED.value
            else f"We will answer you at {escape(email)}."
        )
        again = escape(url_path(request, "show_form"))
        body = (
            f"<h1>{escape(heading)}</h1><p>{follow_up}</p><p>{link}</p>"
            f'<p><a href="{again}">Send another request</a></p>'
        )
        return self._page(heading, body, status)

    def _page(self, title: str, body: str, status: int) -> HTMLResponse:
        html = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)} - {escape(self.name)}</title><style>{CSS}</style></head>"
            f"<body><main>{body}</main></body></html>"
        )
        return HTMLResponse(html, status_code=status, headers=HEADERS)


class _Fields:
    """One labelled control per field, its value kept and its problem right below it."""

    def __init__(self, values: Mapping[str, str], problems: Mapping[str, str]) -> None:
        self.values = values
        self.problems = problems

    def text(
        self, name: str, max_chars: int, *, autocomplete: str = "off", kind: str = "text"
    ) -> str:
        value = escape(self.values.get(name, ""))
        return self._wrap(
            name,
            f'<input id="{name}" name="{name}" type="{kind}" value="{value}" required '
            f'maxlength="{max_chars}" autocomplete="{autocomplete}"{self._aria(name)}>',
        )

    def textarea(self, name: str, max_chars: int) -> str:
        value = escape(self.values.get(name, ""))
        return self._wrap(
            name,
            f'<textarea id="{name}" name="{name}" required maxlength="{max_chars}"'
            f"{self._aria(name)}>{value}</textarea>",
        )

    def select(self, name: str, options: Sequence[tuple[str, str]]) -> str:
        chosen = self.values.get(name, "")
        rendered = "".join(
            f'<option value="{escape(value)}"{" selected" if value == chosen else ""}>'
            f"{escape(text)}</option>"
            for value, text in options
        )
        return self._wrap(
            name, f'<select id="{name}" name="{name}"{self._aria(name)}>{rendered}</select>'
        )

    def _aria(self, name: str) -> str:
        if name not in self.problems:
            return ""
        return f' aria-invalid="true" aria-describedby="{name}-error"'

    def _wrap(self, name: str, control: str) -> str:
        problem = self.problems.get(name)
        if not problem:
            return f'<div><label for="{name}">{LABELS[name]}</label>{control}</div>'
        return (
            f'<div class="invalid"><label for="{name}">{LABELS[name]}</label>{control}'
            f'<p class="error" id="{name}-error">{escape(problem)}</p></div>'
        )


def _label(slug: str) -> str:
    return slug.replace("-", " ").replace("_", " ").capitalize()


def url_path(request: Request, name: str, **params: Any) -> str:
    """The path of route ``name``, right also when the app is mounted below a prefix."""
    return request.scope.get("root_path", "").rstrip("/") + request.app.url_path_for(name, **params)
