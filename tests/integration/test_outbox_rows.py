"""Many outbox rows queued in one statement: ids in order, a dedupe hit none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, select

from router.envelopes import OutboundMessage
from router.vocabulary import Channel, OutboxKind
from store.db import Database
from store.models import OutboxItem
from store.outbox_rows import Queued

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def _queued(n: int, dedupe_key: str | None = None, message_id: str | None = None) -> Queued:
    message = OutboundMessage(
        channel=Channel.EMAIL,
        recipient=f"c{n}@x.org",
        subject=f"s{n}",
        body_text="b",
        message_id=message_id or f"<m{n}@x.org>",
    )
    return Queued(message, kind=OutboxKind.ACKNOWLEDGEMENT, ticket_id=None, dedupe_key=dedupe_key)


def _inserts(db: Database) -> list[str]:
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().startswith("INSERT INTO outbox"):
            sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    return sent


def test_many_rows_come_back_in_order_and_a_dedupe_hit_gets_no_row(db: Database) -> None:
    with db.unit_of_work() as uow:
        before = uow.outbox.add(
            _queued(0).message,
            kind=OutboxKind.ACKNOWLEDGEMENT,
            ticket_id=None,
            dedupe_key="k0",
            now=NOW,
            redrive_after=MINUTE,
        )
    inserts = _inserts(db)
    batch = [
        _queued(3, "k3"),
        _queued(1),
        _queued(9, "k0"),  # queued before
        _queued(2, "k3"),  # an earlier one of the batch has its key
        _queued(5, message_id="<m0@x.org>"),  # queued before by its Message-ID
        _queued(4),
    ]
    with db.unit_of_work() as uow:
        ids = uow.outbox.add_many(batch, now=NOW, redrive_after=MINUTE)
    assert before is not None and ids[2] is None and ids[3] is None and ids[4] is None
    kept = [i for i in ids if i is not None]
    assert len(set(kept)) == 3 and before not in kept
    with db.unit_of_work() as uow:
        rows = dict(
            uow.session.execute(
                select(OutboxItem.id, OutboxItem.recipient).where(OutboxItem.id.in_(kept))
            ).all()
        )
    assert [rows[i] for i in kept] == ["c3@x.org", "c1@x.org", "c4@x.org"]
    one_statement = db.engine.dialect.name == "postgresql"  # SQLite: one a row, in order
    assert len(inserts) == (1 if one_statement else len(batch))


def test_a_batch_sharing_a_message_id_is_queued_a_row_at_a_time(db: Database) -> None:
    """A Message-ID twice: the first (a dedupe hit) must not take the second's row."""
    with db.unit_of_work() as uow:
        uow.outbox.add_many([_queued(0, "k0")], now=NOW, redrive_after=MINUTE)
    with db.unit_of_work() as uow:
        ids = uow.outbox.add_many(
            [_queued(1, "k0", "<same@x.org>"), _queued(2, "k2", "<same@x.org>")],
            now=NOW,
            redrive_after=MINUTE,
        )
    assert ids[0] is None and ids[1] is not None
    with db.unit_of_work() as uow:
        row = uow.outbox.get(ids[1])
        assert row is not None and row.dedupe_key == "k2"
