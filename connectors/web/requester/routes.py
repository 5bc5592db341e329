"""The routes of the requester's page: its forms (posted by browsers, not part of the
API) and the download of a ticket's files (in the API: a ticket's JSON links them)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import Response

from connectors.web.requester.api_messages import MessageAccepted, MessageRequest, add_message
from connectors.web.requester.forms_page import FormsPage
from connectors.web.requester.my_requests import MyRequestsPage
from connectors.web.requester.ticket_page import TicketPage
from connectors.web.schemas import BODY_ERRORS, ID, Problem, ValidationProblems


def page_router(
    page: TicketPage,
    forms: FormsPage | None,
    mine: MyRequestsPage,
    read_responses: dict[int | str, Any],
) -> APIRouter:
    router = APIRouter()

    @router.get("/my-requests", name="my_requests", include_in_schema=False)
    async def my_requests(request: Request) -> Response:
        return await mine.show(request)

    @router.post("/my-requests/sign-in", name="ask_sign_in_link", include_in_schema=False)
    async def ask_sign_in_link(request: Request) -> Response:
        return await mine.ask_link(request)

    @router.get("/my-requests/sign-in/{secret}", name="confirm_sign_in", include_in_schema=False)
    def confirm_sign_in(request: Request, secret: str) -> Response:
        return mine.confirm(request, secret)

    @router.post("/my-requests/sign-in/{secret}", name="use_sign_in_link", include_in_schema=False)
    async def use_sign_in_link(request: Request, secret: str) -> Response:
        return await mine.use_link(request, secret)

    if forms is not None:

        @router.get("/forms", name="list_forms", include_in_schema=False)
        def list_forms(request: Request) -> Response:
            return forms.listing(request)

        @router.get("/forms/{slug}", name="show_scenario_form", include_in_schema=False)
        def show_scenario_form(request: Request, slug: str) -> Response:
            return forms.show(request, slug)

        @router.post("/forms/{slug}", name="submit_scenario_form", include_in_schema=False)
        async def submit_scenario_form(request: Request, slug: str) -> Response:
            return await forms.submit(request, slug)

    @router.post("/requests/{number}/reply", name="reply_on_page", include_in_schema=False)
    async def reply_on_page(request: Request, number: int) -> Response:
        return await page.reply(request, number)

    @router.post("/requests/{number}/solved", name="solved_on_page", include_in_schema=False)
    async def solved_on_page(request: Request, number: int) -> Response:
        return await page.solved(request, number)

    @router.get("/requests/{number}/rating", name="rating_choice", include_in_schema=False)
    async def rating_choice(request: Request, number: int) -> Response:
        return await page.rating_choice(request, number)

    @router.post("/requests/{number}/rating", name="rate_on_page", include_in_schema=False)
    async def rate_on_page(request: Request, number: int) -> Response:
        return await page.rate(request, number)

    @router.post(
        "/api/v1/tickets/{number}/messages",
        name="add_ticket_message",
        operation_id="add_ticket_message",
        tags=["tickets"],
        summary="Add a message to a ticket (the requester)",
        status_code=201,
        response_model=MessageAccepted,
        responses={
            **read_responses,
            201: {"description": "Durable and joined to the ticket; Location is the ticket."},
            202: {
                "model": MessageAccepted,
                "description": "Durable, not yet joined to the ticket.",
            },
            **BODY_ERRORS,
            409: {
                "model": Problem,
                "description": "The ticket is closed (open a new request), or the "
                "Idempotency-Key was used before for a different message.",
            },
            422: {
                "model": ValidationProblems,
                "description": "Neither text nor a file, a field invalid, or a file refused "
                "(`files.<i>`: its size, its type by content, not base64).",
            },
        },
    )
    async def add_ticket_message(
        request: Request,
        number: Annotated[int, Path(description="The ticket number.", **ID)],
        message: MessageRequest,
        key: Annotated[
            str | None,
            Query(max_length=100, description="The ticket's `access_key`; else 404."),
        ] = None,
        idempotency_key: Annotated[
            str | None,
            Header(
                alias="Idempotency-Key",
                max_length=200,
                pattern=r"^[\x21-\x7e]+$",
                description="Sending the same key again adds the message once.",
            ),
        ] = None,
    ) -> Response:
        """The requester's message on their ticket, with files in base64, through the same
        intake as every message (as the ticket page's reply box); on a resolved ticket it
        reopens it. A closed ticket takes no more messages."""
        return await add_message(page, request, number, key, message, idempotency_key)

    @router.get(
        "/api/v1/tickets/{number}/files/{sha256}",
        name="get_ticket_file",
        operation_id="get_ticket_file",
        tags=["tickets"],
        summary="Download a file of a ticket",
        response_class=Response,
        responses={
            **read_responses,
            200: {
                "description": "The file, as an attachment.",
                "content": {"application/octet-stream": {"schema": {"type": "string"}}},
            },
        },
    )
    async def get_ticket_file(
        number: Annotated[int, Path(description="The ticket number.", **ID)],
        sha256: Annotated[
            str,
            Path(description="The file's SHA-256, as its `url` in the ticket names it."),
        ],
        key: Annotated[
            str | None,
            Query(max_length=100, description="The ticket's `access_key`; else 404."),
        ] = None,
    ) -> Response:
        """A file of the ticket's public conversation (the `url` of an attachment)."""
        return await page.file(number, sha256, key)

    return router
