"""Outbox leases with the shipped defaults, on both databases: a dead worker's deliveries
are taken over as soon as it is known dead (its heartbeat stopped), not after the whole
send lease; and a lease is fenced, so a worker that wakes after its lease ran out cannot
send what another attempt holds now.

Two runtimes on one store stand for two worker processes (each its own holder); the
clock is moved by hand.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from router.envelopes import DeliveryResult, OutboundMessage
from router.vocabulary import AuditAction, Channel, OutboxKind, RowState, SystemActor
from store.models import AuditEvent, OutboxItem, ProcessBeat
from store.process_beats import Beating
from tests.conftest import FAST_RETRIES, make_settings
from tests.support.desk import CollectingSender, Desk, desk_for
from workers.runtime.context import Runtime
from workers.runtime.heartbeat import Heartbeat
from workers.runtime.scheduler import Scheduler
from workers.steps.deliver import deliver, deliver_each

T0 = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def desk(database_url: str) -> Iterator[Desk]:
    yield from desk_for(make_settings(database_url, **FAST_RETRIES))


@pytest.fixture
def clock(desk: Desk) -> Clock:
    clock = Clock()
    desk.runtime.clock = clock
    return clock


def _other_worker(runtime: Runtime) -> Runtime:
    """Another process on the same store and broker: its own holder, the same senders."""
    other = dataclasses.replace(runtime)
    assert other.holder != runtime.holder
    return other


def _queue(runtime: Runtime, n: int) -> list[int]:
    with runtime.db.unit_of_work() as uow:
        ids = [
            uow.outbox.add(
                OutboundMessage(
                    channel=Channel.EMAIL,
                    recipient=f"r{i}@example.org",
                    subject="s",
                    body_text="b",
                    message_id=f"<lease{i}@desk>",
                ),
                kind=OutboxKind.REPLY,
                ticket_id=None,
                now=runtime.now(),
                redrive_after=MINUTE,
            )
            for i in range(n)
        ]
    assert all(ids)
    return [i for i in ids if i is not None]


def _states(runtime: Runtime, ids: list[int]) -> list[str]:
    with runtime.db.unit_of_work() as uow:
        return list(
            uow.session.scalars(
                select(OutboxItem.state).where(OutboxItem.id.in_(ids)).order_by(OutboxItem.id)
            )
        )


def _killed_after_claiming(runtime: Runtime, outbox_id: int) -> None:
    """A worker that beat, claimed the row as ``deliver`` does, and was killed (-9)."""
    with runtime.db.unit_of_work() as uow:
        me = Beating(holder=runtime.holder, kind="worker", host="h", pid=1, queues=("deliver",))
        uow.process_beats.beat(me, started_at=runtime.now(), now=runtime.now())
        assert uow.outbox.claim(
            outbox_id,
            now=runtime.now(),
            lease=runtime.send_lease,
            holder=runtime.holder,
            dead_after=runtime.dead_after,
        )


@dataclasses.dataclass
class PausingSender:
    """A channel whose first send stands for a worker paused there (a long GC, a
    stopped VM): ``during`` runs inside it, then the send goes on."""

    inner: CollectingSender
    during: Callable[[], None]
    paused: bool = False

    def send(self, message: OutboundMessage, *, timeout_s: float | None = None) -> DeliveryResult:
        if not self.paused:
            self.paused = True
            self.during()
        return self.inner.send(message, timeout_s=timeout_s)

    def close(self) -> None:
        pass


def test_a_worker_paused_past_its_lease_cannot_send_what_another_took_meanwhile(
    desk: Desk, clock: Clock
) -> None:
    sleeper = desk.runtime
    ids = _queue(sleeper, 3)
    awake = _other_worker(sleeper)

    def paused_past_the_lease() -> None:  # the others' rows are taken and sent meanwhile
        clock.now += sleeper.send_lease + timedelta(seconds=1)
        assert deliver_each(awake, ids[1:]) == {}

    sleeper._senders[Channel.EMAIL] = PausingSender(desk.sender, paused_past_the_lease)
    assert deliver_each(sleeper, ids) == {}
    recipients = sorted(m.recipient for m in desk.sender.sent)
    assert recipients == ["r0@example.org", "r1@example.org", "r2@example.org"]  # once each
    assert _states(sleeper, ids) == ["done"] * 3


def test_a_late_attempt_records_nothing_over_the_attempt_that_holds_the_row(
    desk: Desk, clock: Clock
) -> None:
    runtime = desk.runtime
    (outbox_id,) = _queue(runtime, 1)
    with runtime.db.unit_of_work() as uow:
        late = uow.outbox.claim(outbox_id, now=clock.now, lease=MINUTE, holder="a")
    clock.now += 2 * MINUTE
    with runtime.db.unit_of_work() as uow:
        now_held = uow.outbox.claim(outbox_id, now=clock.now, lease=MINUTE, holder="b")
    assert late and now_held and late.token != now_held.token
    with runtime.db.unit_of_work() as uow:
        assert not uow.outbox.still_held(outbox_id, token=late.token, now=clock.now, lease=MINUTE)
        assert not uow.outbox.mark_sent(outbox_id, external_id="x", now=clock.now, token=late.token)
        state = uow.outbox.mark_failed_attempt(
            outbox_id,
            error="late",
            permanent=True,
            max_attempts=8,
            now=clock.now,
            retry_after=MINUTE,
            token=late.token,
        )
        assert state is RowState.SENDING  # the row is left to the attempt holding it
        uow.outbox.release([outbox_id], now=clock.now, token=late.token)
    assert _states(runtime, [outbox_id]) == ["sending"]
    with runtime.db.unit_of_work() as uow:
        assert uow.outbox.mark_sent(outbox_id, external_id="y", now=clock.now, token=now_held.token)
    assert _states(runtime, [outbox_id]) == ["done"]


def test_a_redelivered_message_takes_over_a_dead_workers_row_long_before_the_lease_ends(
    desk: Desk, clock: Clock
) -> None:
    killed = desk.runtime
    (outbox_id,) = _queue(killed, 1)
    _killed_after_claiming(killed, outbox_id)
    survivor = _other_worker(killed)
    clock.now += killed.dead_after - timedelta(seconds=1)  # quiet, not yet dead: left alone
    assert deliver(survivor, outbox_id) is None
    clock.now += timedelta(seconds=2)  # dead now; the lease (120 s) has 100 s to go
    assert clock.now - T0 < killed.send_lease / 4
    assert deliver(survivor, outbox_id) is RowState.DONE
    assert [m.recipient for m in desk.sender.sent] == ["r0@example.org"]


def test_the_sweep_gives_a_dead_workers_rows_back_as_soon_as_its_heartbeat_stops(
    desk: Desk, clock: Clock
) -> None:
    killed = desk.runtime
    ids = _queue(killed, 2)
    for outbox_id in ids:
        _killed_after_claiming(killed, outbox_id)
    scheduler = Scheduler(_other_worker(killed))
    clock.now += killed.dead_after - timedelta(seconds=1)
    assert scheduler.sweep(drain=False).outbox == 0
    clock.now += timedelta(seconds=2)
    assert scheduler.sweep(drain=False).outbox == 2  # the broker may have lost its message
    desk.settle()
    assert _states(killed, ids) == ["done", "done"]
    assert sorted(m.recipient for m in desk.sender.sent) == ["r0@example.org", "r1@example.org"]


def test_a_process_beats_while_it_runs_and_leaves_the_list_when_it_stops(desk: Desk) -> None:
    runtime = desk.runtime
    heartbeat = Heartbeat(runtime, "worker", ["deliver.email", "ingest.email"]).start()
    with runtime.db.unit_of_work() as uow:
        (row,) = uow.session.scalars(select(ProcessBeat)).all()
        assert (row.holder, row.kind, row.queues) == (
            runtime.holder,
            "worker",
            "deliver.email,ingest.email",
        )
        first = row.beat_at
    heartbeat.beat()
    with runtime.db.unit_of_work() as uow:
        assert uow.session.scalars(select(ProcessBeat.beat_at)).one() >= first
    heartbeat.stop()
    with runtime.db.unit_of_work() as uow:
        assert uow.session.scalars(select(ProcessBeat)).all() == []


def test_a_retry_of_the_same_broker_message_takes_back_what_its_earlier_run_claimed(
    desk: Desk, clock: Clock
) -> None:
    """A run that could not record its outcome (the database restarting under it) leaves
    its rows sending; its retry takes them back at once, any other message waits."""
    runtime = desk.runtime
    ids = _queue(runtime, 2)
    with runtime.db.unit_of_work() as uow:
        first = uow.outbox.claim_many(ids, now=clock.now, lease=MINUTE, holder="w", attempt="m1")
    assert sorted(first) == ids
    clock.now += timedelta(seconds=2)
    with runtime.db.unit_of_work() as uow:
        assert uow.outbox.claim_many(ids, now=clock.now, lease=MINUTE, holder="w2") == {}
        assert uow.outbox.claim_many(ids, now=clock.now, lease=MINUTE, attempt="m2") == {}
        again = uow.outbox.claim_many(ids, now=clock.now, lease=MINUTE, holder="w", attempt="m1")
    assert sorted(again) == ids
    old, new = first[ids[0]].token, again[ids[0]].token
    assert old and new and old != new  # a new claim: the earlier run is fenced off
    with runtime.db.unit_of_work() as uow:
        assert not uow.outbox.still_held(ids[0], token=old, now=clock.now, lease=MINUTE)
        assert uow.outbox.still_held(ids[0], token=new, now=clock.now, lease=MINUTE)
        assert uow.outbox.mark_sent(ids[0], external_id="x", now=clock.now, token=new)
        # done is done: the same message once more takes nothing
        retaken = uow.outbox.claim_many(ids, now=clock.now, lease=MINUTE, attempt="m1")
        assert list(retaken) == [ids[1]]
    assert _states(runtime, ids) == ["done", "sending"]


def _sent_events(runtime: Runtime) -> list[int]:
    """The rows the audit log says were sent, one entry per ``outbox.sent`` event."""
    with runtime.db.unit_of_work() as uow:
        rows = uow.session.scalars(
            select(AuditEvent.data).where(AuditEvent.action == AuditAction.OUTBOX_SENT.value)
        )
        return sorted(data["outbox_id"] for data in rows)


def test_a_batch_records_each_row_sent_with_its_audit_event_in_one_statement_on_postgresql(
    desk: Desk, database_url: str
) -> None:
    runtime = desk.runtime
    ids = _queue(runtime, 3)
    with runtime.db.read_engine.connect():  # (a first connection counts the dialect's look-ups)
        pass
    tally = runtime.db.count_statements()
    assert deliver_each(runtime, ids) == {}
    counted = (tally.statements, tally.commits)
    assert _sent_events(runtime) == ids
    # the claim, then a record a row (with the next row's fence): on PostgreSQL each its
    # own transaction in autocommit (no BEGIN, no COMMIT); SQLite inserts each row's event
    # after its record, and begins each transaction with a statement
    if database_url.startswith("postgresql"):
        assert counted == (1 + 3, 0)
    else:
        assert counted == (1 + 3 * 2 + 4, 1 + 3)


def test_a_lone_row_is_claimed_and_recorded_in_two_statements_without_begin_or_commit(
    desk: Desk, database_url: str
) -> None:
    runtime = desk.runtime
    (outbox_id,) = _queue(runtime, 1)
    with runtime.db.read_engine.connect():  # (a first connection counts the dialect's look-ups)
        pass
    tally = runtime.db.count_statements()
    assert deliver(runtime, outbox_id) is RowState.DONE
    counted = (tally.statements, tally.commits)
    assert _sent_events(runtime) == [outbox_id]
    assert _states(runtime, [outbox_id]) == ["done"]
    # the claim and the record (its event in its statement), each its own transaction in
    # autocommit on PostgreSQL; on SQLite two transactions, each begun by a statement, the
    # event inserted after the record
    if database_url.startswith("postgresql"):
        assert counted == (2, 0)
    else:
        assert counted == (2 + 1 + 2, 2)


def test_a_late_attempts_record_writes_no_audit_event(desk: Desk, clock: Clock) -> None:
    runtime = desk.runtime
    (outbox_id,) = _queue(runtime, 1)
    with runtime.db.unit_of_work() as uow:
        late = uow.outbox.claim(outbox_id, now=clock.now, lease=MINUTE, holder="a")
    clock.now += 2 * MINUTE
    with runtime.db.unit_of_work() as uow:
        now_held = uow.outbox.claim(outbox_id, now=clock.now, lease=MINUTE, holder="b")
    assert late and now_held
    for claimed, recorded in ((late, False), (now_held, True)):
        with runtime.db.unit_of_work() as uow:
            event = uow.audit.event(
                ticket_id=None,
                actor=SystemActor.DELIVER,
                action=AuditAction.OUTBOX_SENT,
                now=clock.now,
                data={"outbox_id": outbox_id},
            )
            sent = uow.outbox.mark_sent(
                outbox_id, external_id="x", now=clock.now, token=claimed.token, event=event
            )
            assert sent is recorded
        assert _sent_events(runtime) == ([outbox_id] if recorded else [])


def test_a_worker_paused_past_its_lease_logs_each_row_sent_once(desk: Desk, clock: Clock) -> None:
    sleeper = desk.runtime
    ids = _queue(sleeper, 3)
    awake = _other_worker(sleeper)

    def paused_past_the_lease() -> None:
        clock.now += sleeper.send_lease + timedelta(seconds=1)
        assert deliver_each(awake, ids[1:]) == {}

    sleeper._senders[Channel.EMAIL] = PausingSender(desk.sender, paused_past_the_lease)
    assert deliver_each(sleeper, ids) == {}
    assert _sent_events(sleeper) == ids


def _checkouts(runtime: Runtime) -> list[int]:
    """Counts the connections taken from the pool of ``Database.one_statement`` from now on
    (one item a checkout)."""
    taken: list[int] = []
    event.listen(runtime.db.read_engine, "checkout", lambda *_: taken.append(1))
    return taken


def test_a_batch_is_claimed_and_recorded_on_one_connection_taken_once(
    desk: Desk, database_url: str
) -> None:
    runtime = desk.runtime
    ids = _queue(runtime, 3)
    taken = _checkouts(runtime)
    assert deliver_each(runtime, ids) == {}
    checkouts = len(taken)
    assert _sent_events(runtime) == ids and _states(runtime, ids) == ["done"] * 3
    # was 1 + 3 on PostgreSQL: the claim's, then each record's; on SQLite each record
    # (its event inserted after it) takes a unit of work, from the same pool
    assert checkouts == (1 if database_url.startswith("postgresql") else 1 + 3)


def test_a_lone_row_is_claimed_and_recorded_on_one_connection_taken_once(
    desk: Desk, database_url: str
) -> None:
    runtime = desk.runtime
    (outbox_id,) = _queue(runtime, 1)
    taken = _checkouts(runtime)
    assert deliver(runtime, outbox_id) is RowState.DONE
    assert len(taken) == (1 if database_url.startswith("postgresql") else 2)  # was 2, 2


@dataclasses.dataclass
class WatchingSender:
    """At each send, what another connection sees of the batch's rows."""

    inner: CollectingSender
    runtime: Runtime
    ids: list[int]
    seen: list[list[str]] = dataclasses.field(default_factory=list)

    def send(self, message: OutboundMessage, *, timeout_s: float | None = None) -> DeliveryResult:
        self.seen.append(_states(self.runtime, self.ids))
        return self.inner.send(message, timeout_s=timeout_s)

    def close(self) -> None:
        pass


def test_each_row_of_a_batch_is_recorded_committed_before_the_next_is_sent(desk: Desk) -> None:
    """On the held connection too a crash repeats at most the message in flight: another
    connection sees each row done before the next is sent."""
    runtime = desk.runtime
    ids = _queue(runtime, 3)
    watching = WatchingSender(desk.sender, runtime, ids)
    runtime.use_sender(Channel.EMAIL, watching)
    assert deliver_each(runtime, ids) == {}
    assert watching.seen == [
        ["sending"] * 3,
        ["done", "sending", "sending"],
        ["done", "done", "sending"],
    ]
