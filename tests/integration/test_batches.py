"""Many rows in one broker message, on both databases: each row ends as it would alone.

The desk runs embedded (stub broker, real worker threads); the batches are sent to
the actors by hand, as a connector's send window or a batch before them would.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import event, make_url, select, text

from router.envelopes import InboundMessage, OutboundMessage
from router.errors import TransientError
from router.vocabulary import Channel, OutboxKind
from store import inbox_signals
from store.db import Database
from store.inbox import begin_attempts
from store.models import InboxItem, Message, OutboxItem, Ticket
from tests.conftest import FAST_RETRIES, make_settings
from tests.support.desk import Desk, desk_for
from tests.support.present import present
from workers.steps.deliver import deliver_each
from workers.steps.ingest import ingest_together

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@pytest.fixture
def desk(database_url: str) -> Iterator[Desk]:
    yield from desk_for(make_settings(database_url, **FAST_RETRIES))


def _accept_quietly(desk: Desk, keys: list[str], **payload: object) -> list[int]:
    """Inbox rows as a connector commits them, their messages not sent yet."""
    ids = []
    with desk.runtime.db.unit_of_work() as uow:
        for key in keys:
            message = InboundMessage(
                channel=Channel.WEB,
                idempotency_key=key,
                sender_address=f"{key}@example.org",
                sender_name=key,
                subject=f"help {key}",
                body_text="it is broken",
            )
            ids.append(
                uow.inbox.accept(message, now=desk.runtime.now(), redrive_after=MINUTE).inbox_id
            )
    return ids


def _inbox(desk: Desk, ids: list[int]) -> list[tuple[str, int | None, str | None]]:
    with desk.runtime.db.unit_of_work() as uow:
        rows = uow.session.execute(
            select(InboxItem.state, InboxItem.ticket_id, InboxItem.error)
            .where(InboxItem.id.in_(ids))
            .order_by(InboxItem.id)
        ).all()
    return [(r[0], r[1], r[2]) for r in rows]


def test_one_message_with_many_rows_makes_each_an_assigned_notified_ticket(desk: Desk) -> None:
    ids = _accept_quietly(desk, [f"b{i}" for i in range(6)])
    desk.runtime.ingest_actors[Channel.WEB].send(ids)
    desk.settle()
    rows = _inbox(desk, ids)
    assert [state for state, _, _ in rows] == ["done"] * 6
    numbers = present(number for _, number, _ in rows)
    assert len(set(numbers)) == 6 and numbers == sorted(numbers)  # in order, one each
    for i, number in enumerate(numbers):
        view = desk.ticket(number)
        assert view.status == "open" and view.assignee in ("ana", "ben")
        assert len(desk.sender.to(f"b{i}@example.org")) == 1  # acknowledged once
    notices = [m for m in desk.sender.sent if m.recipient.endswith("@relaydesk.localhost")]
    assert len(notices) == 6


def test_a_bad_row_fails_alone_and_the_rest_of_its_batch_goes_on(desk: Desk) -> None:
    ids = _accept_quietly(desk, ["good1", "bad", "good2"])
    with desk.runtime.db.unit_of_work() as uow:
        uow.session.get(InboxItem, ids[1]).payload = {"channel": "web"}  # type: ignore[union-attr]
    desk.runtime.ingest_actors[Channel.WEB].send(ids)
    desk.settle()
    good1, bad, good2 = _inbox(desk, ids)
    assert good1[0] == good2[0] == "done" and good1[1] and good2[1]
    assert bad[0] == "failed" and bad[1] is None and "unreadable inbox payload" in (bad[2] or "")


def test_a_failed_batch_keeps_nothing_of_it(desk: Desk) -> None:
    ids = _accept_quietly(desk, ["fine", "broken"])
    with desk.runtime.db.unit_of_work() as uow:
        uow.session.get(InboxItem, ids[1]).payload = {"channel": "web"}  # type: ignore[union-attr]
    assert not ingest_together(desk.runtime, ids, Channel.WEB).ok
    assert [state for state, _, _ in _inbox(desk, ids)] == ["pending", "pending"]
    with desk.runtime.db.unit_of_work() as uow:
        assert uow.tickets.view(1) is None


def test_a_delivery_batch_sends_each_row_once_and_retries_a_failure_alone(desk: Desk) -> None:
    runtime = desk.runtime
    with runtime.db.unit_of_work() as uow:
        ids = present(
            uow.outbox.add(
                OutboundMessage(
                    channel=Channel.EMAIL,
                    recipient=f"r{i}@example.org",
                    subject="s",
                    body_text="b",
                    message_id=f"<m{i}@desk>",
                ),
                kind=OutboxKind.REPLY,
                ticket_id=None,
                now=runtime.now(),
                redrive_after=MINUTE,
            )
            for i in range(4)
        )
    desk.sender.failures.append(TransientError("421 try later"))  # the first send fails
    again = deliver_each(runtime, ids + ids)  # twice in one message: sent once
    assert again == {Channel.EMAIL: [ids[0]]}
    assert sorted(m.recipient for m in desk.sender.sent) == [f"r{i}@example.org" for i in (1, 2, 3)]
    assert deliver_each(runtime, ids) == {}  # the failed row is not due yet: its own retry
    runtime.deliver_actors[Channel.EMAIL].send(ids[0])
    desk.settle()
    assert sorted(m.recipient for m in desk.sender.sent) == [f"r{i}@example.org" for i in range(4)]
    with runtime.db.unit_of_work() as uow:
        states = uow.session.scalars(select(OutboxItem.state).where(OutboxItem.id.in_(ids)))
        assert set(states) == {"done"}


# -- the store's batch statements ------------------------------------------------------


def _inbound(key: str, channel: Channel = Channel.WEB) -> InboundMessage:
    return InboundMessage(
        channel=channel, idempotency_key=key, sender_address="jo@example.org", body_text="hi"
    )


def test_attempts_begin_for_many_rows_at_once_and_only_for_pending_ones(db: Database) -> None:
    with db.unit_of_work() as uow:
        ids = [uow.inbox.accept(_inbound(k), now=NOW, redrive_after=MINUTE).inbox_id for k in "abc"]
        uow.inbox.claim(ids[1], NOW)  # done
    with db.unit_of_work() as uow:
        assert uow.inbox.begin_attempts(ids, now=NOW, lease=MINUTE) == {ids[0]: 1, ids[2]: 1}
    with db.unit_of_work() as uow:
        assert uow.inbox.begin_attempts([ids[2], ids[0]], now=NOW, lease=MINUTE) == {
            ids[0]: 2,
            ids[2]: 2,
        }


def test_an_attempt_counted_alone_is_committed_when_its_transaction_ends(db: Database) -> None:
    """``one_statement``, as the ``InboxAttempts`` middleware counts: the count is
    everyone's once the block ends, before the work it counts begins."""
    with db.unit_of_work() as uow:
        inbox_id = uow.inbox.accept(_inbound("a"), now=NOW, redrive_after=MINUTE).inbox_id
    with db.one_statement() as statement:
        assert begin_attempts(statement, [inbox_id], now=NOW, lease=MINUTE) == {inbox_id: 1}
    with db.unit_of_work() as other:
        assert other.session.get(InboxItem, inbox_id).attempts == 1  # type: ignore[union-attr]
    with db.unit_of_work() as uow:
        assert uow.inbox.begin_attempts([inbox_id], now=NOW, lease=MINUTE) == {inbox_id: 2}


def test_a_worker_takes_along_only_untouched_rows_of_its_channel(db: Database) -> None:
    with db.unit_of_work() as uow:
        web = [
            uow.inbox.accept(_inbound(k), now=NOW, redrive_after=MINUTE).inbox_id for k in "abcd"
        ]
        mail = uow.inbox.accept(
            _inbound("m", Channel.EMAIL), now=NOW, redrive_after=MINUTE
        ).inbox_id
        uow.inbox.claim(web[3], NOW)  # done already
    with db.unit_of_work() as uow:
        uow.inbox.begin_attempts([web[0]], now=NOW, lease=MINUTE)  # its own attempt runs
    with db.unit_of_work() as uow:
        taken = uow.inbox.take_waiting("web", limit=10, now=NOW)
        assert sorted(taken) == [web[1], web[2]] and taken[web[1]]["body_text"] == "hi"
        if db.dialect == "postgresql":  # held until this transaction ends: passed by
            with db.unit_of_work() as other:
                assert other.inbox.take_waiting("web", limit=10, now=NOW) == {}
                assert other.inbox.begin_attempts(web[1:3], now=NOW, lease=MINUTE) == {}
    with db.unit_of_work() as uow:  # taken: done
        assert uow.inbox.take_waiting("web", limit=10, now=NOW) == {}
        assert list(uow.inbox.take_waiting("email", limit=10, now=NOW)) == [mail]


def test_a_batch_claims_its_rows_and_those_it_takes_along_in_one_statement(
    db: Database,
) -> None:
    with db.unit_of_work() as uow:
        web = [
            uow.inbox.accept(_inbound(k), now=NOW, redrive_after=MINUTE).inbox_id for k in "abcdef"
        ]
        uow.inbox.accept(_inbound("m", Channel.EMAIL), now=NOW, redrive_after=MINUTE)
        uow.inbox.claim(web[5], NOW)  # done already
    with db.unit_of_work() as uow:  # the batch's own rows: their attempts begun
        uow.inbox.begin_attempts(web[:2], now=NOW, lease=MINUTE)
        uow.inbox.begin_attempts([web[4]], now=NOW, lease=MINUTE)  # another message's
    statements: list[str] = []

    def seen(*args: object) -> None:
        if not str(args[2]).startswith("BEGIN"):  # (SQLite's, sent as a statement)
            statements.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        with db.unit_of_work() as uow:
            claimed = uow.inbox.claim_many(web[:2], NOW, take_along=("web", 10))
            assert len(statements) == 1
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    # its own rows and the untouched rows of its channel; not another attempt's row, a row
    # done, nor another channel's
    assert sorted(claimed) == web[:4] and claimed[web[2]]["body_text"] == "hi"
    with db.unit_of_work() as uow:  # nothing untouched is left to take along
        assert list(uow.inbox.claim_many([web[4]], NOW, take_along=("web", 10))) == [web[4]]


def test_a_claim_tells_the_waiters_of_its_web_rows_itself_on_postgresql(db: Database) -> None:
    """A web row claimed is signalled once the transaction commits (``inbox_signals``), on
    PostgreSQL by the claim's own statement: no NOTIFY of its own before the commit. A row
    failed in a transaction that did not claim it is still signalled by the unit of work."""
    if db.dialect != "postgresql":
        pytest.skip("NOTIFY is PostgreSQL's")
    with db.unit_of_work() as uow:
        web = [uow.inbox.accept(_inbound(k), now=NOW, redrive_after=MINUTE).inbox_id for k in "abc"]
        mail = uow.inbox.accept(
            _inbound("m", Channel.EMAIL), now=NOW, redrive_after=MINUTE
        ).inbox_id
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as listener:
        listener.execute(f"LISTEN {inbox_signals.CHANNEL}")
        statements: list[str] = []

        def seen(*args: object) -> None:
            statements.append(str(args[2]))

        event.listen(db.engine, "before_cursor_execute", seen)
        try:
            with db.unit_of_work() as uow:
                uow.inbox.claim_many([web[0], mail], NOW, take_along=("web", 1))
        finally:
            event.remove(db.engine, "before_cursor_execute", seen)
        assert len(statements) == 1  # the claim: no pg_notify of its own
        with db.unit_of_work() as uow:
            uow.inbox.begin_attempts([web[2]], now=NOW, lease=MINUTE)
        with db.unit_of_work() as uow:  # failed without a claim: told at the commit
            uow.inbox.record_failure(web[2], error="boom", permanent=True, max_attempts=3, now=NOW)
        heard = [n.payload for n in listener.notifies(timeout=2, stop_after=3)]
    assert sorted(int(i) for p in heard for i in p.split(",")) == [web[0], web[1], web[2]]


def test_a_failed_batch_leaves_the_rows_it_took_along_pending(db: Database) -> None:
    with db.unit_of_work() as uow:
        ids = [uow.inbox.accept(_inbound(k), now=NOW, redrive_after=MINUTE).inbox_id for k in "ab"]
    try:
        with db.unit_of_work() as uow:
            assert len(uow.inbox.take_waiting("web", limit=10, now=NOW)) == 2
            raise RuntimeError("the batch failed")
    except RuntimeError:
        pass
    with db.unit_of_work() as uow:
        assert uow.inbox.begin_attempts(ids, now=NOW, lease=MINUTE) == {ids[0]: 1, ids[1]: 1}


def test_outbox_rows_are_claimed_together_and_untried_ones_given_back(db: Database) -> None:
    with db.unit_of_work() as uow:
        ids = present(
            uow.outbox.add(
                OutboundMessage(
                    channel=Channel.EMAIL,
                    recipient="jo@x.org",
                    subject="s",
                    body_text="b",
                    message_id=f"<{i}@x>",
                ),
                kind=OutboxKind.REPLY,
                ticket_id=None,
                now=NOW,
                redrive_after=MINUTE,
            )
            for i in range(3)
        )
    with db.unit_of_work() as uow:
        assert list(uow.outbox.claim_many(ids, now=NOW, lease=MINUTE)) == ids
    with db.unit_of_work() as uow:  # leased: not again
        assert uow.outbox.claim_many(ids, now=NOW, lease=MINUTE) == {}
        uow.outbox.release(ids[1:], now=NOW)
    with db.unit_of_work() as uow:
        assert list(uow.outbox.claim_many(ids, now=NOW, lease=MINUTE)) == ids[1:]
        attempts = uow.session.scalars(
            select(OutboxItem.attempts).where(OutboxItem.id.in_(ids)).order_by(OutboxItem.id)
        ).all()
    assert attempts == [1, 1, 1]  # a row given back did not use an attempt


def test_a_routing_batch_fills_agents_to_capacity_evenly_and_the_rest_waits(desk: Desk) -> None:
    """ana takes 5, ben 3 (the example's capacities), the less busy for her capacity
    first: the batch counts its own assignments as it goes."""
    ids = _accept_quietly(desk, [f"r{i}" for i in range(10)])
    assert ingest_together(desk.runtime, ids, Channel.WEB).ok  # one route message for all 10
    desk.settle()
    numbers = [number for _, number, _ in _inbox(desk, ids)]
    with desk.runtime.db.unit_of_work() as uow:
        agents = {a.name: a.load for a in uow.agents.all()}
        views = [uow.tickets.view(n) for n in numbers]  # type: ignore[arg-type]
        waiting = [
            e.action
            for n in numbers
            for e in uow.audit.for_ticket(n)  # type: ignore[arg-type]
            if e.action == "ticket.waiting"
        ]
    assert agents["ana"] == 5 and agents["ben"] == 3
    assignees = [v.assignee for v in views if v is not None and v.assignee]
    assert assignees.count("ana") == 5 and assignees.count("ben") == 3
    assert assignees == ["ana", "ben", "ana", "ben", "ana", "ana", "ben", "ana"]
    assert len(waiting) == 2  # the two nobody could take wait, and say why


def test_a_batch_acknowledges_last_and_still_keeps_the_auto_reply_limit(
    database_url: str,
) -> None:
    """Two requests from one address in one batch, with a limit of one automatic reply:
    one acknowledgement, the other suppressed and said so in the audit log."""
    settings = make_settings(database_url, relaydesk_email__auto_reply_limit="1")
    for desk in desk_for(settings):
        ids = []
        with desk.runtime.db.unit_of_work() as uow:
            for key in ("first", "second"):
                message = InboundMessage(
                    channel=Channel.WEB,
                    idempotency_key=key,
                    sender_address="Same@Example.org",
                    body_text=f"{key} request",
                )
                ids.append(
                    uow.inbox.accept(message, now=desk.runtime.now(), redrive_after=MINUTE).inbox_id
                )
        assert ingest_together(desk.runtime, ids, Channel.WEB).ok
        desk.settle()
        numbers = [number for _, number, _ in _inbox(desk, ids)]
        with desk.runtime.db.unit_of_work() as uow:
            actions = [[e.action for e in uow.audit.for_ticket(n)] for n in numbers]  # type: ignore[arg-type]
        acks = [m for m in desk.sender.sent if m.recipient.lower() == "same@example.org"]
        assert len(acks) == 1 and f"[#{numbers[0]}]" in acks[0].subject
        assert "acknowledgement.suppressed" in actions[1]


def test_a_batch_queues_its_acknowledgements_in_one_statement(desk: Desk) -> None:
    """Each new ticket's acknowledgement, its audit event naming its row, delivered; the
    rows in one INSERT on PostgreSQL (a statement each on SQLite)."""
    ids = _accept_quietly(desk, ["a1", "a2", "a3", "a4"])
    mine = threading.get_ident()
    inserts: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if threading.get_ident() == mine and statement.startswith("INSERT INTO outbox"):
            inserts.append(statement)

    event.listen(desk.runtime.db.engine, "before_cursor_execute", record)
    try:
        assert ingest_together(desk.runtime, ids, Channel.WEB).ok
    finally:
        event.remove(desk.runtime.db.engine, "before_cursor_execute", record)
    assert len(inserts) == (1 if desk.runtime.db.engine.dialect.name == "postgresql" else 4)
    desk.settle()
    numbers = [number for _, number, _ in _inbox(desk, ids)]
    with desk.runtime.db.unit_of_work() as uow:
        for key, number in zip(["a1", "a2", "a3", "a4"], numbers, strict=True):
            assert number is not None
            rows = [r for r in uow.outbox.recent(ticket_id=number) if r.kind == "acknowledgement"]
            assert [(r.recipient, r.dedupe_key) for r in rows] == [
                (f"{key}@example.org", f"ack:{number}")
            ]
            queued = [
                e.data["outbox_id"]
                for e in uow.audit.for_ticket(number)
                if e.action == "outbox.queued" and e.data["outbox_id"] == rows[0].id
            ]
            assert queued == [rows[0].id]
    acks = sorted(
        (m.recipient, m.subject) for m in desk.sender.sent if m.recipient.endswith("example.org")
    )
    assert [r for r, _ in acks] == [f"a{i}@example.org" for i in range(1, 5)]
    assert all(f"[#{n}]" in subject for n, (_, subject) in zip(numbers, acks, strict=True))


def _accept_copies(desk: Desk, rows: list[tuple[str, str, str]]) -> list[int]:
    """Inbox rows of (idempotency key, sender, external id): copies that reached the
    inbox under different keys (a message re-sent, or relayed with another envelope)."""
    ids = []
    with desk.runtime.db.unit_of_work() as uow:
        for key, sender, external_id in rows:
            message = InboundMessage(
                channel=Channel.WEB,
                idempotency_key=key,
                sender_address=sender,
                sender_name="",
                subject=f"help {key}",
                body_text="it is broken",
                external_id=external_id,
            )
            ids.append(
                uow.inbox.accept(message, now=desk.runtime.now(), redrive_after=MINUTE).inbox_id
            )
    return ids


def test_copies_of_a_message_in_one_batch_or_before_it_are_one_message(desk: Desk) -> None:
    """A batch asks the store about all its messages at once; copies it holds itself, and
    copies an earlier batch stored, still become one message on one ticket."""
    earlier = _accept_copies(desk, [("a", "jo@example.org", "<once@example.org>")])
    assert ingest_together(desk.runtime, earlier, Channel.WEB).ok
    ids = _accept_copies(
        desk,
        [
            ("b", "jo@example.org", "<once@example.org>"),  # a copy of the earlier one
            ("c", "new@example.org", "<twice@example.org>"),  # a new sender, twice
            ("d", "new@example.org", "<twice@example.org>"),
            ("e", "other@example.org", "<twice@example.org>"),  # its id, but not its sender
        ],
    )
    assert ingest_together(desk.runtime, ids, Channel.WEB).ok
    (_, once, _), *_ = _inbox(desk, earlier)
    b, c, d, e = _inbox(desk, ids)
    assert [row[0] for row in (b, c, d, e)] == ["done"] * 4
    assert b[1] == once and c[1] == d[1] and len({once, c[1], e[1]}) == 3
    with desk.runtime.db.unit_of_work() as uow:
        threads = {n: uow.tickets.view(n) for n in (once, c[1], e[1])}  # type: ignore[arg-type]
        requesters = {n: uow.session.get(Ticket, n).requester_id for n in threads}  # type: ignore[union-attr]
        messages = uow.session.scalars(select(Message.ticket_id).order_by(Message.id)).all()
    assert messages == [once, c[1], e[1]]  # one message each: the copies added nothing
    assert len(set(requesters.values())) == 3  # "new" is one customer, made once


def test_a_batch_of_many_senders_limits_each_address_on_its_own(database_url: str) -> None:
    """The auto-reply limit is decided for a whole batch at once, address by address:
    an address at its limit gets nothing more, the others still get their replies."""
    settings = make_settings(database_url, relaydesk_email__auto_reply_limit="2")
    for desk in desk_for(settings):
        senders = ["busy@example.org"] * 3 + ["calm@example.org", "Mixed@Example.org"]
        ids = _accept_copies(
            desk, [(f"k{i}", sender, f"<m{i}@example.org>") for i, sender in enumerate(senders)]
        )
        with desk.runtime.db.unit_of_work() as uow:
            uow.customers.identify(Channel.EMAIL, "calm@example.org", "", desk.runtime.now())
            uow.customers.flag_bounced("calm@example.org", "550 no such user", desk.runtime.now())
        assert ingest_together(desk.runtime, ids, Channel.WEB).ok
        desk.settle()
        acks = [m.recipient.lower() for m in desk.sender.sent if "[#" in m.subject]
        sent = sorted(r for r in acks if r.endswith("@example.org"))
        assert sent == ["busy@example.org", "busy@example.org", "mixed@example.org"]
        with desk.runtime.db.unit_of_work() as uow:
            details = [
                e.detail
                for _, number, _ in _inbox(desk, ids)
                for e in uow.audit.for_ticket(number)  # type: ignore[arg-type]
                if e.action == "acknowledgement.suppressed"
            ]
        assert len(details) == 2
        assert any("limit 2" in d and "busy@example.org" in d for d in details)
        assert any("bounces (550 no such user)" in d for d in details)


def test_the_reads_engine_keeps_the_deployments_connection_options(
    empty_postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reads' engine adds its setting to the options a deployment gave (the URL's
    ``options``, else PGOPTIONS), not in place of them."""
    for url, environ in (
        (
            make_url(empty_postgres_url)
            .update_query_dict({"options": "-c application_name=desk_url"})
            .render_as_string(hide_password=False),
            None,
        ),
        (empty_postgres_url, "-c application_name=desk_env"),
    ):
        if environ is None:
            monkeypatch.delenv("PGOPTIONS", raising=False)
        else:
            monkeypatch.setenv("PGOPTIONS", environ)
        db = Database(url)
        try:
            given = "desk_url" if environ is None else "desk_env"
            with db.unit_of_work() as uow:
                assert uow.session.execute(text("SHOW application_name")).scalar() == given
            with db.reading() as session:
                assert session.execute(text("SHOW application_name")).scalar() == given
                workers = session.execute(text("SHOW max_parallel_workers_per_gather")).scalar()
                assert workers == "0"
        finally:
            db.dispose()
