"""The ticket page (``GET /desk/tickets/{number}``: the API's staff read) and its macro
form; the other actions' forms are in ``action_pages``."""

# no `from __future__ import annotations`: FastAPI reads these endpoints' annotations at
# run time, and they name dependencies made inside functions (no module global to resolve)

from collections.abc import Sequence
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from connectors.ports import Staff
from connectors.web.route_paths import url_path
from connectors.web.schemas import ID
from connectors.web.staff.gate import granted, ticket_not_found
from connectors.web.uploads import FileProblem
from connectors.web.workspace.door import PREFIX, PageDoor
from connectors.web.workspace.pages import Pages
from router.access import Ability
from router.errors import NotFound, PermanentError, StaleVersion
from router.macros import MacroFacts, macro_text
from router.staff_views import Caller
from router.storable import is_id
from router.vocabulary import Status

OTHER_TICKETS = 10

Number = Annotated[int, Path(**ID)]


async def ticket_page(
    pages: Pages,
    desk: Staff,
    request: Request,
    caller: Caller,
    number: int,
    *,
    status: int = 200,
    draft: dict[str, str] | None = None,
    conflict: bool = False,
    refused: str = "",
    file_problems: Sequence[FileProblem] = (),
) -> HTMLResponse:
    """The page of ticket ``number``: 404 outside the caller's scope (as for no such
    ticket), 403 beyond their role, as the staff gate answers. After a refused
    action: ``draft`` is what was submitted (kept in its box), ``conflict`` that the ticket
    changed since the form's version (the changes since are listed), ``refused`` why."""
    if not is_id(number):
        raise ticket_not_found(number)
    verdict, facts = await run_in_threadpool(
        partial(desk.ticket_page_facts, others=OTHER_TICKETS), caller, number
    )
    facts = granted(verdict, facts, caller, Ability.VIEW_TICKET, number)
    found = facts.ticket
    draft = draft or {}
    seen = int(draft["seen"]) if draft.get("seen", "").isdigit() else 0
    principal = caller.principal
    configured = pages.agents.get(principal.name)
    macro_facts = MacroFacts(
        requester_name=found.requester_name or found.requester_address,
        ticket_number=found.number,
        agent_name=(configured.display_name if configured else "") or principal.name,
    )
    return await pages.page(
        request,
        "ticket.html",
        caller,
        status=status,
        ticket=found,
        form_title=pages.form_titles.title(
            found.form, principal.name, request.headers.get("accept-language") or ""
        ),
        own_status=facts.own_status,
        others=facts.others,
        macros=facts.macros,
        macro_texts={m.name: macro_text(m.body, macro_facts) for m in facts.macros},
        done=request.query_params.get("done", ""),
        draft=draft,
        conflict=conflict,
        refused=refused,
        file_problems=file_problems,
        max_files=pages.web.files_per_message,
        max_file_mb=pages.web.max_file_bytes // 1_000_000,
        changed_since=[e for e in found.audit if e.id > seen] if conflict else [],
        seen=max((e.id for e in found.audit), default=0),
        statuses=[s.value for s in Status],
        can_assign=facts.may_assign,
        agent_names=facts.agent_names,
        team_names=pages.team_names,
    )


def ticket_router(pages: Pages, door: PageDoor, desk: Staff) -> APIRouter:
    router = APIRouter(prefix=PREFIX, include_in_schema=False)

    @router.get("/tickets/{number}", name="workspace_ticket", response_class=HTMLResponse)
    async def ticket(
        request: Request, number: Number, caller: Annotated[Caller, Depends(door.caller)]
    ) -> HTMLResponse:
        return await ticket_page(pages, desk, request, caller, number)

    @router.post("/tickets/{number}/macro", name="workspace_macro")
    async def apply_macro(
        request: Request,
        number: Number,
        caller: Annotated[Caller, Depends(door.caller)],
        macro: Annotated[str, Form()] = "",
    ) -> Response:
        """The API's ``POST /api/v1/desk/tickets/{number}/macro``, as a form."""
        access = await door.on_ticket(caller, number, Ability.REPLY)
        try:
            await run_in_threadpool(desk.apply_macro, caller, access.ticket.number, macro[:64])
        except NotFound as exc:
            raise HTTPException(404, detail=str(exc)) from None
        except PermanentError as exc:
            raise HTTPException(409, detail=str(exc)) from None
        return back_to(request, number, "macro")

    @router.post("/tickets/{number}/split", name="workspace_split")
    async def split(
        request: Request,
        number: Number,
        caller: Annotated[Caller, Depends(door.caller)],
        message_id: Annotated[int, Form(**ID)],
        subject: Annotated[str, Form(max_length=998)] = "",
        version: Annotated[str, Form(max_length=200)] = "",
    ) -> Response:
        """The API's ``POST /api/v1/desk/tickets/{number}/split``, as a form: to the new
        ticket's page."""
        access = await door.on_ticket(caller, number, Ability.EDIT_FIELDS)
        try:
            new = await run_in_threadpool(
                partial(desk.split_message, if_match=version or None),
                caller,
                access.ticket.number,
                message_id,
                subject,
            )
        except StaleVersion:
            return await ticket_page(
                pages, desk, request, caller, number, status=409, draft={}, conflict=True
            )
        except NotFound as exc:
            raise HTTPException(404, detail=str(exc)) from None
        except PermanentError as exc:
            raise HTTPException(409, detail=str(exc)) from None
        return back_to(request, new, "split")

    return router


def back_to(request: Request, number: int, done: str, *, board: bool = False) -> Response:
    """To the ticket page (or the board) after an action: POST, then GET, so a reload does
    not repeat it."""
    if board:
        return RedirectResponse(url_path(request, "workspace_board") + "?done=assign", 303)
    target = url_path(request, "workspace_ticket", number=number) + f"?done={done}"
    return RedirectResponse(target, status_code=303)
