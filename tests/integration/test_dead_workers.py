"""A worker process its supervisor saw die is dead at once, on both databases: the
delivery it held is taken by the scheduler's next sweep, and the mail it committed but
may not have handed to the broker goes out then too, instead of after the heartbeat's
``dead_after_s`` (20 s) and the re-drive's ``redrive_after_s`` (60 s)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from router.envelopes import OutboundMessage
from router.vocabulary import Channel, OutboxKind
from store.fleet_status import read_status
from store.process_beats import Beating
from tests.conftest import make_settings
from tests.support.desk import Desk, desk_for
from workers.runtime.dead_workers import bury
from workers.runtime.scheduler import Scheduler

pytestmark = pytest.mark.integration

HOST, PID = "worker-host", 4242
DEAD = Beating(holder=f"{HOST}:{PID}:ab12", kind="worker", host=HOST, pid=PID)


@pytest.fixture
def desk(database_url: str) -> Iterator[Desk]:
    yield from desk_for(make_settings(database_url))


def _mail(n: int) -> OutboundMessage:
    return OutboundMessage(
        channel=Channel.EMAIL,
        recipient=f"agent{n}@desk.test",
        subject=f"dead worker {n}",
        body_text="a ticket for you",
        message_id=f"<dead-{n}@desk.test>",
    )


def _wait_for_sent(desk: Desk, count: int) -> None:
    deadline = time.monotonic() + 20
    while len(desk.sender.sent) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_worker_its_supervisor_saw_die_has_its_mail_sent_at_the_next_sweep(
    desk: Desk,
) -> None:
    runtime = desk.runtime
    now = runtime.now()
    redrive = timedelta(seconds=runtime.settings.scheduler.redrive_after_s)
    with runtime.db.unit_of_work() as uow:
        uow.process_beats.beat(DEAD, started_at=now - timedelta(minutes=5), now=now)
        held, lost, old = (
            uow.outbox.add(
                _mail(n), kind=OutboxKind.ASSIGNMENT, ticket_id=None, now=at, redrive_after=redrive
            )
            for n, at in ((0, now), (1, now), (2, now - timedelta(minutes=30)))
        )
        assert held is not None and lost is not None and old is not None
        # the dead process was sending one row, and had committed another without sending
        # its message; a third was written long before, and is due on its own anyway
        assert uow.outbox.claim_many([held], now=now, lease=runtime.send_lease, holder=DEAD.holder)
    scheduler = Scheduler(runtime)
    first = scheduler.sweep(drain=False)
    assert first.outbox == 1  # only the old row: the others wait for dead_after and redrive
    # sent before the burial: a row still pending then counts as one the dead process
    # may have written, and the burial makes it due again (a no-op resend, but a third row)
    _wait_for_sent(desk, 1)
    bury(runtime.db, runtime.settings, host=HOST, pid=PID, now=runtime.now)
    with runtime.db.unit_of_work() as uow:
        status = read_status(uow.session, now=runtime.now(), dead_after=runtime.dead_after)
    assert [p.quiet for p in status.processes if p.pid == PID] == [True]
    assert scheduler.sweep(drain=False).outbox == 2  # the held row and the lost one
    _wait_for_sent(desk, 3)
    assert sorted(m.subject for m in desk.sender.sent) == [f"dead worker {n}" for n in range(3)]


def test_burying_a_process_that_never_beat_changes_nothing_and_never_raises(
    desk: Desk,
) -> None:
    runtime = desk.runtime
    bury(runtime.db, runtime.settings, host=HOST, pid=PID + 1, now=runtime.now)
    with runtime.db.unit_of_work() as uow:
        assert uow.process_beats.all() == []
