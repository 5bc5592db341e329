"""Saved searches: an agent keeps a set of the list's filters under a name (a supervisor may
share one with a team they supervise); each is listed with its count, and lists its
tickets through the staff list's one query, in the caller's scope."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from router.errors import NotFound, PermanentError
from router.queue_views import COUNT_CAP
from router.saved_searches import (
    MAX_SEARCHES,
    SavedSearch,
    may_remove,
    may_share_with,
    search_filters,
    sees,
)
from router.staff_views import Caller
from router.ticket_list import TicketFilters
from store.db import UnitOfWork
from store.ticket_counts import capped_totals
from workers.runtime.context import Runtime


def saved_searches(runtime: Runtime, caller: Caller) -> list[tuple[SavedSearch, int]]:
    """The caller's own searches and those shared with their teams, each with how many
    tickets it lists now (up to ``COUNT_CAP``)."""
    now = runtime.now()
    with runtime.db.unit_of_work() as uow:
        found = searches_in(uow, caller)
        counts = capped_totals(
            uow.session, caller.principal, search_lists(found), cap=COUNT_CAP, now=now
        )
    return list(zip(found, counts, strict=True))


def searches_in(uow: UnitOfWork, caller: Caller) -> list[SavedSearch]:
    """The caller's own searches and those shared with a team they are in or supervise,
    in the caller's transaction."""
    teams = tuple({*caller.teams, *caller.supervised})
    return uow.saved_searches.of(caller.principal.name, teams)


def search_lists(searches: Sequence[SavedSearch]) -> list[list[TicketFilters]]:
    """Each search's filters, as the groups ``store.ticket_counts.capped_totals`` counts."""
    return [[search_filters(search.filters)] for search in searches]


def saved_search(runtime: Runtime, caller: Caller, search_id: int) -> SavedSearch:
    """One the caller sees; ``NotFound`` for any other (as for none)."""
    with runtime.db.unit_of_work() as uow:
        found = uow.saved_searches.get(search_id)
    if found is None or not sees(caller, found):
        raise NotFound(f"no saved search {search_id}")
    return found


def save_search(
    runtime: Runtime, caller: Caller, name: str, filters: dict[str, Any], team: str | None
) -> SavedSearch:
    """Keep ``filters`` under ``name`` for the caller (shared with ``team``). ``ValueError``
    for filters that are not the list's or an unknown team, ``PermanentError`` for a team
    the caller may not share with or a name they use already."""
    search_filters(filters)  # refused here, not when it is listed
    if team is not None:
        if team not in {t.name for t in runtime.settings.teams}:
            raise ValueError(f"team: no team named {team!r}")
        if not may_share_with(caller, team):
            raise PermissionError(f"only a supervisor of {team} shares a search with it")
    owner = caller.principal.name
    with runtime.db.unit_of_work() as uow:
        if uow.saved_searches.named(owner, name) is not None:
            raise PermanentError(f"you have a saved search named {name!r}")
        if uow.saved_searches.count_of(owner) >= MAX_SEARCHES:
            raise PermanentError(f"at most {MAX_SEARCHES} saved searches each")
        return uow.saved_searches.add(
            owner=owner, name=name, team=team, filters=filters, now=runtime.now()
        )


def remove_search(runtime: Runtime, caller: Caller, search_id: int) -> None:
    """``NotFound`` for one the caller does not see; ``PermissionError`` for one shared
    with them that they may not remove."""
    with runtime.db.unit_of_work() as uow:
        found = uow.saved_searches.get(search_id)
        if found is None or not sees(caller, found):
            raise NotFound(f"no saved search {search_id}")
        if not may_remove(caller, found):
            raise PermissionError("a shared search is removed by its owner or a supervisor")
        uow.saved_searches.remove(search_id)
