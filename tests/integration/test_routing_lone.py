"""A ticket routed alone: its statements on each store, and the claim that assigns it.

On PostgreSQL the agent's slot and the ticket's assignment are one statement while an
agent is free whose row no other router holds; otherwise (SQLite, every candidate held,
or an agent with a limit in the ticket's channel) the claim and the assignment are two.
The tickets are made by intake and ingest on a stub broker that nobody consumes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import event, text, update

from router.envelopes import InboundMessage
from router.vocabulary import AgentStatus, Channel, Status
from store.db import Database
from store.models import Agent, Ticket
from tests.conftest import make_settings
from tests.support.processes import wait_until
from workers.channels.intake import StoreIntake
from workers.runtime.build import build_runtime
from workers.runtime.context import Runtime
from workers.runtime.processes import prepare_database
from workers.steps.ingest import ingest
from workers.steps.route import Outcome, route


@pytest.fixture
def runtime(database_url: str) -> Iterator[Runtime]:
    """ana (capacity 5) and ben (3) of the example online, sam offline; nobody routes."""
    settings = make_settings(database_url, relaydesk_helpdesk__acknowledge="false")
    built = build_runtime(settings, broker=StubBroker(), pool_size=10)
    try:
        prepare_database(built)
        with built.db.unit_of_work() as uow:
            uow.agents.by_name("sam").status = AgentStatus.OFFLINE.value  # type: ignore[union-attr]
        yield built
    finally:
        built.close()


def _ticket(runtime: Runtime, key: str = "t") -> int:
    intake = StoreIntake(runtime)
    receipt = intake.accept(
        InboundMessage(
            channel=Channel.WEB,
            idempotency_key=key,
            sender_address=f"{key}@example.org",
            subject="help",
            body_text="it is broken",
        )
    )
    ingest(runtime, receipt.inbox_id)
    made = intake.receipt(receipt.inbox_id)
    assert made is not None and made.ticket_number is not None
    return made.ticket_number


def _statements(db: Database) -> list[str]:
    """The first two words of each statement sent from now on."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(" ".join(statement.split()[:2]))

    event.listen(db.engine, "before_cursor_execute", record)
    return sent


def _state(runtime: Runtime, number: int) -> tuple[str | None, str, dict[str, int]]:
    """The ticket's assignee and status, and the agents' loads."""
    with runtime.db.unit_of_work() as uow:
        ticket = uow.session.get(Ticket, number)
        assert ticket is not None
        assignee = uow.session.get(Agent, ticket.assignee_id) if ticket.assignee_id else None
        loads = {a.name: a.load for a in uow.agents.all()}
        return (assignee.name if assignee else None), ticket.status, loads


def _agent_id(runtime: Runtime, name: str) -> int:
    with runtime.db.unit_of_work() as uow:
        agent = uow.agents.by_name(name)
        assert agent is not None
        return agent.id


def test_a_lone_ticket_is_claimed_and_assigned_in_one_statement_on_postgresql(
    runtime: Runtime,
) -> None:
    number = _ticket(runtime)
    sent = _statements(runtime.db)
    assert route(runtime, number) is Outcome.ASSIGNED
    if runtime.db.dialect == "postgresql":
        assert sent == [
            "SELECT tickets.id,",  # the ticket, locked
            "SELECT agents.id,",  # the candidates
            "WITH claimed",  # the best free agent's slot, and the ticket given to it
            "INSERT INTO",  # the agent's notice
            "INSERT INTO",  # the audit events
        ]
    else:  # SQLite's writers are serial: the claim, then the assignment
        assert sent == [
            "BEGIN IMMEDIATE",
            "SELECT tickets.id,",
            "SELECT agents.id,",
            "UPDATE agents",
            "UPDATE tickets",
            "INSERT INTO",
            "INSERT INTO",
        ]
    assert _state(runtime, number) == ("ana", Status.OPEN.value, {"ana": 1, "ben": 0, "sam": 0})


def test_a_claim_for_a_ticket_someone_else_has_is_rolled_back_with_its_slot(
    runtime: Runtime,
) -> None:
    number = _ticket(runtime)
    assert route(runtime, number) is Outcome.ASSIGNED  # to ana
    ana, ben = (_agent_id(runtime, name) for name in ("ana", "ben"))

    class Refused(Exception):
        pass

    with pytest.raises(Refused), runtime.db.unit_of_work() as uow:
        claimed = uow.agents.claim_first_free_assigning(
            [ben, ana], runtime.now(), number, Status.OPEN
        )
        assert claimed == (ben, False)  # ben's slot claimed, the ticket is ana's
        raise Refused  # as routing does (its lost race): the transaction rolls back
    assert _state(runtime, number) == ("ana", Status.OPEN.value, {"ana": 1, "ben": 0, "sam": 0})


def test_the_one_statement_passes_over_an_agent_another_router_holds(
    runtime: Runtime,
) -> None:
    if runtime.db.dialect != "postgresql":
        pytest.skip("SQLite has no row locks: its writers are serial")
    number = _ticket(runtime)
    ana = _agent_id(runtime, "ana")
    with runtime.db.engine.connect() as other:  # another router, holding ana's row
        other.execute(text("SELECT id FROM agents WHERE id = :id FOR UPDATE"), {"id": ana})
        sent = _statements(runtime.db)
        assert route(runtime, number) is Outcome.ASSIGNED  # without waiting for ana
        other.rollback()
    assert "WITH claimed" in sent and "UPDATE tickets" not in sent
    assert _state(runtime, number) == ("ben", Status.OPEN.value, {"ana": 0, "ben": 1, "sam": 0})


def test_when_every_candidate_is_held_the_claim_waits_for_the_best_then_assigns(
    runtime: Runtime,
) -> None:
    if runtime.db.dialect != "postgresql":
        pytest.skip("SQLite has no row locks: its writers are serial")
    number = _ticket(runtime)
    outcome: list[Outcome] = []
    with runtime.db.engine.connect() as other:  # another router, holding every agent's row
        other.execute(text("SELECT id FROM agents FOR UPDATE"))
        sent = _statements(runtime.db)
        routing = threading.Thread(target=lambda: outcome.append(route(runtime, number)))
        routing.start()
        wait_until(lambda: _waiting_for_a_lock(runtime) or not routing.is_alive(), 30)
        assert routing.is_alive()  # waiting for ana's row
        other.rollback()
    routing.join(timeout=30)
    assert outcome == [Outcome.ASSIGNED]
    assert sent[2:5] == ["WITH claimed", "UPDATE agents", "UPDATE tickets"]
    assert _state(runtime, number) == ("ana", Status.OPEN.value, {"ana": 1, "ben": 0, "sam": 0})


def _waiting_for_a_lock(runtime: Runtime) -> bool:
    """PostgreSQL: whether a session of this database waits for a row lock right now
    (asked on the reads' engine: the statements counted are the main engine's)."""
    with runtime.db.read_engine.connect() as conn:
        waiting = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            )
        ).scalar_one()
    return bool(waiting)


def test_a_claim_that_finds_nobody_free_leaves_the_ticket_as_it_was(runtime: Runtime) -> None:
    """The assignment reads the claim: when the agents ranked went offline or full after
    the candidates were read, the ticket is neither assigned nor marked as if it were."""
    number = _ticket(runtime)
    sam = _agent_id(runtime, "sam")  # offline: the claim finds no row
    with runtime.db.unit_of_work() as uow:
        got = uow.agents.claim_first_free_assigning([sam], runtime.now(), number, Status.OPEN)
    assert got == (None, False)
    assert _state(runtime, number) == (None, Status.NEW.value, {"ana": 0, "ben": 0, "sam": 0})
    with runtime.db.unit_of_work() as uow:
        ticket = uow.session.get(Ticket, number)
        assert ticket is not None and ticket.assigned_at is None


def test_an_agent_limited_in_the_tickets_channel_is_claimed_then_counted_then_assigned(
    runtime: Runtime,
) -> None:
    number = _ticket(runtime)
    with runtime.db.unit_of_work() as uow:
        uow.session.execute(
            update(Agent).where(Agent.name == "ana").values(channel_capacity={"web": 1})
        )
    sent = _statements(runtime.db)
    assert route(runtime, number) is Outcome.ASSIGNED
    claims = [s for s in sent if s in ("WITH claimed", "UPDATE agents", "UPDATE tickets")]
    assert claims == ["UPDATE agents", "UPDATE tickets"]
    assert "SELECT tickets.assignee_id," in sent  # ana's load in the channel, counted
    assert _state(runtime, number) == ("ana", Status.OPEN.value, {"ana": 1, "ben": 0, "sam": 0})
