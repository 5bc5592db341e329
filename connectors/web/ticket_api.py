"""The web channel's public ticket API: open a ticket (``POST /api/v1/tickets``), follow
its submission, read it back (JSON for a program, the requester's page for a browser).

A submission is answered only once intake has made it durable, then waits a moment
for its ticket (``connectors.web.submissions``).
"""

from __future__ import annotations

import inspect
import logging
import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from config.settings import WebSettings
from connectors.ports import TicketQueries
from connectors.web.form import RETRY_AFTER_S
from connectors.web.requester.api_files import KeepFile, keep_files, read_files
from connectors.web.requester.negotiation import wants_html
from connectors.web.requester.ticket_page import (
    MERGED,
    TicketPage,
    file_link,
    key_matches,
    opened,
)
from connectors.web.schemas import (
    BODY_ERRORS,
    ID,
    AcceptedResponse,
    Problem,
    TicketRequest,
    TicketResponse,
    ValidationProblems,
)
from connectors.web.submissions import IdempotencyConflict, Submissions, accepted_response
from router.errors import TransientError
from router.storable import is_id

log = logging.getLogger(__name__)

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


AccessKey = Annotated[
    str | None,
    Query(
        alias="key",
        max_length=100,
        description="The `access_key` returned when the ticket was submitted. Without the "
        "right key the answer is 404, as for a ticket that does not exist.",
    ),
]


def ticket_api(
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
            **BODY_ERRORS,
            409: {
                "model": Problem,
                "description": "The Idempotency-Key was used before for a different request: "
                "use a new key for a new request.",
            },
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
