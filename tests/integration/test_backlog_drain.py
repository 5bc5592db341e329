"""The backlog drain: what it costs when nothing fits, and the order it hands slots out in."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from config import load_settings
from router.vocabulary import Status
from store.db import Database
from tests.support.desk import Desk, desk_for
from workers.steps.drain import drain_backlog

pytestmark = pytest.mark.integration

CONFIG = """
database_url = "{url}"
[helpdesk]
default_team = "desk"
acknowledge = false

[[rules.all_match]]
name = "outage"
when = {{ keywords = ["outage"] }}
set = {{ priority = "urgent" }}

[[teams]]
name = "desk"

[[agents]]
name = "solo"
email = "solo@desk.test"
teams = ["desk"]
status = "online"
capacity = 5
channel_capacity = {{ web = 1 }}
"""


@pytest.fixture
def desk(database_url: str, tmp_path: Path) -> Iterator[Desk]:
    path = tmp_path / "relaydesk.toml"
    path.write_text(CONFIG.format(url=database_url))
    yield from desk_for(load_settings(path, environ={}))


class Transactions:
    """Counts the transactions this thread begins (not the desk's worker threads')."""

    def __init__(self, db: Database) -> None:
        self.count = 0
        self.engine = db.engine
        self.thread = threading.get_ident()
        event.listen(self.engine, "begin", self._begin)

    def _begin(self, _conn: Any) -> None:
        if threading.get_ident() == self.thread:
            self.count += 1

    def close(self) -> None:
        event.remove(self.engine, "begin", self._begin)


def _team(desk: Desk) -> int:
    with desk.runtime.db.unit_of_work() as uow:
        return uow.agents.team_id("desk")


def _set_solo(desk: Desk, **values: object) -> None:
    with desk.runtime.db.unit_of_work() as uow:
        solo = uow.agents.by_name("solo")
        assert solo is not None
        for key, value in values.items():
            setattr(solo, key, value)


def _assignee(desk: Desk, number: int) -> str | None:
    return desk.ticket(number).assignee


def test_a_drain_routes_none_of_the_tickets_an_agent_is_full_for_in_their_channel(
    desk: Desk,
) -> None:
    first = desk.submit("w0")
    waiting = [desk.submit(f"w{i}") for i in range(1, 31)]
    assert _assignee(desk, first) == "solo"  # web 1/1, load 1/5: full in web only
    assert all(_assignee(desk, n) is None for n in waiting)
    team = _team(desk)
    counted = Transactions(desk.runtime.db)
    try:
        assert drain_backlog(desk.runtime, team) == 0
    finally:
        counted.close()
    assert counted.count == 1  # one read; no route attempt for a ticket nobody free fits


def test_a_drain_assigns_as_many_as_there_are_free_slots_and_tries_no_more(desk: Desk) -> None:
    _set_solo(desk, status="offline")
    waiting = [desk.submit(f"w{i}") for i in range(10)]
    _set_solo(desk, status="online", capacity=2, channel_capacity={})  # no drain started
    team = _team(desk)
    counted = Transactions(desk.runtime.db)
    try:
        assert drain_backlog(desk.runtime, team) == 2
    finally:
        counted.close()
    assert [_assignee(desk, n) for n in waiting[:3]] == ["solo", "solo", None]
    assert counted.count == 1 + 2  # the read, then one transaction per slot it filled


def test_a_slot_freed_during_a_drain_goes_to_the_most_urgent_ticket_it_fits(
    desk: Desk,
) -> None:
    first = desk.submit("w0")
    urgent = desk.submit("w1", subject="outage everywhere")
    normal = [desk.submit(f"w{i}") for i in range(2, 6)]
    assert _assignee(desk, first) == "solo"  # full in web: both wait
    assert desk.ticket(urgent).priority == "urgent"
    team = _team(desk)
    freer = _FreeWhenThePassMovesOn(desk, first)
    try:
        drain_backlog(desk.runtime, team)
    finally:
        freer.close()
    drain_backlog(desk.runtime, team)  # the drain the freed slot starts
    assert _assignee(desk, urgent) == "solo"
    assert all(_assignee(desk, n) is None for n in normal)


class _FreeWhenThePassMovesOn:
    """Resolves ``number`` (freeing its agent's web slot, without draining: the drain
    that freeing starts waits behind others in the queue) once the drain has finished
    its second transaction, past the urgent ticket, or at the end if it has fewer."""

    def __init__(self, desk: Desk, number: int) -> None:
        self.desk = desk
        self.number = number
        self.done = 0
        self.freed = False
        self.thread = threading.get_ident()
        self.pool = desk.runtime.db.engine.pool
        self.other = Database(desk.runtime.db.url)
        event.listen(self.pool, "checkin", self._checkin)

    def _checkin(self, *_: Any) -> None:
        if threading.get_ident() != self.thread or self.freed:
            return
        self.done += 1
        if self.done == 2:
            self._free()

    def _free(self) -> None:
        self.freed = True
        with self.other.unit_of_work() as uow:
            ticket = uow.tickets.get(self.number, for_update=True)
            assert ticket is not None
            uow.tickets.set_status(ticket, Status.RESOLVED, self.desk.runtime.now())

    def close(self) -> None:
        event.remove(self.pool, "checkin", self._checkin)
        if not self.freed:
            self._free()
        self.other.dispose()
