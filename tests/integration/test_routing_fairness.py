"""A route batch beside another router: it waits for the agents the other holds.

A batch used to lock only the agents it chose, passing over (SKIP LOCKED) one another
router held, and decided that agent's tickets again onto those it held: one router
holding an agent for a moment sent the whole batch to the others (test_distributed's
worker test saw 19 of 20 tickets to one agent of two). A batch now locks every agent it
may choose in one statement, in id order, waiting for a router that holds one, before it
decides: it decides on what that router wrote, and two batches queue, never deadlock.

On SQLite, which has no row locks, another router's transaction holds a batch back whole
(its writers run one at a time, ``BEGIN IMMEDIATE``): the same end, by another wait.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterator

import pytest
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import select, text, update
from sqlalchemy.exc import OperationalError

from router.envelopes import InboundMessage
from router.vocabulary import AgentStatus, Channel
from store.agents import HOLD_WAIT_MS
from store.directory_sync import sync_directory
from store.models import Agent, Ticket
from tests.conftest import make_settings
from tests.support.processes import wait_until
from workers.channels.intake import StoreIntake
from workers.runtime.build import build_runtime
from workers.runtime.context import Runtime
from workers.runtime.processes import prepare_database
from workers.steps.ingest import ingest
from workers.steps.route import RouteBatch


@pytest.fixture
def runtime(database_url: str) -> Iterator[Runtime]:
    """ana and ben of the example online with room for ten each, sam offline; nobody
    routes (a stub broker nobody consumes)."""
    settings = make_settings(database_url, relaydesk_helpdesk__acknowledge="false")
    built = build_runtime(settings, broker=StubBroker(), pool_size=10)
    try:
        prepare_database(built)
        with built.db.unit_of_work() as uow:
            uow.session.execute(
                update(Agent).where(Agent.name.in_(["ana", "ben"])).values(capacity=10)
            )
            uow.agents.by_name("sam").status = AgentStatus.OFFLINE.value  # type: ignore[union-attr]
        yield built
    finally:
        built.close()


def _tickets(runtime: Runtime, count: int) -> list[int]:
    intake = StoreIntake(runtime)
    numbers = []
    for i in range(count):
        receipt = intake.accept(
            InboundMessage(
                channel=Channel.WEB,
                idempotency_key=f"t{i}",
                sender_address=f"c{i}@example.org",
                subject=f"help {i}",
                body_text="it is broken",
            )
        )
        ingest(runtime, receipt.inbox_id)
        made = intake.receipt(receipt.inbox_id)
        assert made is not None and made.ticket_number is not None
        numbers.append(made.ticket_number)
    return numbers


def _loads(runtime: Runtime) -> dict[str, int]:
    with runtime.db.unit_of_work() as uow:
        return {a.name: a.load for a in uow.agents.all() if a.name in ("ana", "ben")}


def _assignees(runtime: Runtime, numbers: list[int]) -> Counter[str | None]:
    with runtime.db.unit_of_work() as uow:
        rows = uow.session.execute(
            select(Agent.name)
            .select_from(Ticket)
            .outerjoin(Agent, Agent.id == Ticket.assignee_id)
            .where(Ticket.id.in_(numbers))
        ).scalars()
        return Counter(rows)


def _waiting_for_a_lock(runtime: Runtime) -> bool:
    """PostgreSQL: whether a session of this database waits for a row lock right now."""
    with runtime.db.read_engine.connect() as conn:
        waiting = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            )
        ).scalar_one()
    return bool(waiting)


def test_a_batch_beside_a_router_holding_an_agent_waits_and_decides_on_what_it_wrote(
    runtime: Runtime,
) -> None:
    """Two routers: one holds ana's row and gives her four tickets (her load 0 -> 4, not
    yet committed) while the other's batch of eight runs. The batch waits for her row,
    then decides on her load of four: ben six, ana two, six each. It gave all eight to
    ben before, without waiting (ana 4, ben 8)."""
    numbers = _tickets(runtime, 8)
    failures: list[BaseException] = []

    def batch() -> None:
        try:
            assert RouteBatch(runtime).run(numbers) == []
        except BaseException as error:  # a thread's exception only warns: keep it
            failures.append(error)

    with runtime.db.engine.connect() as other:  # the other router, assigning to ana
        other.execute(text("UPDATE agents SET load = load + 4 WHERE name = 'ana'"))
        routing = threading.Thread(target=batch)
        routing.start()
        if runtime.db.dialect == "postgresql":  # waiting for ana's row
            wait_until(lambda: _waiting_for_a_lock(runtime) or not routing.is_alive(), 30)
        else:  # SQLite: waiting for the write lock (BEGIN IMMEDIATE), no way to see it
            routing.join(timeout=0.5)
        waited = routing.is_alive()
        other.commit()
    routing.join(timeout=30)
    assert failures == []
    assert waited
    assert _loads(runtime) == {"ana": 6, "ben": 6}
    assert _assignees(runtime, numbers) == {"ana": 2, "ben": 6}


def test_a_batch_gives_up_waiting_for_an_agent_held_too_long_and_routes_its_tickets_alone(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL: another transaction holds ana's row and does not let go. The batch waits
    for her at most ``HOLD_WAIT_MS`` (lock_timeout), then gives up, its transaction rolled
    back, and its four tickets are routed alone, each in a new transaction, passing over
    ana (SKIP LOCKED): all four to ben, while ana is still held. It waited for as long as
    the other held her before (the thread was still waiting when the join gave up)."""
    if runtime.db.dialect != "postgresql":
        pytest.skip("SQLite has no row locks: another writer holds the batch back whole")
    caplog.set_level(logging.INFO)
    numbers = _tickets(runtime, 4)
    failures: list[BaseException] = []
    left: list[int] = []

    def batch() -> None:
        try:
            left.extend(RouteBatch(runtime).run(numbers))
        except BaseException as error:  # a thread's exception only warns: keep it
            failures.append(error)

    with runtime.db.engine.connect() as other:  # holds ana's row past the batch's limit
        other.execute(text("SELECT id FROM agents WHERE name = 'ana' FOR UPDATE"))
        routing = threading.Thread(target=batch)
        routing.start()
        routing.join(timeout=HOLD_WAIT_MS / 1000 + 10)
        done_while_held = not routing.is_alive()
        other.commit()
    routing.join(timeout=30)
    assert failures == []
    assert done_while_held
    assert left == []
    assert "lock timeout" in caplog.text  # the batch gave up on its wait, not on another error
    assert _assignees(runtime, numbers) == {"ben": 4}
    assert _loads(runtime) == {"ana": 0, "ben": 4}


def test_a_directory_sync_locks_the_agents_it_changes_in_id_order_before_it_changes_any(
    runtime: Runtime,
) -> None:
    """PostgreSQL: a config that lists ana after ben (ids: ana's first) changes both; while
    another transaction holds ana, the sync waits for her holding no agent (its first
    statement locks them in id order), so ben can be taken. It used to update ben first
    (in config order) and wait for ana holding ben: a batch holding ana and waiting for
    ben then deadlocked with it (the review's M1)."""
    if runtime.db.dialect != "postgresql":
        pytest.skip("SQLite has no row locks: its writers are serial")
    with runtime.db.unit_of_work() as uow:
        ids = {a.name: a.id for a in uow.agents.all()}
    assert ids["ana"] < ids["ben"]
    agents = [a.model_copy(update={"capacity": 9}) for a in reversed(runtime.settings.agents)]
    assert [a.name for a in agents].index("ben") < [a.name for a in agents].index("ana")
    settings = runtime.settings.model_copy(update={"agents": agents})
    failures: list[BaseException] = []

    def sync() -> None:
        try:
            with runtime.db.unit_of_work() as uow:
                sync_directory(uow, settings, runtime.now())
        except BaseException as error:  # a thread's exception only warns: keep it
            failures.append(error)

    with runtime.db.engine.connect() as other:
        other.execute(text("SELECT id FROM agents WHERE name = 'ana' FOR UPDATE"))
        syncing = threading.Thread(target=sync)
        syncing.start()
        wait_until(lambda: _waiting_for_a_lock(runtime) or not syncing.is_alive(), 30)
        try:
            other.execute(text("SELECT id FROM agents WHERE name = 'ben' FOR UPDATE NOWAIT"))
            ben_free = True
        except OperationalError:
            ben_free = False
        other.rollback()
    syncing.join(timeout=30)
    assert failures == []
    assert ben_free
    with runtime.db.unit_of_work() as uow:
        assert {a.name: a.capacity for a in uow.agents.all()}["ben"] == 9
