"""What the workspace's pages read besides their list, each in one transaction
(``workers.desk.page_reads``), on SQLite and PostgreSQL: the same facts the separate
reads gave (scope, the requester's other tickets, whom to assign to, the counts)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import event

from router.access import Verdict
from router.queue_views import View, view_queries
from router.staff_views import Caller
from router.ticket_list import TicketFilters
from router.vocabulary import AgentStatus
from store.ticket_counts import capped_counts, capped_totals
from tests.support.staff import PASSWORD, StaffDesk, staff_desk
from workers.desk.agents import set_agent_status
from workers.desk.page_reads import queue_facts, ticket_page_facts
from workers.desk.saved_searches import save_search
from workers.desk.sign_in import sign_in

pytestmark = pytest.mark.integration


@pytest.fixture
def desk(database_url: str) -> Iterator[StaffDesk]:
    with staff_desk(database_url) as staff:
        yield staff


def caller(desk: StaffDesk, name: str) -> Caller:
    return sign_in(desk.runtime, name, PASSWORD, address=None).caller


class Transactions:
    """Counts the transactions begun on ``desk``'s engine while it is held."""

    def __init__(self, desk: StaffDesk) -> None:
        self.engine = desk.runtime.db.engine
        self.begun = 0

    def _begin(self, _conn: object) -> None:
        self.begun += 1

    def __enter__(self) -> Transactions:
        event.listen(self.engine, "begin", self._begin)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "begin", self._begin)


def test_the_ticket_page_reads_its_facts_in_one_transaction(desk: StaffDesk) -> None:
    number = desk.ticket("support", "ana")
    other = desk.ticket("support", "ana")  # the same requester's
    elsewhere = desk.ticket("billing", None)  # theirs too, out of ana's scope
    set_agent_status(desk.runtime, "ana", AgentStatus.AWAY)
    ana = caller(desk, "ana")
    with Transactions(desk) as counted:
        verdict, facts = ticket_page_facts(desk.runtime, ana, number, others=10)
    assert counted.begun == 1
    assert verdict is Verdict.ALLOWED and facts is not None
    assert facts.ticket.number == number
    assert [t.number for t in facts.others] == [other]  # not itself, not out of scope
    assert elsewhere not in [t.number for t in facts.others]
    assert [m.name for m in facts.macros] == ["thanks", "reset", "on-it"]
    assert facts.own_status == "away"
    assert not facts.may_assign and facts.agent_names == ()  # an agent may not assign


def test_one_who_may_assign_gets_every_agents_name(desk: StaffDesk) -> None:
    number = desk.ticket("support", None)
    verdict, facts = ticket_page_facts(desk.runtime, caller(desk, "sam"), number, others=10)
    assert verdict is Verdict.ALLOWED and facts is not None
    assert facts.may_assign
    assert facts.agent_names == ("ana", "ben", "kim", "root", "sam")
    assert facts.own_status is not None


def test_out_of_scope_or_missing_is_hidden_and_reads_nothing_more(desk: StaffDesk) -> None:
    number = desk.ticket("support", "ana")
    assert ticket_page_facts(desk.runtime, caller(desk, "kim"), number, others=10) == (
        Verdict.HIDDEN,
        None,
    )
    assert ticket_page_facts(desk.runtime, caller(desk, "ana"), number + 99, others=10) == (
        Verdict.HIDDEN,
        None,
    )


def test_the_queue_side_counts_as_the_views_list_in_one_transaction(desk: StaffDesk) -> None:
    for team, assignee in [("support", "ana"), ("support", None), ("support", "ben")]:
        desk.ticket(team, assignee)
    desk.ticket("billing", None)
    sam = caller(desk, "sam")
    save_search(desk.runtime, sam, "support's", {"team": ["support"]}, None)
    save_search(desk.runtime, sam, "billing's", {"team": ["billing"]}, None)
    with Transactions(desk) as counted:
        side = queue_facts(desk.runtime, sam)
    assert counted.begun == 1
    assert side.tickets == ()  # no view asked for
    for view in (View.MINE, View.UNASSIGNED, View.WAITING, View.ALL):
        listed = queue_facts(desk.runtime, sam, view, limit=100).tickets
        assert side.counts[view] == len(listed), view
    listed = queue_facts(desk.runtime, sam, View.ALL, limit=2).tickets
    assert len(listed) == 2 and all(t.team == "support" for t in listed)
    assert queue_facts(desk.runtime, sam, View.ALL, q="nothing-like-it", limit=50).tickets == ()
    assert side.counts[View.ALL] == 3  # support's: sam supervises it, not billing
    assert [(s.name, n) for s, n in side.saved_searches] == [("billing's", 0), ("support's", 3)]


def test_counts_in_one_statement_are_each_count_alone_and_capped(desk: StaffDesk) -> None:
    for _ in range(4):
        desk.ticket("support", "ana")
    desk.ticket("support", None)
    ana = caller(desk, "ana")
    lists = [q.filters for view in View for q in view_queries(view, ana)]
    lists.append(TicketFilters(q="printer"))
    now = desk.clock()
    with desk.runtime.db.unit_of_work() as uow:
        alone = [capped_counts(uow.session, ana.principal, [f], cap=3, now=now)[0] for f in lists]
        together = capped_counts(uow.session, ana.principal, lists, cap=3, now=now)
        uncapped = capped_counts(uow.session, ana.principal, lists, cap=100, now=now)
        assert capped_counts(uow.session, ana.principal, [], cap=3, now=now) == []
        groups = [[lists[0], lists[2]], [lists[-1]], []]  # mine and unassigned; the search
        summed = capped_totals(uow.session, ana.principal, groups, cap=100, now=now)
        summed_capped = capped_totals(uow.session, ana.principal, groups, cap=3, now=now)
    assert summed == [uncapped[0] + uncapped[2], uncapped[-1], 0]
    assert summed_capped == [min(3, alone[0] + alone[2]), alone[-1], 0]
    assert alone[0] + alone[2] > 3  # a group's counts are capped after they are summed
    assert together == alone
    assert max(together) == 3 and max(uncapped) == 5  # the cap holds; without it, all five


def test_the_callers_own_view_lists_without_looking_up_their_id(desk: StaffDesk) -> None:
    mine = [desk.ticket("support", "ana") for _ in range(2)]
    desk.ticket("support", "ben")
    ana = caller(desk, "ana")
    seen: list[str] = []

    def statement(_conn: object, _cursor: object, sql: str, *_: object) -> None:
        seen.append(" ".join(sql.split()))

    engine = desk.runtime.db.engine
    event.listen(engine, "before_cursor_execute", statement)
    try:
        side = queue_facts(desk.runtime, ana, View.MINE, limit=50)
    finally:
        event.remove(engine, "before_cursor_execute", statement)
    assert sorted(t.number for t in side.tickets) == sorted(mine)
    assert side.counts[View.MINE] == 2
    # the saved searches, the counts, the own status, the list: no agents by name
    assert not [s for s in seen if s.startswith("SELECT agents.id FROM agents")], seen
