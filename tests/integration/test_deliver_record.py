"""A channel added through the registry whose adapter keeps something of each message
sent (``record_sent``) has it called on both databases, whether or not it says when
(``records_sent``): delivery records a row in one statement, without calling the adapter,
only where the adapter says it keeps nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from router.envelopes import OutboundMessage
from router.vocabulary import Channel, OutboxKind, RowState
from store.db import UnitOfWork
from store.outbox import Claimed
from tests.conftest import FAST_RETRIES, make_settings
from tests.support.desk import Desk, desk_for
from workers.channels.email_channel import EmailChannel
from workers.channels.registry import ChannelRegistry
from workers.channels.telegram_channel import TelegramChannel
from workers.channels.web_channel import WebChannel
from workers.runtime.context import Runtime
from workers.steps.deliver import deliver


class KeepingEmail(EmailChannel):
    """Email, keeping the far side's ids of each message sent (overrides ``record_sent``
    only, as a deployment's own adapter might)."""

    def __init__(self) -> None:
        super().__init__()
        self.kept: list[tuple[int, list[str]]] = []

    def record_sent(
        self,
        runtime: Runtime,
        uow: UnitOfWork,
        outbox_id: int,
        claimed: Claimed,
        parts: list[str],
        message: OutboundMessage | None = None,
    ) -> None:
        self.kept.append((outbox_id, parts))


@pytest.fixture
def keeping() -> KeepingEmail:
    return KeepingEmail()


@pytest.fixture
def desk(database_url: str, keeping: KeepingEmail) -> Iterator[Desk]:
    channels = ChannelRegistry((WebChannel(), keeping, TelegramChannel()))
    yield from desk_for(make_settings(database_url, **FAST_RETRIES), channels=channels)


def test_an_adapter_that_overrides_record_sent_alone_has_it_called_for_each_row_sent(
    desk: Desk, keeping: KeepingEmail
) -> None:
    runtime = desk.runtime
    with runtime.db.unit_of_work() as uow:
        outbox_id = uow.outbox.add(
            OutboundMessage(
                channel=Channel.EMAIL,
                recipient="r@example.org",
                subject="s",
                body_text="b",
                message_id="<kept1@desk>",
            ),
            kind=OutboxKind.REPLY,
            ticket_id=None,
            now=runtime.now(),
            redrive_after=timedelta(minutes=1),
        )
    assert outbox_id is not None
    assert deliver(runtime, outbox_id) is RowState.DONE
    assert keeping.kept == [(outbox_id, ["<kept1@desk>"])]
