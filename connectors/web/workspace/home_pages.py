"""The workspace's start page (the views with their counts, a view's tickets, the search)
and the header's own-status switch."""

# no `from __future__ import annotations`: FastAPI reads these endpoints' annotations at
# run time, and they name dependencies made inside functions (no module global to resolve)

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from connectors.ports import Staff
from connectors.web.staff.query_params import checked
from connectors.web.workspace.door import PREFIX, PageDoor, local_path
from connectors.web.workspace.pages import Pages
from router.access import Ability
from router.errors import NotFound
from router.queue_views import View, count_text, views_of
from router.saved_searches import may_remove, may_share_with, search_filters
from router.staff_views import Caller
from router.storable import MAX_ID
from router.ticket_list import MAX_QUERY, TicketFilters, TicketOrder
from router.vocabulary import AgentStatus

SHOWN = 50  # tickets on a view's page


def home_router(pages: Pages, door: PageDoor, desk: Staff) -> APIRouter:
    router = APIRouter(prefix=PREFIX, include_in_schema=False)

    @router.get("/", name="workspace_home", response_class=HTMLResponse)
    async def home(
        request: Request,
        caller: Annotated[Caller, Depends(door.caller)],
        view: Annotated[str, Query(max_length=40)] = "",
        q: Annotated[str, Query(max_length=MAX_QUERY)] = "",
        status: Annotated[str, Query(max_length=20)] = "",
        priority: Annotated[str, Query(max_length=20)] = "",
        team: Annotated[str, Query(max_length=200)] = "",
        channel: Annotated[str, Query(max_length=20)] = "",
        tag: Annotated[str, Query(max_length=200)] = "",
        saved: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    ) -> HTMLResponse:
        """A view's tickets (``mine`` unless another is chosen), or without a view the
        search over every ticket in the caller's scope: words (``q``) and the list's
        filters (a bookmark of the page keeps the search)."""
        door.allowed(caller, Ability.LIST_TICKETS)
        mine = views_of(caller)
        chosen = next((v for v in mine if v.value == view), None)
        chosen_filters = {
            "status": status,
            "priority": priority,
            "team": team,
            "channel": channel,
            "tag": tag,
        }
        given = {name: (checked([v], name) if v else ()) for name, v in chosen_filters.items()}
        searching = chosen is None and (bool(q.strip()) or any(given.values()))
        search = None
        if saved is not None and chosen is None:
            try:
                search = await run_in_threadpool(desk.saved_search, caller, saved)
            except NotFound as exc:
                raise HTTPException(404, detail=str(exc)) from None
            searching = False
        if chosen is None and not searching and search is None:
            chosen = View.MINE
        # a view's tickets are read with the counts, in their transaction
        listed = chosen if search is None and not searching else None
        side = await run_in_threadpool(
            partial(desk.queue_facts, q=q, limit=SHOWN + 1), caller, listed
        )
        if search is not None:
            found = await run_in_threadpool(
                desk.ticket_page,
                caller,
                search_filters(search.filters),
                order=TicketOrder.UPDATED_DESC,
                cursor=None,
                limit=SHOWN,
            )
            tickets = list(found.tickets)
            more = found.next_cursor is not None
        elif searching:
            found = await run_in_threadpool(
                desk.ticket_page,
                caller,
                TicketFilters(
                    q=q,
                    status=given["status"],
                    priority=given["priority"],
                    team=given["team"],
                    channel=given["channel"],
                    tag=given["tag"],
                ),
                order=TicketOrder.UPDATED_DESC,
                cursor=None,
                limit=SHOWN,
            )
            tickets = list(found.tickets)
            more = found.next_cursor is not None
        else:
            tickets = list(side.tickets)
            more = len(tickets) > SHOWN
            tickets = tickets[:SHOWN]
        return await pages.page(
            request,
            "views.html",
            caller,
            own_status=side.own_status,
            views=[(v.value, count_text(side.counts.get(v, 0))) for v in mine],
            chosen=chosen.value if chosen else "",
            q=q,
            filters=chosen_filters,
            searching=searching,
            team_names=pages.team_names,
            tickets=tickets,
            more=more,
            saved_searches=[(s, count_text(n)) for s, n in side.saved_searches],
            search=search,
            may_remove=may_remove(caller, search) if search else False,
            share_teams=[t for t in pages.team_names if may_share_with(caller, t)],
        )

    @router.post("/status", name="workspace_status")
    async def set_status(
        caller: Annotated[Caller, Depends(door.caller)],
        status: Annotated[str, Form()] = "",
        back: Annotated[str, Form()] = "",
    ) -> Response:
        """The header's switch: the API's ``PUT /api/v1/agents/me/status``, as a form."""
        door.allowed(caller, Ability.SET_OWN_STATUS)
        try:
            chosen = AgentStatus(status)
        except ValueError:
            raise HTTPException(422, detail="status") from None
        await run_in_threadpool(desk.set_own_status, caller, chosen)
        return RedirectResponse(local_path(back, PREFIX + "/"), status_code=303)

    return router
