"""The supervisor's board (``router.board``): read once, for the caller's teams."""

from __future__ import annotations

from router.board import EVENTS_SINCE, WAITING_SHOWN, Board, board_team_ids, make_board
from router.staff_views import Caller
from store.board_queries import BoardQueries
from workers.desk.workload import agent_loads
from workers.runtime.context import Runtime


def supervisor_board(runtime: Runtime, caller: Caller) -> Board:
    """The board of the teams ``caller`` supervises (an admin: every team)."""
    now = runtime.now()
    with runtime.db.unit_of_work() as uow:
        teams = board_team_ids(caller.principal, uow.staff.team_names())
        queries = BoardQueries(uow.session)
        held = queries.held()
        waiting, total = queries.waiting(teams, limit=WAITING_SHOWN)
        events = queries.sla_events(teams, now - EVENTS_SINCE)
    return make_board(
        teams=teams.values(),
        loads=agent_loads(runtime),
        held=held,
        waiting=waiting,
        waiting_total=total,
        events=events,
        now=now,
    )
