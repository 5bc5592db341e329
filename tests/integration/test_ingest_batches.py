"""An ingest batch decides every row before it writes any, on both databases: its new
tickets go in one statement and its messages in another, and a later row still threads
onto what an earlier row of the batch opened or wrote (``router.batch_threads``)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select

from router.envelopes import InboundMessage
from router.vocabulary import AuditAction, Channel
from store.models import AuditEvent, InboxItem, Message, SlaTimer, Ticket
from tests.conftest import FAST_RETRIES, make_settings
from tests.support.desk import Desk, desk_for
from workers.steps import ingest_writes
from workers.steps.ingest import ingest, ingest_together

MINUTE = timedelta(minutes=1)


@pytest.fixture
def desk(database_url: str) -> Iterator[Desk]:
    yield from desk_for(make_settings(database_url, **FAST_RETRIES))


def _accept(desk: Desk, messages: list[InboundMessage]) -> list[int]:
    with desk.runtime.db.unit_of_work() as uow:
        return [
            uow.inbox.accept(m, now=desk.runtime.now(), redrive_after=MINUTE).inbox_id
            for m in messages
        ]


def _mail(key: str, sender: str, message_id: str, *answers: str) -> InboundMessage:
    return InboundMessage(
        channel=Channel.EMAIL,
        idempotency_key=key,
        sender_address=sender,
        subject=f"about {key}",
        body_text=f"text of {key}",
        external_id=message_id,
        in_reply_to=answers,
    )


def _rows(desk: Desk, ids: list[int]) -> list[tuple[str, int | None, str | None]]:
    with desk.runtime.db.unit_of_work() as uow:
        found = uow.session.execute(
            select(InboxItem.id, InboxItem.state, InboxItem.ticket_id, InboxItem.error).where(
                InboxItem.id.in_(ids)
            )
        ).all()
    by_id = {r[0]: (r[1], r[2], r[3]) for r in found}
    return [by_id[i] for i in ids]


def _messages(desk: Desk) -> list[tuple[int, str | None, int | None]]:
    """Every message: (ticket, Message-ID, inbox row), in the order written."""
    with desk.runtime.db.unit_of_work() as uow:
        rows = uow.session.execute(
            select(Message.ticket_id, Message.external_id, Message.inbox_id).order_by(Message.id)
        ).all()
    return [(r[0], r[1], r[2]) for r in rows]


def _inserts(desk: Desk) -> tuple[list[str], Callable[..., None]]:
    """The tables of the INSERT statements this thread sends, and of the reads of SLA
    clocks (as "read sla_timers"): a listener to remove after."""
    mine, seen = threading.get_ident(), []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if threading.get_ident() != mine:
            return
        if statement.startswith("INSERT INTO"):
            seen.append(statement.split()[2])
        elif statement.startswith("SELECT sla_timers"):
            seen.append("read sla_timers")

    event.listen(desk.runtime.db.engine, "before_cursor_execute", record)
    return seen, record


def test_a_batch_opens_a_ticket_and_threads_its_replies_onto_it_in_one_insert_each(
    desk: Desk,
) -> None:
    """A new mail, a reply to it and a reply to the reply (by another sender, found by
    its In-Reply-To), and another new mail, in one batch: two tickets, written by one
    INSERT, the replies on the first, and the four messages by one INSERT, in the order
    they came."""
    ids = _accept(
        desk,
        [
            _mail("a", "jo@example.org", "<a@example.org>"),
            _mail("b", "jo@example.org", "<b@example.org>", "<a@example.org>"),
            _mail("c", "kim@example.org", "<c@example.org>", "<b@example.org>"),
            _mail("d", "lee@example.org", "<d@example.org>"),
        ],
    )
    seen, listener = _inserts(desk)
    try:
        assert ingest_together(desk.runtime, ids, Channel.EMAIL).ok
    finally:
        event.remove(desk.runtime.db.engine, "before_cursor_execute", listener)
    assert seen.count("tickets") == 1 and seen.count("messages") == 1
    # the new tickets' clocks are not read first (a new ticket has none): the two reads
    # are the replies' clock events on the first ticket
    assert seen.count("read sla_timers") == 2
    a, b, c, d = _rows(desk, ids)
    assert [row[0] for row in (a, b, c, d)] == ["done"] * 4
    assert a[1] == b[1] == c[1] and d[1] not in (None, a[1])
    assert _messages(desk) == [
        (a[1], "<a@example.org>", ids[0]),
        (a[1], "<b@example.org>", ids[1]),
        (a[1], "<c@example.org>", ids[2]),
        (d[1], "<d@example.org>", ids[3]),
    ]
    desk.settle()
    acknowledged = sorted(m.recipient for m in desk.sender.sent if "example.org" in m.recipient)
    assert acknowledged == ["jo@example.org", "lee@example.org"]  # the new tickets' only


def test_copies_of_one_message_id_in_a_batch_are_one_message_and_a_reply_follows_it(
    desk: Desk,
) -> None:
    """Two rows of one sender's message (another idempotency key each: two paths in),
    a reply to it, and the same Message-ID from someone else: the copy adds nothing,
    the reply joins the first's ticket (the oldest carrier of the id), the other
    sender's message opens its own."""
    ids = _accept(
        desk,
        [
            _mail("imap", "jo@example.org", "<once@example.org>"),
            _mail("smtp", "jo@example.org", "<once@example.org>"),
            _mail("reply", "jo@example.org", "<r@example.org>", "<once@example.org>"),
            _mail("other", "kim@example.org", "<once@example.org>"),
        ],
    )
    again = _accept(desk, [_mail("imap", "jo@example.org", "<once@example.org>")])
    assert again == ids[:1]  # the same idempotency key: the same row
    assert ingest_together(desk.runtime, ids + again, Channel.EMAIL).ok
    first, copy, reply, other = _rows(desk, ids)
    assert [row[0] for row in (first, copy, reply, other)] == ["done"] * 4
    assert first[1] == copy[1] == reply[1] and other[1] not in (None, first[1])
    assert _messages(desk) == [
        (first[1], "<once@example.org>", ids[0]),
        (first[1], "<r@example.org>", ids[2]),
        (other[1], "<once@example.org>", ids[3]),
    ]
    with desk.runtime.db.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count(Ticket.id))) == 2


def test_a_batch_half_of_which_is_unreadable_keeps_every_good_row_and_each_reason(
    desk: Desk,
) -> None:
    """Six rows, three unreadable: the batch fails as a whole and goes row by row; the
    three good ones are one ticket and one message each, the others failed with why."""
    ids = _accept(
        desk, [_mail(f"m{i}", f"p{i}@example.org", f"<m{i}@example.org>") for i in range(6)]
    )
    with desk.runtime.db.unit_of_work() as uow:
        for unreadable in ids[1::2]:
            uow.session.get(InboxItem, unreadable).payload = {"channel": "email"}  # type: ignore[union-attr]
    desk.runtime.ingest_actors[Channel.EMAIL].send(ids)
    desk.settle()
    rows = _rows(desk, ids)
    for good in rows[0::2]:
        assert good[0] == "done" and good[1] is not None and good[2] is None
    for bad in rows[1::2]:
        assert bad[0] == "failed" and bad[1] is None
        assert "unreadable inbox payload" in (bad[2] or "")
    assert _messages(desk) == [(rows[i][1], f"<m{i}@example.org>", ids[i]) for i in range(0, 6, 2)]
    with desk.runtime.db.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count(Ticket.id))) == 3


def test_an_agents_reply_all_in_the_batch_of_the_mail_it_answers_is_a_note_on_its_ticket(
    desk: Desk,
) -> None:
    """A customer's new mail and an agent's reply-all to it in one batch: the agent's
    answer finds the ticket the mail opened (the rows before it are written first), a
    note on it, not a ticket of its own; the row after it still goes with the batch."""
    ids = _accept(
        desk,
        [
            _mail("new", "jo@example.org", "<new@example.org>"),
            _mail(
                "ben", "ben@relaydesk.localhost", "<ben@relaydesk.localhost>", "<new@example.org>"
            ),
            _mail("more", "jo@example.org", "<more@example.org>", "<ben@relaydesk.localhost>"),
        ],
    )
    assert ingest_together(desk.runtime, ids, Channel.EMAIL).ok
    new, ben, more = _rows(desk, ids)
    assert new[0] == ben[0] == more[0] == "done"
    assert new[1] is not None and new[1] == ben[1] == more[1]
    with desk.runtime.db.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count(Ticket.id))) == 1
        kinds = uow.session.execute(
            select(Message.direction, Message.author).order_by(Message.id)
        ).all()
    assert [k[0] for k in kinds] == ["inbound", "internal", "inbound"]
    assert kinds[1][1] == "agent:ben"


def test_someone_copied_on_a_reply_in_the_batch_joins_by_the_tickets_tag(desk: Desk) -> None:
    """``email.cc_participants`` (on by default): jo answers her ticket copying kim, and
    kim, in the same batch, writes a new mail with the ticket's tag: the reply is not
    written yet, but the batch knows kim was copied on it, so both join the ticket."""
    (first,) = _accept(desk, [_mail("a", "jo@example.org", "<a@example.org>")])
    assert ingest_together(desk.runtime, [first], Channel.EMAIL).ok
    number = _rows(desk, [first])[0][1]
    assert number is not None
    reply = replace(
        _mail("b", "jo@example.org", "<b@example.org>", "<a@example.org>"),
        headers={"Cc": "Kim <kim@example.org>"},
    )
    tagged = replace(
        _mail("c", "kim@example.org", "<c@example.org>"), subject=f"[#{number}] me too"
    )
    ids = _accept(desk, [reply, tagged])
    assert ingest_together(desk.runtime, ids, Channel.EMAIL).ok
    assert [row[:2] for row in _rows(desk, ids)] == [("done", number), ("done", number)]
    with desk.runtime.db.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count(Ticket.id))) == 1


def test_a_new_ticket_its_clocks_and_its_first_message_have_one_time(desk: Desk) -> None:
    """Each reading of the clock a second later: a ticket a batch opens, the SLA clocks
    it starts and the message that opened it still carry one time, the row's (and a
    ticket opened alone too)."""
    start, ticks = desk.runtime.now(), iter(range(1, 10_000))
    desk.runtime.clock = lambda: start + timedelta(seconds=next(ticks))
    ids = _accept(desk, [_mail(k, f"{k}@example.org", f"<{k}@example.org>") for k in "abc"])
    assert ingest_together(desk.runtime, ids[:2], Channel.EMAIL).ok
    ingest(desk.runtime, ids[2], Channel.EMAIL)
    with desk.runtime.db.unit_of_work() as uow:
        tickets = uow.session.execute(select(Ticket.id, Ticket.created_at)).all()
        assert len(tickets) == 3
        for number, created_at in tickets:
            started = set(
                uow.session.scalars(select(SlaTimer.started_at).where(SlaTimer.ticket_id == number))
            )
            (written,) = uow.session.scalars(
                select(Message.created_at).where(Message.ticket_id == number)
            )
            assert started == {created_at} and written == created_at


def test_a_reply_in_a_batch_and_its_tickets_change_have_one_time(desk: Desk) -> None:
    """Each reading of the clock a second later: a reply decided early in a batch of new
    mails is recorded on its ticket (its audit event, the ticket's reopening and SLA
    events) at the time of its message, not at the later moment the batch writes it."""
    start, ticks = desk.runtime.now(), iter(range(1, 10_000))
    desk.runtime.clock = lambda: start + timedelta(seconds=next(ticks))
    (first,) = _accept(desk, [_mail("a", "jo@example.org", "<a@example.org>")])
    ingest(desk.runtime, first, Channel.EMAIL)
    reply = _mail("r", "jo@example.org", "<r@example.org>", "<a@example.org>")
    news = [_mail(k, f"{k}@example.org", f"<{k}@example.org>") for k in "bcd"]
    ids = _accept(desk, [reply, *news])
    assert ingest_together(desk.runtime, ids, Channel.EMAIL).ok
    with desk.runtime.db.unit_of_work() as uow:
        number, written = uow.session.execute(
            select(Message.ticket_id, Message.created_at).where(
                Message.external_id == "<r@example.org>"
            )
        ).one()
        received = uow.session.scalars(
            select(AuditEvent.created_at).where(
                AuditEvent.ticket_id == number,
                AuditEvent.action == AuditAction.MESSAGE_RECEIVED.value,
            )
        ).all()
    assert written in received  # (the first mail's own, if any, is earlier)


def test_a_row_failing_in_the_write_pass_fails_alone_with_its_reason(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four new mails; writing the third's ticket (its audit and clocks, after the batch's
    INSERT of tickets) fails, each time: the batch keeps nothing and goes row by row, the
    three others are one ticket and one message each, the third failed with why."""
    real = ingest_writes.record_opened

    def record_opened(runtime: Any, uow: Any, opening: Any, ticket_id: int, message: Any) -> None:
        if message.idempotency_key == "m2":
            raise RuntimeError("the audit log is full")
        real(runtime, uow, opening, ticket_id, message)

    monkeypatch.setattr(ingest_writes, "record_opened", record_opened)
    ids = _accept(
        desk, [_mail(f"m{i}", f"p{i}@example.org", f"<m{i}@example.org>") for i in range(4)]
    )
    assert not ingest_together(desk.runtime, ids, Channel.EMAIL).ok
    with desk.runtime.db.unit_of_work() as uow:  # nothing of the batch was kept
        assert uow.session.scalar(select(func.count(Ticket.id))) == 0
        assert uow.session.scalar(select(func.count(Message.id))) == 0
    desk.runtime.ingest_actors[Channel.EMAIL].send(ids)
    desk.settle()
    rows = _rows(desk, ids)
    for i in (0, 1, 3):
        assert rows[i][0] == "done" and rows[i][1] is not None and rows[i][2] is None
    assert rows[2][0] == "failed" and rows[2][1] is None
    assert "the audit log is full" in (rows[2][2] or "")
    assert _messages(desk) == [(rows[i][1], f"<m{i}@example.org>", ids[i]) for i in (0, 1, 3)]
    with desk.runtime.db.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count(Ticket.id))) == 3
