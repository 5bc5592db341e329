"""Staff accounts in the store, on SQLite and PostgreSQL: roles from config, the scope
condition lists use, failed sign-ins counted atomically."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from config.settings import Settings
from router.access import Account, TicketScope, principal_of, visible
from router.sign_in_limits import FailureCount, SignInLimit
from router.vocabulary import Channel, Priority, Role
from store.db import Database
from store.directory_sync import sync_directory
from store.models import Ticket
from store.ticket_scope import visible_to
from tests.conftest import make_settings
from tests.support.present import present

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)

DIRECTORY = {
    "relaydesk_teams": '[{"name": "support", "supervisor": "sam"}, {"name": "billing"},'
    ' {"name": "sales"}]',
    "relaydesk_agents": '[{"name": "ana", "email": "ana@x.test", "teams": ["support"]},'
    ' {"name": "ben", "email": "ben@x.test", "teams": ["support", "billing"]},'
    ' {"name": "sam", "email": "sam@x.test", "teams": ["billing"]},'
    ' {"name": "kim", "email": "kim@x.test", "teams": ["billing"], "role": "supervisor"},'
    ' {"name": "root", "email": "root@x.test", "role": "admin", "capacity": 0}]',
    "relaydesk_helpdesk__default_team": "support",
}


def directory_settings(database_url: str) -> Settings:
    return make_settings(database_url, **DIRECTORY)


def test_roles_come_from_config_and_a_teams_supervisor_supervises_it(
    db: Database, database_url: str
) -> None:
    with db.unit_of_work() as uow:
        sync_directory(uow, directory_settings(database_url), NOW)
    with db.unit_of_work() as uow:
        ids = {a.name: a.id for a in uow.agents.all()}
        teams = {name: i for i, name in uow.staff.team_names().items()}
        accounts = dict(zip(ids, present(uow.staff.account(i) for i in ids.values()), strict=True))
        assert uow.staff.account(10_000) is None
    assert accounts["ana"] == Account(
        ids["ana"], "ana", Role.AGENT, frozenset({teams["support"]}), frozenset()
    )
    sam = principal_of(accounts["sam"])  # named by support, a member of billing
    assert (sam.role, sam.supervised) == (Role.SUPERVISOR, {teams["support"]})
    kim = principal_of(accounts["kim"])  # configured supervisor: the teams she is in
    assert (kim.role, kim.supervised) == (Role.SUPERVISOR, {teams["billing"]})
    assert principal_of(accounts["root"]).role is Role.ADMIN


def test_the_scope_condition_lists_exactly_the_tickets_the_rule_shows(
    db: Database, database_url: str
) -> None:
    with db.unit_of_work() as uow:
        sync_directory(uow, directory_settings(database_url), NOW)
    with db.unit_of_work() as uow:
        ids = {a.name: a.id for a in uow.agents.all()}
        team_ids = [*uow.staff.team_names(), None]
        requester = uow.customers.identify(Channel.EMAIL, "jo@x.test", "Jo", NOW)
        for team_id in team_ids:
            for assignee in [None, *ids.values()]:
                number = uow.tickets.create(
                    subject="s",
                    channel=Channel.EMAIL,
                    requester_id=requester.id,
                    requester_address="jo@x.test",
                    priority=Priority.NORMAL,
                    category="general",
                    team_id=team_id,
                    now=NOW,
                )
                uow.tickets.get(number).assignee_id = assignee  # type: ignore[union-attr]
    with db.unit_of_work() as uow:
        tickets = uow.session.execute(select(Ticket.id, Ticket.team_id, Ticket.assignee_id)).all()
        for name, agent_id in ids.items():
            principal = principal_of(uow.staff.account(agent_id))  # type: ignore[arg-type]
            listed = set(uow.session.scalars(select(Ticket.id).where(visible_to(principal))))
            expected = {
                number
                for number, team_id, assignee_id in tickets
                if visible(principal, _scope(number, team_id, assignee_id))
            }
            assert listed == expected, name
            assert expected  # everyone sees something in this set


def _scope(number: int, team_id: int | None, assignee_id: int | None) -> TicketScope:
    return TicketScope(number=number, team_id=team_id, assignee_id=assignee_id)


def test_failed_sign_ins_count_in_a_window_and_start_again_after_it(db: Database) -> None:
    limit = SignInLimit(max_failures=3, window=WINDOW)

    def fail(at: datetime) -> FailureCount:
        with db.unit_of_work() as uow:
            return uow.sign_in_failures.record(
                "account:ana", now=at, window_opened_after=at - WINDOW
            )

    assert fail(NOW) == FailureCount(1, NOW)
    assert fail(NOW + timedelta(minutes=1)) == FailureCount(2, NOW)
    third = fail(NOW + timedelta(minutes=2))
    assert third == limit.after_failure(FailureCount(2, NOW), NOW + timedelta(minutes=2))
    assert limit.wait(third, NOW + timedelta(minutes=2)) == timedelta(minutes=13)
    later = NOW + WINDOW + timedelta(seconds=1)
    assert fail(later) == FailureCount(1, later)
    with db.unit_of_work() as uow:
        assert uow.sign_in_failures.counts(["account:ana", "address:x"]) == {
            "account:ana": FailureCount(1, later)
        }
        uow.sign_in_failures.forget("account:ana")
        uow.sign_in_failures.record("address:x", now=NOW, window_opened_after=NOW - WINDOW)
        uow.sign_in_failures.prune(opened_before=NOW + timedelta(seconds=1))
        assert uow.sign_in_failures.counts(["account:ana", "address:x"]) == {}


def test_failures_from_many_processes_at_once_are_all_counted(db: Database) -> None:
    barrier = threading.Barrier(8)

    def fail() -> None:
        barrier.wait()
        with db.unit_of_work() as uow:
            uow.sign_in_failures.record("address:x", now=NOW, window_opened_after=NOW - WINDOW)

    threads = [threading.Thread(target=fail) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with db.unit_of_work() as uow:
        assert uow.sign_in_failures.counts(["address:x"])["address:x"].failures == 8
