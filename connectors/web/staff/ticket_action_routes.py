"""What staff do to a ticket over HTTP: reply, note, status, assign, transfer, claim,
unassign, and edit its fields.

Each calls the desk's one use case for it (the command line and Telegram call the
same), recorded in the audit log with the caller and their address. A write may
send ``If-Match`` with the ETag it read: when the ticket changed since, the answer
is 412 and nothing is written. The answer gives the new version (also as ETag).
"""

# no `from __future__ import annotations`: FastAPI reads these endpoints' annotations at
# run time, and they name dependencies made inside functions (no module global to resolve)

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Header, HTTPException, Response, UploadFile
from starlette.concurrency import run_in_threadpool

from config.settings import WebSettings
from connectors.ports import TicketActions
from connectors.web.schemas import BODY_ERRORS, Problem
from connectors.web.staff.gate import (
    TICKET_ERRORS,
    StaffGate,
    TicketAccess,
    TicketAction,
    ticket_not_found,
)
from connectors.web.staff.paths import UPLOADS
from connectors.web.staff.ticket_action_schemas import (
    ActionOut,
    AssignRequest,
    EditRequest,
    NoteRequest,
    ReplyRequest,
    StatusRequest,
    TransferRequest,
    UnassignRequest,
    UploadOut,
)
from connectors.web.staff.ticket_routes import ETAG_HEADER, PREFIX, etag
from connectors.web.uploads import FileProblem, check_uploads
from router.access import Ability
from router.errors import NotAllowed, NotFound, OutOfScope, PermanentError, StaleVersion
from router.ticket_edits import TicketEdit

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=200,
        description='The ETag the ticket was read with (`"42-..."`); `*` or none: whatever '
        "its version.",
    ),
]
ACTION_ERRORS: dict[int | str, dict[str, Any]] = {
    **BODY_ERRORS,
    **TICKET_ERRORS,
    409: {
        "model": Problem,
        "description": "The ticket's state refuses it (closed, a move the lifecycle forbids, "
        "an agent without room, already taken).",
    },
    412: {"model": Problem, "description": "The ticket changed since If-Match's version."},
    200: {"headers": ETAG_HEADER},
    201: {"headers": ETAG_HEADER},
}


def expected_version(if_match: str | None) -> str | None:
    """The version an If-Match header names (its first entity tag); None for ``*``."""
    if if_match is None:
        return None
    first = if_match.split(",")[0].strip()
    if first in ("", "*"):
        return None
    return first.removeprefix("W/").strip('"')


@dataclass(frozen=True)
class Done:
    """What an action changed, and the ticket's version after it when the use case knew it
    (None: read after)."""

    changed: tuple[str, ...]
    version: str | None = None


async def _act(
    actions: TicketActions,
    access: TicketAccess | TicketAction,
    response: Response,
    do: Callable[[], tuple[str, ...] | Done],
) -> ActionOut:
    number = access.number if isinstance(access, TicketAction) else access.ticket.number
    try:
        done = await run_in_threadpool(do)
    except StaleVersion as exc:
        raise HTTPException(412, detail=str(exc)) from None
    except OutOfScope:
        raise ticket_not_found(number) from None
    except NotAllowed as exc:
        raise HTTPException(403, detail=str(exc)) from None
    except NotFound as exc:
        raise HTTPException(422, detail=str(exc)) from None
    except ValueError as exc:
        raise HTTPException(422, detail=str(exc)) from None
    except PermanentError as exc:
        raise HTTPException(409, detail=str(exc)) from None
    changed, version = (done.changed, done.version) if isinstance(done, Done) else (done, None)
    if version is None:
        version = await run_in_threadpool(actions.version_for, access.caller, number)
    if version is not None:
        response.headers["ETag"] = etag(version)
    return ActionOut(number=number, version=version, changed=list(changed))


def ticket_action_routers(
    gate: StaffGate, actions: TicketActions, web: WebSettings
) -> tuple[APIRouter, APIRouter]:
    """The ticket actions' router and the uploads' (two prefixes), each for the app to
    include itself (a router between would have FastAPI build their routes once more)."""
    router = APIRouter(prefix=PREFIX, tags=["staff tickets"], responses=ACTION_ERRORS)
    uploads = APIRouter(prefix=UPLOADS.rstrip("/"), tags=["staff tickets"])

    @uploads.post(
        "/{number}",
        operation_id="upload_reply_file",
        summary="Upload a file for a reply",
        status_code=201,
        response_model=UploadOut,
        responses={**BODY_ERRORS, **TICKET_ERRORS},
    )
    async def upload(
        access: Annotated[TicketAccess, Depends(gate.on_ticket(Ability.REPLY))],
        file: Annotated[UploadFile, File(description="The file (multipart/form-data).")],
    ) -> UploadOut:
        """Keep a file to send with a reply to this ticket (`files` of the reply names it):
        at most `web.max_file_bytes`, of a type `web.file_types` accepts, by its content.
        Kept content-addressed, as email attachments are."""
        data = await file.read(web.max_file_bytes + 1)
        kept, problems = check_uploads(
            [(file.filename or "file", data)],
            max_files=1,
            max_bytes=web.max_file_bytes,
            accepted=web.file_types,
        )
        if problems:
            raise HTTPException(422, detail=_refusal(problems[0]))
        [upload] = kept
        sha256 = await run_in_threadpool(actions.keep_file, upload.data)
        return UploadOut(
            sha256=sha256,
            filename=upload.filename,
            content_type=upload.content_type,
            size=len(upload.data),
        )

    @router.post(
        "/{number}/replies",
        operation_id="reply_to_ticket",
        summary="Reply to the requester",
        status_code=201,
        response_model=ActionOut,
    )
    async def reply(
        body: ReplyRequest,
        access: Annotated[TicketAction, Depends(gate.acting_on())],
        response: Response,
        if_match: IfMatch = None,
    ) -> ActionOut:
        """A public answer, sent to the requester on the channel they used (as
        `relaydesk tickets reply` and a reply in Telegram), with the `files` uploaded for
        it (attached to the mail; each a document in a chat); then `status`, if given."""

        if len(body.files) > web.files_per_message:
            raise HTTPException(422, detail=f"files: at most {web.files_per_message}")

        def do() -> Done:
            version = actions.reply(
                access.caller,
                access.number,
                body.text,
                status=body.status,
                if_match=expected_version(if_match),
                files=tuple((f.sha256, f.filename) for f in body.files),
            )
            return Done(("messages", *(("status",) if body.status else ())), version)

        return await _act(actions, access, response, do)

    @router.post(
        "/{number}/notes",
        operation_id="add_ticket_note",
        summary="Add an internal note",
        status_code=201,
        response_model=ActionOut,
    )
    async def note(
        body: NoteRequest,
        access: Annotated[TicketAction, Depends(gate.acting_on())],
        response: Response,
        if_match: IfMatch = None,
    ) -> ActionOut:
        """A note for staff only; each agent it @mentions is told on their own channel."""

        def do() -> Done:
            version = actions.note(
                access.caller, access.number, body.text, if_match=expected_version(if_match)
            )
            return Done(("messages",), version)

        return await _act(actions, access, response, do)

    @router.put(
        "/{number}/status",
        operation_id="set_ticket_status",
        summary="Change the status",
        response_model=ActionOut,
    )
    async def set_status(
        body: StatusRequest,
        access: Annotated[TicketAccess, Depends(gate.on_ticket(Ability.CHANGE_STATUS))],
        response: Response,
        if_match: IfMatch = None,
    ) -> ActionOut:
        """Move the ticket through its lifecycle (new, open, pending, resolved, closed), its
        agent's slot and SLA clocks with it."""

        def do() -> tuple[str, ...]:
            actions.set_status(
                access.caller,
                access.ticket.number,
                body.status,
                reason=body.reason,
                if_match=expected_version(if_match),
            )
            return ("status",)

        return await _act(actions, access, response, do)

    @router.post(
        "/{number}/assign",
        operation_id="assign_ticket",
        summary="Assign to an agent",
        response_model=ActionOut,
    )
    async def assign(
        body: AssignRequest,
        access: Annotated[TicketAccess, Depends(gate.on_ticket(Ability.ASSIGN))],
        response: Response,
        if_match: IfMatch = None,
    ) -> ActionOut:
        """Give the ticket to an agent (taking it from its assignee), within their capacity
        unless `force`; the agent is told."""

        def do() -> tuple[str, ...]:
            actions.assign(
                access.caller,
                access.ticket.number,
                body.agent,
                reason=body.reason,
                force=body.force,
                if_match=expected_version(if_match),
            )
            return ("assignee",)

        return await _act(actions, access, response, do)

    @router.post(
        "/{number}/transfer",
        operation_id="transfer_ticket",
        summary="Transfer to an agent or a team",
        response_model=ActionOut,
    )
    async def transfer(
        body: TransferRequest,
        access: Annotated[TicketAccess, Depends(gate.on_ticket(Ability.ASSIGN))],
        response: Response,
        if_match: IfMatch = None,
    ) -> ActionOut:
        """To another agent, or to a team's queue (where it waits its turn), with a reason."""

        def do() -> tuple[str, ...]:
            actions.transfer(
                access.caller,
                access.ticket.number,
                agent=body.agent,
                team=body.team,
                reason=body.reason,
                if_match=expected_version(if_match),
            )
            return ("assignee",) if body.agent else ("team", "assignee")

        return await _act(actions, access, response, do)

    @router.post(
        "/{number}/claim",
        operation_id="claim_ticket",
        summary="Claim it for oneself",
        response_model=ActionOut,
    )
    async def claim(
        access: Annotated[TicketAccess, Depends(gate.on_ticket(Ability.CLAIM))],
        response: Response,
        if_match: IfMatch = None,
    ) -> ActionOut:
        """Take an unassigned ticket of one's team (or one offered to one): the first claim
        wins; never past one's capacity."""

        def do() -> tuple[str, ...]:
            actions.claim(access.caller, access.ticket.number, if_match=expected_version(if_match))
            return ("assignee",)

        return await _act(actions, access, response, do)

    @router.post(
        "/{number}/unassign",
        operation_id="unassign_ticket",
        summary="Give it back to the queue",
        response_model=ActionOut,
    )
    async def unassign(
        body: UnassignRequest,
        access: Annotated[TicketAccess, Depends(gate.on_ticket(Ability.ASSIGN))],
        response: Response,
        if_match: IfMatch = None,
    ) -> ActionOut:
        """Take the ticket from its agent; it waits its turn in its team's queue."""

        def do() -> tuple[str, ...]:
            actions.unassign(
                access.caller,
                access.ticket.number,
                reason=body.reason,
                if_match=expected_version(if_match),
            )
            return ("assignee",)

        return await _act(actions, access, response, do)

    @router.patch(
        "/{number}",
        operation_id="edit_ticket",
        summary="Edit priority, category, team, tags, custom fields",
        response_model=ActionOut,
    )
    async def edit(
        body: EditRequest,
        access: Annotated[TicketAccess, Depends(gate.on_ticket(Ability.EDIT_FIELDS))],
        response: Response,
        if_match: IfMatch = None,
    ) -> ActionOut:
        """The fields given change, the others stay; a priority, category or team change
        plans the SLA clocks again under the policy that now matches, and a team its agent
        is not in puts the ticket in that team's queue. `changed` names what changed."""
        change = TicketEdit(
            priority=body.priority.value if body.priority else None,
            category=body.category,
            team=body.team,
            tags=tuple(body.tags) if body.tags is not None else None,
            custom_fields=dict(body.custom_fields) if body.custom_fields is not None else None,
        )

        def do() -> tuple[str, ...]:
            return actions.edit_fields(
                access.caller,
                access.ticket.number,
                change,
                reason=body.reason,
                if_match=expected_version(if_match),
            )

        return await _act(actions, access, response, do)

    return router, uploads


def _refusal(problem: FileProblem) -> str:
    if problem.kind == "too_large":
        return f"{problem.filename}: over {problem.limit} bytes"
    if problem.kind == "empty":
        return f"{problem.filename}: empty"
    return f"{problem.filename}: {problem.content_type} files are not accepted"
