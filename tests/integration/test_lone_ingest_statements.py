"""What a ticket that rides alone costs ingest, counted on both databases: the statements
and commits of its attempt and its transaction, for a new customer and a returning one,
by web and by email, alone (the embedded desk) and as a batch of one (a worker of the
distributed desk, which may take a backlog along)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import select

from router.envelopes import InboundMessage
from router.vocabulary import Channel
from store.models import InboxItem, OutboxItem, Ticket
from tests.conftest import make_settings
from workers.runtime.build import build_runtime
from workers.runtime.context import Runtime
from workers.runtime.inbox_attempts import InboxAttempts
from workers.runtime.processes import prepare_database
from workers.steps.ingest import ingest_together
from workers.steps.ingest_batch import IngestBatch

pytestmark = pytest.mark.integration

MINUTE = timedelta(minutes=1)


@pytest.fixture
def runtime(database_url: str) -> Iterator[Runtime]:
    """A desk with no worker running (what ingest sends is all this process sends), the
    example configuration's team and SLA policies, and a first ticket ingested (what a
    process reads once, the team's id, is read)."""
    built = build_runtime(make_settings(database_url), broker=StubBroker())
    try:
        prepare_database(built)
        _alone(built, Channel.WEB, _accept(built, Channel.WEB, "warm", "first@example.org"))
        yield built
    finally:
        built.close()


def _accept(runtime: Runtime, channel: Channel, key: str, sender: str) -> int:
    message = InboundMessage(
        channel=channel,
        idempotency_key=key,
        sender_address=sender,
        sender_name="Jo",
        subject="help",
        body_text="it is broken",
        external_id=f"<{key}@example.org>" if channel is Channel.EMAIL else None,
    )
    with runtime.db.unit_of_work() as uow:
        return uow.inbox.accept(message, now=runtime.now(), redrive_after=MINUTE).inbox_id


def _alone(runtime: Runtime, channel: Channel, inbox_id: int) -> None:
    """As the embedded desk's worker does: the attempt, then the row alone."""
    IngestBatch(runtime, channel, InboxAttempts(runtime)).run([inbox_id])


def _batch_of_one(runtime: Runtime, channel: Channel, inbox_id: int) -> None:
    """As a distributed desk's worker does: the attempt, then a batch that may take
    untouched rows along (there are none)."""
    ready = InboxAttempts(runtime).ready([inbox_id], channel)
    assert ingest_together(runtime, ready, channel, take_along=10).ok


def _counted(runtime: Runtime, ingest: object, channel: Channel, sender: str) -> tuple[int, int]:
    """(statements, commits) of one row's ingest, checked to have opened its ticket and
    queued its acknowledgement."""
    inbox_id = _accept(runtime, channel, f"row-{sender}-{getattr(ingest, '__name__', '')}", sender)
    tally = runtime.db.count_statements()
    ingest(runtime, channel, inbox_id)  # type: ignore[operator]
    counted = (tally.statements, tally.commits)
    with runtime.db.unit_of_work() as uow:
        row = uow.session.get(InboxItem, inbox_id)
        assert row is not None and row.state == "done" and row.attempts == 1
        ticket = uow.session.get(Ticket, row.ticket_id)
        assert ticket is not None and ticket.requester_address == sender
        kinds = uow.session.scalars(
            select(OutboxItem.kind).where(OutboxItem.ticket_id == ticket.id)
        ).all()
        assert kinds == ["acknowledgement"]
    return counted


@pytest.mark.parametrize("ingest", [_alone, _batch_of_one], ids=["alone", "batch"])
@pytest.mark.parametrize("channel", [Channel.WEB, Channel.EMAIL], ids=["web", "email"])
def test_a_lone_ticket_of_a_new_customer_costs_ingest_its_fewest_statements(
    runtime: Runtime, ingest: object, channel: Channel
) -> None:
    """The attempt (on PostgreSQL in autocommit: no commit), the claim, the customer and
    their domain's organisation in one look-up, the customer and their identity (one
    statement on PostgreSQL, two on SQLite), the
    ticket, the acknowledgement's count of automatic replies (a customer made here has no
    bounce to read, nor a message stored to be a copy of), its outbox row, the message,
    the row's finish and the audit event. An email also reads the agents' addresses (no
    listener keeps them in this process)."""
    counted = _counted(runtime, ingest, channel, "new@example.org")
    # the agents' addresses, read for an email, and for any batch's senders
    agents = 1 if channel is Channel.EMAIL or ingest is _batch_of_one else 0
    if runtime.db.dialect == "postgresql":  # (the example's two SLA clocks: one INSERT)
        assert counted == (1 + 9 + agents + 1, 1)  # the customer and identity: one
    else:  # each transaction begun by a statement (BEGIN IMMEDIATE) and committed
        assert counted == (2 + 11 + agents + 2, 2)


@pytest.mark.parametrize("ingest", [_alone, _batch_of_one], ids=["alone", "batch"])
@pytest.mark.parametrize("channel", [Channel.WEB, Channel.EMAIL], ids=["web", "email"])
def test_a_lone_ticket_of_a_returning_customer_reads_the_bounce_it_locks(
    runtime: Runtime, ingest: object, channel: Channel
) -> None:
    """A returning customer: no customer written, but their identity's bounce is read
    and locked before the automatic replies are counted; an email is looked for among
    the messages they sent (a copy by another path)."""
    _alone(runtime, channel, _accept(runtime, channel, "first", "back@example.org"))
    counted = _counted(runtime, ingest, channel, "back@example.org")
    agents = 1 if channel is Channel.EMAIL or ingest is _batch_of_one else 0
    copy = 1 if channel is Channel.EMAIL else 0
    if runtime.db.dialect == "postgresql":
        assert counted == (1 + 9 + agents + copy + 1, 1)
    else:
        assert counted == (2 + 10 + agents + copy + 2, 2)
