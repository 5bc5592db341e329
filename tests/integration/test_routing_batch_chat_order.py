"""A routing batch that tells one agent in Telegram about two tickets, the second with the
customer's files, sends the two notices in the order it decided them, the files after
their own notice: a chat's messages leave in the order they were queued.

The tickets are made by intake and ingest on a stub broker that nobody consumes, so none
is routed before the test routes them with ``route_together``; their deliveries are then
run by hand against the Bot API server on loopback.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import event, select

from router.envelopes import AttachmentRef, InboundMessage
from router.vocabulary import AgentStatus, Channel, RowState
from store.models import OutboxItem
from tests.conftest import make_settings
from tests.support.telegram_desk import telegram_env
from tests.support.telegram_server import TelegramServer
from workers.channels.intake import StoreIntake
from workers.runtime.build import build_runtime
from workers.runtime.context import Runtime
from workers.runtime.processes import prepare_database
from workers.steps.deliver import deliver
from workers.steps.ingest import ingest
from workers.steps.route_batch import route_together

pytestmark = pytest.mark.integration

ANA = 5001
INVOICE = b"%PDF-1.4 the invoice"
LOG = b"the log"


@pytest.fixture
def runtime(
    database_url: str, telegram_server: TelegramServer, tmp_path: Path
) -> Iterator[Runtime]:
    """ana alone online, linked to her chat; nobody routes or delivers."""
    settings = make_settings(
        database_url,
        relaydesk_helpdesk__acknowledge="false",
        **telegram_env(telegram_server, tmp_path),
    )
    built = build_runtime(settings, broker=StubBroker(), pool_size=10)
    try:
        prepare_database(built)
        with built.db.unit_of_work() as uow:
            uow.agents.by_name("ana").telegram_chat_id = str(ANA)  # type: ignore[union-attr]
            for name in ("ben", "sam"):
                uow.agents.by_name(name).status = AgentStatus.OFFLINE.value  # type: ignore[union-attr]
        yield built
    finally:
        built.close()


def _ticket(runtime: Runtime, key: str, files: tuple[AttachmentRef, ...] = ()) -> int:
    intake = StoreIntake(runtime)
    receipt = intake.accept(
        InboundMessage(
            channel=Channel.WEB,
            idempotency_key=key,
            sender_address=f"{key}@example.org",
            subject=f"help {key}",
            body_text="it is broken",
            attachments=files,
        )
    )
    ingest(runtime, receipt.inbox_id)
    made = intake.receipt(receipt.inbox_id)
    assert made is not None and made.ticket_number is not None
    return made.ticket_number


def test_a_batch_sends_an_agents_notices_in_order_the_files_after_their_own_notice(
    runtime: Runtime, telegram_server: TelegramServer
) -> None:
    first = _ticket(runtime, "plain")
    files = (
        AttachmentRef("invoice.pdf", "application/pdf", len(INVOICE), runtime.files.put(INVOICE)),
        AttachmentRef("app.log", "text/plain", len(LOG), runtime.files.put(LOG)),
    )
    second = _ticket(runtime, "filed", files)
    inserts: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if statement.startswith("INSERT INTO outbox"):
            inserts.append(statement)

    event.listen(runtime.db.engine, "before_cursor_execute", count)
    assert route_together(runtime, [first, second]) == []
    if runtime.db.dialect == "postgresql":  # (SQLite writes a row at a time)
        assert len(inserts) == 2  # the notices as the files need the second's id, the files

    with runtime.db.unit_of_work() as uow:
        rows = uow.session.execute(
            select(OutboxItem.id, OutboxItem.kind, OutboxItem.ticket_id)
            .where(OutboxItem.sequence_key == f"tg:{ANA}")
            .order_by(OutboxItem.id)
        ).all()
    assert [(kind, number) for _, kind, number in rows] == [
        ("assignment", first),
        ("assignment", second),
        ("customer_file", second),
        ("customer_file", second),
    ]

    # each row delivered, newest first, until none waits: a chat's row goes only after
    # every older one of its chat, so the server sees them in the order they were queued
    waiting = [outbox_id for outbox_id, _, _ in reversed(rows)]
    for _ in range(len(waiting)):
        waiting = [i for i in waiting if deliver(runtime, i) is not RowState.DONE]
    assert waiting == []
    sent = telegram_server.sent(ANA)
    assert [
        m.get("document", {}).get("file_name") or m["plain_text"].splitlines()[0] for m in sent
    ] == [
        f"Assigned to you: [#{first}]",
        f"Assigned to you: [#{second}]",
        "invoice.pdf",
        "app.log",
    ]
