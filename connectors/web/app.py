"""The web app: ``create_app`` wires intake, tickets and settings into FastAPI (the public
ticket API of ``connectors.web.ticket_api``, the form, the requester's pages, the staff API
and the workspace), and answers what no route does: an invalid request (422), a value the
store refuses (422), the store unavailable (503)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline

from config.settings import Settings
from connectors.ports import Intake, RequesterDesk, Staff, TicketQueries, WebhookHealth
from connectors.web.form import RETRY_AFTER_S, form_router
from connectors.web.limits import BodySizeLimit
from connectors.web.readiness import (
    Readiness,
    liveness_router,
    metrics_router,
    readiness_router,
)
from connectors.web.requester.errors import RequesterNotFound
from connectors.web.requester.form_api import document_forms, form_request_model
from connectors.web.requester.forms_page import FormsPage
from connectors.web.requester.my_requests import MyRequestsPage
from connectors.web.requester.refusal_pages import not_found_handler, too_large_page
from connectors.web.requester.routes import page_router
from connectors.web.requester.submission_guard import SubmissionGuard, SubmissionRate
from connectors.web.requester.ticket_page import TicketPage
from connectors.web.schemas import ticket_request_model
from connectors.web.staff.paths import UPLOADS
from connectors.web.staff.query_params import PATTERN_WORDS
from connectors.web.submissions import Submissions
from connectors.web.ticket_api import READ_LINKS, READ_RESPONSES, ticket_api
from router.errors import PermanentError, TransientError

log = logging.getLogger(__name__)


TAGS = [
    {"name": "tickets", "description": "Open a ticket and read it back."},
    {"name": "submissions", "description": "Follow a submission until it becomes a ticket."},
    {"name": "health", "description": "Liveness for load balancers and supervisors."},
    {"name": "staff", "description": "Staff sign-in (session cookie) and who am I."},
    {"name": "agents", "description": "Agents' status and load; one's own status."},
    {"name": "tokens", "description": "API tokens for programs (admins)."},
]


def create_app(
    *,
    intake: Intake,
    tickets: TicketQueries,
    settings: Settings,
    staff: Staff | None = None,
    requester: RequesterDesk | None = None,
    ready: Readiness | None = None,
    metrics: Callable[[], bytes] | None = None,
    telegram_health: WebhookHealth | None = None,
) -> FastAPI:
    """The web channel: JSON API under /api/v1, the HTML form at /, health at /healthz;
    with ``staff``, the staff API (sign-in, agents, tokens) under /api/v1 too, and the
    agents' workspace (pages) under /desk; with ``requester``, the ticket link opens the
    requester's page in a browser; with ``ready``, readiness at /readyz; with ``metrics``,
    Prometheus's /metrics."""
    app = FastAPIOffline(  # /docs and /redoc from the installed package's files, not a CDN
        title="relaydesk",
        version=_version(),
        description="Open helpdesk tickets over HTTP and follow them. Every submission "
        "is durable before it is acknowledged; retries are safe with an Idempotency-Key.",
        openapi_tags=TAGS,
    )
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.web.max_body_bytes,
        # the JSON API takes files (in base64) where the app keeps them (``requester``)
        upload_prefixes=("/requests/", "/forms/", UPLOADS)
        + (("/api/v1/tickets",) if requester is not None else ()),
        upload_max_bytes=settings.web.upload_bytes(),
        too_large_page=too_large_page(settings) if requester is not None else None,
    )
    app.add_exception_handler(RequestValidationError, _invalid_request)  # type: ignore[arg-type]
    app.add_exception_handler(TransientError, _unavailable)  # type: ignore[arg-type]
    app.add_exception_handler(PermanentError, _refused)  # type: ignore[arg-type]
    submissions = Submissions(intake, wait_s=settings.web.intake_wait_s)
    request_model = form_request_model(
        ticket_request_model(settings.web), settings.web.forms, settings.helpdesk.language
    )
    page = (
        TicketPage(settings, tickets, requester, submissions.accept)
        if requester is not None
        else None
    )
    links = READ_LINKS
    if staff is not None:  # what staff may do next with the ticket made (stateful clients)
        from connectors.web.staff.ticket_routes import STAFF_TICKET_LINKS

        links = {**READ_LINKS, **STAFF_TICKET_LINKS}
    keep_file = requester.keep_file if requester is not None else None
    app.include_router(
        ticket_api(submissions, tickets, request_model, page, settings.web, links, keep_file)
    )
    app.include_router(liveness_router())
    if ready is not None:
        app.include_router(readiness_router(ready))
    if metrics is not None:
        app.include_router(metrics_router(metrics))
    document_forms(app, settings.web.forms, settings.helpdesk.language)
    rate = SubmissionRate(requester) if requester is not None else None
    guard = SubmissionGuard(rate)  # one for every form a requester posts
    if page is not None and rate is not None and requester is not None:
        app.add_exception_handler(RequesterNotFound, not_found_handler(settings))
        accept, scenarios = submissions.accept, settings.web.forms
        forms = FormsPage(settings, requester, accept, guard) if scenarios else None
        mine = MyRequestsPage(settings, requester, rate)
        app.include_router(page_router(page, forms, mine, READ_RESPONSES))
    app.include_router(form_router(submissions.submit, settings, request_model, guard))
    if staff is not None:
        from connectors.web.staff import StaffGate, mount_staff_api
        from connectors.web.workspace import mount_workspace

        gate = StaffGate(staff, staff)
        mount_staff_api(app, staff, settings, gate)
        mount_workspace(app, staff, settings, gate)
    if settings.telegram.enabled and settings.telegram.mode == "webhook":
        from connectors.web.telegram_webhook import webhook_router

        app.include_router(webhook_router(settings.telegram, intake, telegram_health))
    return app


async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    return JSONResponse({"detail": [_explain(e) for e in exc.errors()]}, status_code=422)


def _explain(error: Any) -> dict[str, Any]:
    """One validation problem as {type, loc, field, msg}, in words a client can act on."""
    loc = [str(part) for part in error.get("loc", ())]
    kind = error.get("type", "")
    msg = error.get("msg", "invalid")
    if kind == "json_invalid":
        reason = (error.get("ctx") or {}).get("error", "")
        loc, msg = ["body"], f"the request body is not valid JSON: {reason}".rstrip(": ")
    elif loc == ["body"] and str(msg).startswith("Value error, custom_fields."):
        # a form's field (requester.form_api): said by its field, as any other field is
        msg = str(msg).removeprefix("Value error, ")
        loc = ["body", *msg.partition(":")[0].split(".")]
    elif kind == "string_pattern_mismatch" and _pattern(error) in PATTERN_WORDS:
        msg = f"{error.get('input')!r} is not {PATTERN_WORDS[_pattern(error)]}"
    elif loc == ["body"]:
        msg = (
            "the request body is missing: send a JSON object"
            if kind == "missing"
            else "the request body must be a JSON object (Content-Type: application/json)"
        )
    field = (".".join(loc[1:]) or loc[0]) if loc else ""
    return {"type": kind, "loc": loc, "field": field, "msg": msg}


def _pattern(error: Any) -> str:
    return str((error.get("ctx") or {}).get("pattern", ""))


async def _refused(request: Request, exc: PermanentError) -> JSONResponse:
    """A value the store refuses: the same request would be refused again (never a 503)."""
    log.warning("%s %s: %s", request.method, request.url.path, exc)
    return JSONResponse({"detail": f"the request cannot be kept: {exc}"}, status_code=422)


async def _unavailable(request: Request, exc: TransientError) -> JSONResponse:
    log.warning("%s %s: %s", request.method, request.url.path, exc)
    return JSONResponse(
        {"detail": "the helpdesk is temporarily unavailable; retry in a few seconds"},
        status_code=503,
        headers={"Retry-After": RETRY_AFTER_S},
    )


def _version() -> str:
    try:
        return version("relaydesk")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0.0.0+source"
