"""Forms made for one scenario each (``[[web.forms]]``): ``/forms`` lists them,
``/forms/<slug>`` asks for that scenario's typed fields (and files), and sends the
request through the same intake as every message, with the form's slug as its
``template`` (for the rules, and the ticket's ``form``). The fields are kept as the
ticket's custom fields and listed in its first message, so every view shows them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from config.form_settings import WebFormSettings
from config.settings import Settings
from connectors.ports import RequesterDesk
from connectors.web.requester.errors import RequesterNotFound
from connectors.web.requester.page_language import language_of_page, remember_choice
from connectors.web.requester.submission_guard import (
    CSRF_FIELD,
    HONEYPOT,
    SubmissionGuard,
    client_address,
    refusal_words,
)
from connectors.web.requester.ticket_page import CATALOG, HEADERS, TEMPLATES, Accept
from connectors.web.route_paths import url_path
from connectors.web.submissions import accepted_response
from connectors.web.templating import render
from connectors.web.text_fields import check_email_address
from connectors.web.uploads import check_uploads
from router.envelopes import AttachmentRef, InboundMessage
from router.errors import PermanentError, TransientError
from router.form_fields import FieldProblem, FieldSpec, FieldType, Value, fields_text, read_field
from router.form_texts import text_in
from router.language_choice import stated_languages
from router.vocabulary import Channel, RowState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FormTexts:
    """A form's words in one language, for its pages."""

    slug: str
    title: str
    description: str
    category: str | None = None


def form_texts(form: WebFormSettings, language: str, default: str = "en") -> FormTexts:
    return FormTexts(
        form.slug,
        text_in(form.title, language, default),
        text_in(form.description, language, default),
        form.category,
    )


def field_specs(
    form: WebFormSettings, language: str = "", default: str = "en"
) -> tuple[FieldSpec, ...]:
    """The form's fields, their label, help and choices' labels in ``language``."""
    return tuple(
        FieldSpec(
            name=f.name,
            label=text_in(f.label, language, default),
            type=FieldType(f.type),
            required=f.required,
            help=text_in(f.help, language, default),
            choices=f.choices,
            choice_labels=tuple(
                text_in(dict(f.choice_labels).get(c, ()), language, default, any_other=False) or c
                for c in f.choices
            ),
            minimum=f.min,
            maximum=f.max,
            max_length=f.max_length,
        )
        for f in form.fields
    )


class FormsPage:
    def __init__(
        self, settings: Settings, desk: RequesterDesk, accept: Accept, guard: SubmissionGuard
    ) -> None:
        self.settings = settings
        self.desk = desk
        self.accept = accept
        self.guard = guard
        self.forms = {f.slug: f for f in settings.web.forms}

    def language(self, request: Request) -> str:
        return language_of_page(request, self.settings)

    def _render(self, request: Request, template: str, status: int = 200, **values: Any) -> Any:
        html = render(
            TEMPLATES,
            template,
            CATALOG.texts(self.language(request)),
            zone=self.settings.helpdesk.timezone,
            desk=self.settings.helpdesk.name,
            my_requests=url_path(request, "my_requests"),
            **values,
        )
        return remember_choice(request, HTMLResponse(html, status_code=status, headers=HEADERS))

    def listing(self, request: Request) -> Response:
        if len(self.forms) == 1:
            (slug,) = self.forms
            return RedirectResponse(url_path(request, "show_scenario_form", slug=slug), 303)
        language, default = self.language(request), self.settings.helpdesk.language
        forms = [
            (form_texts(f, language, default), url_path(request, "show_scenario_form", slug=slug))
            for slug, f in self.forms.items()
        ]
        return self._render(request, "forms.html", forms=forms)

    def _form(self, slug: str, request: Request) -> tuple[FormTexts, tuple[FieldSpec, ...]]:
        """The form ``slug`` in the reader's language; 404 for no such form."""
        found = self.forms.get(slug)
        if found is None:
            raise RequesterNotFound(f"no form {slug!r}")
        language, default = self.language(request), self.settings.helpdesk.language
        return form_texts(found, language, default), field_specs(found, language, default)

    def show(
        self,
        request: Request,
        slug: str,
        *,
        values: dict[str, Any] | None = None,
        problems: dict[str, Any] | None = None,
        status: int = 200,
        notice: str = "",
    ) -> Response:
        form, specs = self._form(slug, request)
        guarded = self.guard.fields(request, self.language(request))
        response = self._render(
            request,
            "scenario_form.html",
            status,
            form=form,
            specs=specs,
            values=values or {},
            problems=problems or {},
            notice=notice,
            action=url_path(request, "submit_scenario_form", slug=slug),
            guard=guarded,
            nonce=secrets.token_hex(16),
            max_files=self.settings.web.files_per_message,
        )
        return self.guard.hand_out(response, guarded)

    async def submit(self, request: Request, slug: str) -> Response:
        form, specs = self._form(slug, request)
        web = self.settings.web
        async with request.form(max_files=web.files_per_message + 1) as sent:
            given = {s.name: [v for v in sent.getlist(s.name) if isinstance(v, str)] for s in specs}
            person = {k: str(sent.get(k) or "").strip() for k in ("name", "email", "details")}
            csrf, nonce, trap = sent.get(CSRF_FIELD), sent.get("nonce"), sent.get(HONEYPOT)
            files = {
                s.name: [
                    (p.filename or "", await p.read(web.max_file_bytes + 1))
                    for p in sent.getlist(s.name)
                    if isinstance(p, UploadFile) and (p.filename or p.size)
                ]
                for s in specs
                if s.type is FieldType.FILE
            }
        verdict = await self.guard.check(request, csrf, trap)
        if verdict.refused:
            words = refusal_words(verdict.refused, self.language(request))
            response = self.show(
                request, slug, values=given | person, status=verdict.status, notice=words
            )
            response.headers.update(verdict.headers())
            return response
        if verdict.trapped:
            log.info(
                "form %s: the honeypot was filled from %s; nothing kept",
                slug,
                client_address(request),
            )
            return self._render(request, "form_received.html", form=form, link=None, number=None)
        values, problems = self._read(specs, given, person, files)
        if problems:
            return self.show(request, slug, values=given | person, problems=problems, status=422)
        try:
            kept = [
                AttachmentRef(u.filename, u.content_type, len(u.data), sha256=sha)
                for uploads in values.pop("_uploads")
                for u in uploads
                for sha in [await run_in_threadpool(self.desk.keep_file, u.data)]
            ]
            message = self._message(request, form, specs, values, person, kept, nonce)
            receipt = await self.accept(message)
        except (TransientError, PermanentError) as exc:
            log.warning("form %s: not accepted: %s", slug, exc)
            down = CATALOG.texts(self.language(request)).gettext(
                "We could not take your request just now and nothing was saved. "
                "Please send it again in a few seconds."
            )
            response = self.show(request, slug, values=given | person, status=503, notice=down)
            response.headers["Retry-After"] = "5"
            return response
        accepted = accepted_response(receipt, request)
        return self._render(
            request,
            "form_received.html",
            201 if accepted.ticket_url else 202,
            form=form,
            link=accepted.ticket_url or accepted.status_url,
            number=accepted.ticket_number,
            failed=accepted.state == RowState.FAILED.value,
        )

    def _read(
        self,
        specs: tuple[FieldSpec, ...],
        given: dict[str, list[str]],
        person: dict[str, str],
        files: dict[str, list[tuple[str, bytes]]],
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        problems: dict[str, Any] = {}
        if not person["name"]:
            problems["name"] = FieldProblem("required")
        try:
            person["email"] = check_email_address(person["email"])
        except ValueError:
            problems["email"] = FieldProblem("email")
        values: dict[str, Any] = {"_uploads": []}
        web = self.settings.web
        for spec in specs:
            if spec.type is FieldType.FILE:
                chosen = files.get(spec.name, [])
                if spec.required and not chosen:
                    problems[spec.name] = FieldProblem("required")
                uploads, refused = check_uploads(
                    chosen,
                    max_files=web.files_per_message,
                    max_bytes=web.max_file_bytes,
                    accepted=web.file_types,
                )
                if refused:
                    problems[spec.name] = refused
                values["_uploads"].append(uploads)
                continue
            value, problem = read_field(spec, given.get(spec.name, []))
            if problem is not None:
                problems[spec.name] = problem
            values[spec.name] = value
        return values, problems

    def _message(
        self,
        request: Request,
        form: FormTexts,
        specs: tuple[FieldSpec, ...],
        values: dict[str, Value],
        person: dict[str, str],
        files: list[AttachmentRef],
        nonce: object,
    ) -> InboundMessage:
        kept = {k: v for k, v in values.items() if v not in (None, "", [])}
        body = "\n\n".join(p for p in (person["details"], fields_text(specs, kept)) if p)
        content = json.dumps([form.slug, person, kept, [f.sha256 for f in files]], sort_keys=True)
        digest = hashlib.sha256(f"{nonce}\n{content}".encode()).hexdigest()[:40]
        return InboundMessage(
            channel=Channel.WEB,
            idempotency_key=f"web:form-{form.slug}-{digest}",
            sender_address=person["email"],
            sender_name=person["name"],
            subject=form.title,
            body_text=body or form.title,
            category_hint=form.category,
            custom_fields={k: v for k, v in kept.items()},
            access_key=secrets.token_urlsafe(18),
            attachments=tuple(files),
            source=f"form:{form.slug}",
            template=form.slug,
            language=stated_languages(request.headers.get("Accept-Language")),
            headers={
                h: request.headers[h][:500]
                for h in ("User-Agent", "Accept-Language")
                if h in request.headers
            },
        )
