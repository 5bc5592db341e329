"""An agent going offline while a router claims its slot: every ticket it holds goes back."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from config import load_settings
from router.vocabulary import AgentStatus, Status
from tests.support.desk import Desk, desk_for
from tests.support.processes import wait_until
from workers.desk.agents import set_agent_status
from workers.desk.ticket_status import set_ticket_status

pytestmark = pytest.mark.integration

CONFIG = """
database_url = "{url}"
[helpdesk]
default_team = "desk"
acknowledge = false
[routing]
return_on_offline = true

[[teams]]
name = "desk"

[[agents]]
name = "solo"
email = "solo@desk.test"
teams = ["desk"]
status = "offline"
capacity = 5
"""


@pytest.fixture
def desk(database_url: str, tmp_path: Path) -> Iterator[Desk]:
    path = tmp_path / "relaydesk.toml"
    path.write_text(CONFIG.format(url=database_url))
    yield from desk_for(load_settings(path, environ={}))


class Background(threading.Thread):
    """Runs ``work`` and keeps what it raised, for the test to see."""

    def __init__(self, work: Callable[[], object]) -> None:
        super().__init__()
        self.work = work
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.work()
        except BaseException as exc:  # re-raised by finish()
            self.error = exc

    def finish(self) -> None:
        self.join(30)
        assert not self.is_alive()
        if self.error is not None:
            raise self.error


def _solo(desk: Desk) -> tuple[int, str, int]:
    with desk.runtime.db.unit_of_work() as uow:
        solo = uow.agents.by_name("solo")
        assert solo is not None
        return solo.id, solo.status, solo.load


def _online_without_a_drain(desk: Desk) -> None:
    with desk.runtime.db.unit_of_work() as uow:
        solo = uow.agents.by_name("solo")
        assert solo is not None
        solo.status = AgentStatus.ONLINE.value


def _waiting_for_locks(desk: Desk) -> int:
    """PostgreSQL: how many of the database's sessions wait for a lock right now."""
    with desk.runtime.db.engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
        )


def _until_blocked(desk: Desk, thread: threading.Thread, waiting: int = 1) -> None:
    """Until ``thread`` waits for a lock (PostgreSQL). SQLite writers run one at a time
    from their first statement, so there the thread either waits at BEGIN or has not
    begun: either way it runs after the holder, whatever the moment."""
    if desk.runtime.db.dialect == "postgresql":
        wait_until(lambda: _waiting_for_locks(desk) >= waiting or not thread.is_alive(), 10)
    else:
        thread.join(0.2)


def _router_mid_assignment(desk: Desk, number: int, agent_id: int) -> Any:
    """A router that locked the ticket, claimed the agent's slot and assigned it: not yet
    committed (the caller leaves the returned unit of work to commit)."""
    uow = desk.runtime.db.unit_of_work()
    now = desk.runtime.now()
    assert uow.tickets.lock_for_routing(number) is not None
    assert uow.agents.claim_slot(agent_id, now)
    assert uow.tickets.assign_if_unassigned(number, agent_id, now, status=Status.OPEN)
    return uow


def test_a_ticket_routed_to_an_agent_as_it_goes_offline_goes_back_to_the_queue(
    desk: Desk,
) -> None:
    number = desk.submit("r1")  # solo is offline: it waits
    _online_without_a_drain(desk)
    agent_id = _solo(desk)[0]
    with _router_mid_assignment(desk, number, agent_id):
        flip = Background(lambda: set_agent_status(desk.runtime, "solo", AgentStatus.OFFLINE))
        flip.start()
        _until_blocked(desk, flip)  # on the router's claim of solo's row
    flip.finish()
    desk.settle()
    assert desk.ticket(number).assignee is None
    assert _solo(desk)[1:] == ("offline", 0)
    with desk.runtime.db.unit_of_work() as uow:
        actions = [(e.action, e.actor) for e in uow.audit.for_ticket(number)]
    assert ("ticket.assigned", "system:route") not in actions  # (the test's router wrote none)
    assert ("ticket.unassigned", "cli") in actions


def test_going_offline_never_deadlocks_with_a_writer_holding_a_ticket_it_just_got(
    database_url: str, desk: Desk
) -> None:
    if desk.runtime.db.dialect != "postgresql":
        pytest.skip("row locks: PostgreSQL only (SQLite writers run one at a time)")
    number = desk.submit("r2")
    _online_without_a_drain(desk)
    agent_id = _solo(desk)[0]
    flipping: list[int] = []
    resolve = Background(lambda: set_ticket_status(desk.runtime, number, Status.RESOLVED))

    def before_execute(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        # solo's row is the flip's; the ticket it just found is not locked yet: a writer
        # locks it first and then waits for solo's row (resolving it frees solo's slot)
        if threading.get_ident() in flipping and "NOWAIT" in statement and not resolve.is_alive():
            resolve.start()
            _until_blocked(desk, resolve)

    def flip_offline() -> None:
        flipping.append(threading.get_ident())
        set_agent_status(desk.runtime, "solo", AgentStatus.OFFLINE)

    event.listen(desk.runtime.db.engine, "before_cursor_execute", before_execute)
    try:
        with _router_mid_assignment(desk, number, agent_id):
            flip = Background(flip_offline)
            flip.start()
            _until_blocked(desk, flip)
        flip.finish()
        resolve.finish()
    finally:
        event.remove(desk.runtime.db.engine, "before_cursor_execute", before_execute)
    desk.settle()
    view = desk.ticket(number)
    assert view.status == "resolved" and view.assignee == "solo"  # resolved while still solo's
    assert _solo(desk)[1:] == ("offline", 0)
