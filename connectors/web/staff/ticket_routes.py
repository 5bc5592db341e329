"""Tickets for staff: the list (filters, sort, cursor, full-text search) and one in full.

Under ``/api/v1/desk/tickets``: ``/api/v1/tickets/{number}`` is the requester's
read (with its access key), so the staff's view of the same ticket has a path
of its own. A list shows only the caller's scope; a ticket outside it is 404.
"""

# no `from __future__ import annotations`: FastAPI reads these endpoints' annotations at
# run time, and they name dependencies made inside functions (no module global to resolve)

import re
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from connectors.ports import TicketDesk
from connectors.web.form_titles import FormTitles
from connectors.web.schemas import ID
from connectors.web.staff.gate import (
    AUTH_ERRORS,
    TICKET_ERRORS,
    StaffGate,
    TicketAccess,
    granted,
    ticket_not_found,
)
from connectors.web.staff.paths import TICKETS
from connectors.web.staff.query_params import Name, Names, instant
from connectors.web.staff.ticket_schemas import StaffTicketOut, TicketListOut
from router.access import Ability
from router.staff_views import Caller
from router.storable import MAX_ID, is_id
from router.ticket_list import MAX_PAGE, MAX_QUERY, TicketFilters, TicketOrder
from router.vocabulary import Channel, Priority, Status

PREFIX = TICKETS
ETAG_HEADER: dict[str, Any] = {
    "ETag": {
        "description": "The ticket's version: send it as If-Match with a change.",
        "schema": {"type": "string"},
    }
}


# OpenAPI links from the answer to POST /api/v1/tickets: the staff's reads and actions
STAFF_TICKET_LINKS: dict[str, Any] = {
    name: {"operationId": operation, "parameters": {"number": "$response.body#/ticket_number"}}
    for name, operation in (
        ("GetStaffTicket", "get_staff_ticket"),
        ("ReplyToTicket", "reply_to_ticket"),
        ("AddTicketNote", "add_ticket_note"),
        ("SetTicketStatus", "set_ticket_status"),
        ("EditTicket", "edit_ticket"),
        ("ClaimTicket", "claim_ticket"),
        ("AssignTicket", "assign_ticket"),
        ("TransferTicket", "transfer_ticket"),
        ("UnassignTicket", "unassign_ticket"),
    )
}


def etag(version: str) -> str:
    return f'"{version}"'


def unchanged(if_none_match: str, version: str) -> bool:
    """Whether an If-None-Match header names ``version`` (weak or strong) or is ``*``."""
    tags = [t.strip().removeprefix("W/").strip('"') for t in if_none_match.split(",")]
    return "*" in tags or version in tags


def ticket_router(gate: StaffGate, desk: TicketDesk, titles: FormTitles) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["staff tickets"])

    @router.get(
        "",
        operation_id="list_staff_tickets",
        summary="List and search tickets",
        response_model=TicketListOut,
        responses=AUTH_ERRORS,
    )
    async def list_tickets(
        caller: Annotated[Caller, Depends(gate.allowed(Ability.LIST_TICKETS))],
        status: Annotated[list[Status], Query(max_length=10)] = [],  # noqa: B006
        priority: Annotated[list[Priority], Query(max_length=10)] = [],  # noqa: B006
        team: Names = [],  # noqa: B006  (FastAPI copies a default)
        assignee: Names = [],  # noqa: B006
        unassigned: Annotated[
            bool, Query(description="Unassigned tickets (with `assignee`: theirs or none).")
        ] = False,
        channel: Annotated[list[Channel], Query(max_length=10)] = [],  # noqa: B006
        category: Names = [],  # noqa: B006
        tag: Annotated[list[Name], Query(max_length=50, description="Has any of them.")] = [],  # noqa: B006
        customer: Annotated[list[int], Query(max_length=50, description="Customer ids.")] = [],  # noqa: B006
        organisation: Names = [],  # noqa: B006
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        updated_from: datetime | None = None,
        updated_to: datetime | None = None,
        breached: Annotated[
            bool, Query(description="Only tickets with an SLA clock breached and running.")
        ] = False,
        due_within: Annotated[
            int | None,
            Query(
                ge=0,
                le=525_600,
                description="Only tickets with a running SLA clock due within this many minutes.",
            ),
        ] = None,
        q: Annotated[
            str,
            Query(
                max_length=MAX_QUERY,
                description="Words that must all occur in the ticket: its subject "
                "and its messages (internal notes included).",
            ),
        ] = "",
        sort: Annotated[
            TicketOrder,
            Query(
                description="`-updated` (default), `created`, `priority` (most "
                "urgent first), `number` ...; a leading `-` is descending. `relevance` "
                "(with `q` only) puts the best matches first."
            ),
        ] = TicketOrder.UPDATED_DESC,
        cursor: Annotated[
            str | None,
            Query(
                max_length=500,
                pattern=r"^[A-Za-z0-9_-]+$",
                description="`next_cursor` of the page before (with the same sort).",
            ),
        ] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 25,
    ) -> TicketListOut:
        """The tickets the caller may see (an agent: their own and their teams' unassigned
        ones; a supervisor: their teams'; an admin: all), filtered (each filter is "any
        of" its values, all filters together), sorted, a page at a time: `next_cursor`
        continues it."""
        for number in customer:
            if not 1 <= number <= MAX_ID:
                raise HTTPException(422, detail=f"customer: {number} is not an id")
        try:
            filters = TicketFilters(
                status=tuple(s.value for s in status),
                priority=tuple(p.value for p in priority),
                team=tuple(team),
                assignee=tuple(assignee),
                unassigned=unassigned,
                channel=tuple(c.value for c in channel),
                category=tuple(category),
                tag=tuple(tag),
                customer=tuple(customer),
                organisation=tuple(organisation),
                created_from=instant(created_from, "created_from"),
                created_to=instant(created_to, "created_to"),
                updated_from=instant(updated_from, "updated_from"),
                updated_to=instant(updated_to, "updated_to"),
                breached=breached,
                due_within_min=due_within,
                q=q.replace("\x00", " "),
            )
            page = await run_in_threadpool(
                desk.ticket_page, caller, filters, order=sort, cursor=cursor, limit=limit
            )
        except ValueError as exc:
            raise HTTPException(422, detail=str(exc)) from None
        return TicketListOut.of(page)

    @router.get(
        "/{number}",
        operation_id="get_staff_ticket",
        summary="Read a ticket in full",
        response_model=StaffTicketOut,
        responses={
            **TICKET_ERRORS,
            200: {"headers": ETAG_HEADER},
            304: {
                "description": "Not modified: the ticket is still at a version If-None-Match "
                "names (no body).",
                "headers": ETAG_HEADER,
            },
        },
    )
    async def get_ticket(
        number: Annotated[int, Path(description="The ticket number.", **ID)],
        caller: Annotated[Caller, Depends(gate.caller)],
        request: Request,
        response: Response,
        if_none_match: Annotated[
            str | None,
            Header(
                alias="If-None-Match",
                max_length=2000,
                description='ETags read before (`"42-..."`, comma between); when the '
                "ticket is still at one of them the answer is 304, without a body.",
            ),
        ] = None,
    ) -> Any:
        """The conversation with internal notes marked, attachments, SLA clocks, why it was
        assigned as it is, and the audit log; its ETag (also `version`) goes with a change
        as If-Match, and with a later read as If-None-Match (304 while unchanged)."""
        if not is_id(number):
            raise ticket_not_found(number)
        if if_none_match is not None:
            current = await run_in_threadpool(desk.version_for, caller, number)
            if current is not None and unchanged(if_none_match, current):
                return Response(status_code=304, headers={"ETag": etag(current)})
        # the scope and the read in one transaction (``gate.on_ticket`` and a read are two)
        verdict, ticket = await run_in_threadpool(
            desk.staff_ticket_for, caller, number, Ability.VIEW_TICKET
        )
        ticket = granted(verdict, ticket, caller, Ability.VIEW_TICKET, number)
        response.headers["ETag"] = etag(ticket.version)
        reader, accepted = caller.principal.name, request.headers.get("accept-language")
        return StaffTicketOut.of(ticket, titles.title(ticket.form, reader, accepted or ""))

    @router.get(
        "/{number}/attachments/{attachment_id}",
        operation_id="get_staff_ticket_attachment",
        summary="Download an attachment",
        response_class=Response,
        responses={
            **TICKET_ERRORS,
            200: {
                "description": "The file's bytes, with the type it came with.",
                "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            },
        },
    )
    async def get_attachment(
        access: Annotated[TicketAccess, Depends(gate.on_ticket(Ability.VIEW_TICKET))],
        attachment_id: Annotated[int, Path(description="The attachment's id.", **ID)],
    ) -> Response:
        """A file of one of the ticket's messages (`messages[].attachments[].id`), as it came;
        404 for one of another ticket or one whose bytes were not kept."""
        found = (
            await run_in_threadpool(desk.attachment_file, access.ticket.number, attachment_id)
            if is_id(attachment_id)
            else None
        )
        if found is None:
            raise HTTPException(404, detail="no such file on this ticket")
        attachment, data = found
        return Response(
            data,
            media_type=media_type(attachment.content_type),
            headers={
                "Content-Disposition": content_disposition(attachment.filename),
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'none'; sandbox",
                "Cache-Control": "private, no-store",
            },
        )

    return router


def media_type(given: str) -> str:
    """The type a file came with, when it is a plain ``type/subtype``; else bytes."""
    plain = given.split(";")[0].strip().lower()
    return (
        plain if re.fullmatch(r"[a-z0-9.+-]+/[a-z0-9.+-]+", plain) else "application/octet-stream"
    )


def content_disposition(filename: str) -> str:
    """A download, named as it came (RFC 6266: an ASCII fallback and the UTF-8 name)."""
    fallback = filename.encode("ascii", "replace").decode().replace('"', "_").replace("\\", "_")
    fallback = "".join(c if c.isprintable() else "_" for c in fallback)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
