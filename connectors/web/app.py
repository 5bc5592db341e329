"""The web channel's JSON API: ``create_app`` wires intake, tickets and settings into FastAPI.

A submission is answered only once intake has made it durable, then waits a moment
for its ticket (``connectors.web.submissions``).
"""

from __future__ import annotations

import hmac
import inspect
import logging
import uuid
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Header, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi_offline import FastAPIOffline

from config.settings import Settings, WebSettings
from connectors.ports import Intake, RequesterDesk, Staff, TicketQueries, WebhookHealth
from connectors.web.form import RETRY_AFTER_S, form_router
from connectors.web.limits import BodySizeLimit
from connectors.web.readiness import Readiness, metrics_router, readiness_router
from connectors.web.requester.api_files import KeepFile, keep_files, read_files
from connectors.web.requester.errors import RequesterNotFound
from connectors.web.requester.form_api import document_forms, form_request_model
from connectors.web.requester.forms_page import FormsPage
from connectors.web.requester.my_requests import MyRequestsPage
from connectors.web.requester.negotiation import wants_html
from connectors.web.requester.refusal_pages import not_found_handler, too_large_page
from connectors.web.requester.routes import page_router
from connectors.web.requester.submission_guard import SubmissionGuard, SubmissionRate
from connectors.web.requester.ticket_page import MERGED, TicketPage, file_link, opened
from connectors.web.schemas import (
    ID,
    AcceptedResponse,
    Problem,
    TicketRequest,
    TicketResponse,
    ValidationProblems,
    ticket_request_model,
)
from connectors.web.staff.paths import UPLOADS
from connectors.web.submissions import IdempotencyConflict, Submissions, accepted_response
from router.errors import PermanentError, TransientError
from router.storable import is_id

log = logging.getLogger(__name__)


TAGS = [
    {"name": "tickets", "description": "Open a ticket and read it back."},
    {"name": "submissions", "description": "Follow a submission until it becomes a ticket."},
    {"name": "health", "description": "Liveness for load balancers and supervisors."},
    {"name": "staff", "description": "Staff sign-in (session cookie) and who am I."},
    {"name": "agents", "description": "Agents' status and load; one's own status."},
    {"name": "tokens", "description": "API tokens for programs (admins)."},
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="Any printable ASCII up to 200 characters, e.g. a UUID. Sending the same "
        "key again returns the first submission (`duplicate: true`) instead of a new ticket.",
    ),
]


READ_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {
        "model": Problem,
        "description": "Not found: no such id (any integer outside 1..2147483647 included), "
        "or not the right `key`.",
    },
    422: {
        "model": ValidationProblems,
        "description": "The id is not an integer, or `key` is longer than 100 characters.",
    },
    503: {"model": Problem, "description": "The helpdesk is unavailable: retry after Retry-After."},
}
PAGE_CONTENT: dict[str, Any] = {
    "description": "The ticket (JSON), or its page for a browser (HTML).",
    "content": {"text/html": {"schema": {"type": "string"}}},
}
# OpenAPI links: what an answer to POST /api/v1/tickets lets a client read next
READ_LINKS = {
    "GetSubmission": {
        "operationId": "get_submission",
        "parameters": {
            "submission_id": "$response.body#/submission_id",
            "key": "$response.body#/access_key",
        },
    },
    "GetTicket": {
        "operationId": "get_ticket",
        "parameters": {
            "number": "$response.body#/ticket_number",
            "key": "$response.body#/access_key",
        },
    },
}


def key_matches(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison; a missing key on either side never matches."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


AccessKey = Annotated[
    str | None,
    Query(
        alias="key",
        max_length=100,
        description="The `access_key` returned when the ticket was submitted. Without the "
        "right key the answer is 404, as for a ticket that does not exist.",
    ),
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
        _api(submissions, tickets, request_model, page, settings.web, links, keep_file)
    )
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
        from connectors.web.staff import StaffGate, staff_router
        from connectors.web.workspace import mount_workspace

        gate = StaffGate(staff, staff)
        app.include_router(staff_router(staff, settings, gate))
        mount_workspace(app, staff, settings, gate)
    if settings.telegram.enabled and settings.telegram.mode == "webhook":
        from connectors.web.telegram_webhook import webhook_router

        app.include_router(webhook_router(settings.telegram, intake, telegram_health))
    return app


def _api(
    submissions: Submissions,
    tickets: TicketQueries,
    request_model: type[TicketRequest],
    page: TicketPage | None,
    web: WebSettings,
    links: dict[str, Any] = READ_LINKS,
    keep_file: KeepFile | None = None,
) -> APIRouter:
    api = APIRouter()

    @api.post(
        "/api/v1/tickets",
        operation_id="create_ticket",
        tags=["tickets"],
        summary="Open a ticket",
        status_code=201,
        response_model=AcceptedResponse,
        response_description="Durable and already a ticket; Location is the ticket.",
        responses={
            201: {"links": links},
            202: {
                "model": AcceptedResponse,
                "description": "Durable, not yet a ticket (or failed); Location is the status. "
                "Also the answer at once, without waiting, while the helpdesk has a backlog.",
                "links": links,
            },
            400: {
                "model": Problem,
                "description": "The body could not be read: it is not UTF-8, or its "
                "Content-Length is malformed.",
            },
            409: {
                "model": Problem,
                "description": "The Idempotency-Key was used before for a different request: "
                "use a new key for a new request.",
            },
            413: {"model": Problem, "description": "The body is over the configured limit."},
            422: {
                "model": ValidationProblems,
                "description": "A field is missing or invalid (each problem names its field), "
                "a file is refused (`files.<i>`: its size, its type by content, not "
                "base64), the body is not a JSON object, or the store refuses a value.",
            },
            503: {"model": Problem, "description": "Not accepted: retry after Retry-After."},
        },
    )
    async def create_ticket(
        request: Request, ticket: TicketRequest, idempotency_key: IdempotencyKey = None
    ) -> JSONResponse:
        """Submit a ticket, with files in base64 if any. The answer comes once the
        submission is durable, after waiting briefly for it to become a ticket."""
        uploads = read_files(ticket.files, web)
        try:
            attachments = await keep_files(uploads, keep_file)
            accepted = await submissions.submit(
                ticket, idempotency_key or str(uuid.uuid4()), request, attachments
            )
        except IdempotencyConflict:  # the request is valid; the key's state conflicts with it
            raise HTTPException(
                409,
                detail="this Idempotency-Key was already used for a different request; "
                "use a new key for a new request",
            ) from None
        except TransientError as exc:
            log.warning("web submission not accepted: %s", exc)
            raise HTTPException(
                503,
                detail="the submission was not accepted: the helpdesk is temporarily "
                "unavailable; retry in a few seconds (with the same Idempotency-Key)",
                headers={"Retry-After": RETRY_AFTER_S},
            ) from None
        return JSONResponse(
            accepted.model_dump(mode="json"),
            status_code=202 if accepted.ticket_url is None else 201,
            headers={"Location": accepted.ticket_url or accepted.status_url},
        )

    _set_body_model(create_ticket, "ticket", request_model)

    @api.get(
        "/api/v1/submissions/{submission_id}",
        name="get_submission",
        operation_id="get_submission",
        tags=["submissions"],
        summary="Follow a submission",
        response_model=AcceptedResponse,
        responses=READ_RESPONSES,
    )
    def get_submission(
        request: Request,
        submission_id: Annotated[int, Path(description="`submission_id` of the answer.", **ID)],
        key: AccessKey = None,
    ) -> AcceptedResponse:
        """Where a submission stands; `ticket_number` is set once it has been ingested."""
        receipt = submissions.intake.receipt(submission_id) if is_id(submission_id) else None
        if receipt is None or not key_matches(key, receipt.access_key):
            raise HTTPException(404, detail=f"submission {submission_id} not found")
        return accepted_response(receipt, request)

    @api.get(
        "/api/v1/tickets/{number}",
        name="get_ticket",
        operation_id="get_ticket",
        tags=["tickets"],
        summary="Read a ticket",
        response_model=TicketResponse,
        responses={**READ_RESPONSES, 303: MERGED, **({200: PAGE_CONTENT} if page else {})},
    )
    def get_ticket(
        request: Request,
        number: Annotated[int, Path(description="The ticket number.", **ID)],
        key: AccessKey = None,
    ) -> Any:
        """A ticket with its status, its state in the requester's words, who handles it,
        and its public messages with their files. A browser (Accept: text/html before
        JSON) gets the requester's page instead: the same link works for both."""
        view = opened(request, tickets, number, key)  # a 404 page, or 303 to a merged one's
        if isinstance(view, Response):
            return view
        if page is not None and wants_html(request.headers.get("Accept", "")):
            return page.render(request, view)
        files = (lambda sha: file_link(request, view, sha)) if page is not None else None
        return TicketResponse.from_view(view, files)

    @api.get("/healthz", operation_id="healthz", tags=["health"], summary="Liveness")
    def healthz() -> dict[str, str]:
        """Always `{"status": "ok"}` while the process serves requests."""
        return {"status": "ok"}

    return api


def _set_body_model(endpoint: Callable[..., Any], param: str, model: type) -> None:
    """Type ``endpoint``'s ``param`` with ``model``, a class built per app from settings.

    FastAPI resolves string annotations in the module's globals, where a class
    made inside ``create_app`` cannot be named; a signature holding the class
    itself needs no resolving.
    """
    signature = inspect.signature(endpoint, eval_str=True)
    parameters = [
        p.replace(annotation=model) if p.name == param else p for p in signature.parameters.values()
    ]
    endpoint.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]


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
    elif loc == ["body"]:
        msg = (
            "the request body is missing: send a JSON object"
            if kind == "missing"
            else "the request body must be a JSON object (Content-Type: application/json)"
        )
    field = (".".join(loc[1:]) or loc[0]) if loc else ""
    return {"type": kind, "loc": loc, "field": field, "msg": msg}


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
