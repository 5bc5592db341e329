"""Delivery's record of a row sent: done, with its audit event, committed before the
next send (``workers.steps.deliver`` sends; this writes what went out).

Where nothing else is written with the record it is a transaction of one statement
(``Database.one_statement``: on PostgreSQL in autocommit, no ORM session and no BEGIN
and COMMIT round trips); where the channel's adapter keeps something of the message
(``ChannelAdapter.records_sent``), an agent's chat is told the reply arrived, or the
event needs more than the record's statement, a unit of work holds them all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from router.envelopes import DeliveryResult, OutboundMessage
from router.vocabulary import AuditAction, Channel, ChatAction, SystemActor
from store import outbox_sent
from store.audit import make_event
from store.one_statement import Executor, OneStatements
from store.outbox import Claimed
from workers.desk.reply_receipts import confirm_delivered
from workers.runtime import desk_metrics
from workers.runtime.context import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sent:
    """A row's message went out whole: what was sent, and the far side's answer."""

    message: OutboundMessage
    result: DeliveryResult


def record_sent(
    runtime: Runtime,
    outbox_id: int,
    claimed: Claimed,
    sent: Sent,
    following: tuple[int, str | None] | None = None,
    statements: OneStatements | None = None,
) -> bool:
    """Record the row sent, with its ``outbox.sent`` audit event (written by the same
    statement on PostgreSQL), in a transaction committed before returning; ``following``:
    the row a batch sends next (its id and token), whose fence is checked with the record.
    Returns whether that row is still ours. ``statements``: where a one-statement
    record runs (a connection the caller holds for its claim and records), else the
    database's pool.

    Where nothing else is written with the record (the channel keeps nothing of the
    message, no agent's chat is told it arrived, the event goes in the record's statement
    and tells no webhook) that transaction is the record's one statement
    (``Database.one_statement``: no ORM session, and no BEGIN and COMMIT round trips on
    PostgreSQL); else a unit of work holds the record and what goes with it."""
    message, result = sent.message, sent.result
    adapter = runtime.channels[message.channel]
    now = runtime.now()
    event = None
    if message.chat_action != ChatAction.ANSWER_CALLBACK:  # a button's: the action is logged
        event = make_event(
            ticket_id=claimed.ticket_id,
            actor=SystemActor.DELIVER,
            action=AuditAction.OUTBOX_SENT,
            detail=f"delivered to {claimed.recipient}",
            now=now,
            data={"outbox_id": outbox_id, "message_id": result.external_id},
            config_version=runtime.db.config_version(),
        )
    alone = (
        not adapter.records_sent(message)
        and claimed.confirm_chat_id is None
        and outbox_sent.sent_in_one_statement(runtime.db.dialect, event=event, token=claimed.token)
    )
    if alone:
        with (statements or runtime.db).one_statement() as statement:
            recorded, held = _record(
                runtime, statement, outbox_id, claimed, sent, now, following, event
            )
    else:
        with runtime.db.unit_of_work() as uow:
            recorded, held = _record(
                runtime, uow.session, outbox_id, claimed, sent, now, following, event
            )
            if recorded:
                if event is not None:
                    uow.audit.written(event)
                adapter.record_sent(
                    runtime, uow, outbox_id, claimed, result.external_id.split(","), message
                )
                if claimed.confirm_chat_id is not None:  # an agent's answer from a chat
                    confirm_delivered(
                        runtime,
                        uow,
                        outbox_id=outbox_id,
                        ticket_id=claimed.ticket_id,
                        channel=Channel(message.channel),
                        chat_id=claimed.confirm_chat_id,
                    )
    if not recorded:
        log.warning("outbox %s was sent after another attempt took it", outbox_id)
        return held  # that attempt records its own outcome
    desk_metrics.delivered(Channel(message.channel).value)
    log.info(
        "outbox %s delivered to %s",
        outbox_id,
        claimed.recipient,
        extra={"ticket": claimed.ticket_id, "outbox_id": outbox_id},
    )
    return held


def _record(
    runtime: Runtime,
    executor: Executor,
    outbox_id: int,
    claimed: Claimed,
    sent: Sent,
    now: datetime,
    following: tuple[int, str | None] | None,
    event: dict[str, Any] | None,
) -> tuple[bool, bool]:
    """The record's statement: (recorded, the following row still ours)."""
    external_id, token = sent.result.external_id, claimed.token
    if following is None:
        recorded = outbox_sent.mark_sent(
            executor, outbox_id, external_id=external_id, now=now, token=token, event=event
        )
        return recorded, False
    return outbox_sent.sent_fencing_next(
        executor,
        outbox_id,
        external_id=external_id,
        now=now,
        token=token,
        following=following,
        lease=runtime.send_lease,
        event=event,
    )


__all__ = ["Sent", "record_sent"]
