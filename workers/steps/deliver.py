"""Deliver: send one outbox row through its channel's connector, exactly as rendered.

The row is claimed (pending -> sending, with a lease) in its own transaction
before the send, and marked sent after it (``workers.steps.deliver_record``). A
crash in between leaves the row ``sending``; once the lease runs out the scheduler
re-drives it, and the resend carries the same Message-ID, so the far side can
recognise it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from router.envelopes import OutboundMessage
from router.errors import PermanentError, Throttled, TransientError
from router.vocabulary import AuditAction, Channel, ChatAction, RowState, SystemActor
from store import outbox_leases
from store.one_statement import OneStatements
from store.outbox import Claimed
from workers.desk.reply_receipts import report_undelivered
from workers.runtime import desk_metrics
from workers.runtime.batch_step import BatchStep, resend_alone
from workers.runtime.context import Runtime
from workers.runtime.current_message import current_message_id
from workers.steps.deliver_record import Sent, record_sent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Failed:
    state: RowState
    error: Exception


@dataclass(frozen=True)
class _Held:
    """The far side asked to wait ``wait_s``: the row waits, its attempt not spent."""

    wait_s: float


def deliver(runtime: Runtime, outbox_id: int) -> RowState | None:
    """Send the row; returns its new state, or None when there was nothing to do (done
    already, held by another attempt, or waiting for an older row of its sequence).

    Raises ``TransientError`` while attempts remain, so dramatiq retries with backoff.
    A row the far side asked to hold back (Telegram's flood control) comes back after
    the wait, its attempt not spent. A row done or failed for good hands its
    sequence's turn on to the next row.
    """
    with runtime.db.held_connection() as statements:  # the claim's and the record's
        claimed = _claim(runtime, [outbox_id], statements).get(outbox_id)
        if claimed is None:
            return None
        outcome = _attempt(runtime, outbox_id, claimed, held=True)  # claimed this moment
        if outcome is None:
            return None
        if isinstance(outcome, _Held):
            _come_back(runtime, outbox_id, claimed, outcome)
            return RowState.PENDING
        if isinstance(outcome, _Failed):
            if outcome.state is RowState.PENDING:
                raise TransientError(str(outcome.error)) from None
            _hand_on(runtime, outbox_id, claimed)
            return outcome.state
        record_sent(runtime, outbox_id, claimed, outcome, statements=statements)
    _hand_on(runtime, outbox_id, claimed)
    return RowState.DONE


def deliver_each(runtime: Runtime, outbox_ids: list[int]) -> dict[Channel, list[int]]:
    """Send many rows (``DeliverBatch``); the rows to try again later, by channel."""
    step = DeliverBatch(runtime)
    again = step.run(outbox_ids)
    return step.by_channel(again)


class DeliverBatch(BatchStep):
    """Send many rows: claimed in one statement, then sent one by one (a channel's
    connector keeps its connection), each recorded sent as soon as it went out, so a
    crash can repeat at most the one message in flight. A failure is recorded on its
    row as for one; a row with attempts left is tried again alone, on its channel's
    queue. Rows not tried when an interruption (a time limit, a shutdown) stops the
    batch are given back, pending. A message of one row (an int) is ``deliver``.

    The fence before each send costs no transaction of its own where one has just
    committed: the first row's is the claim itself, and the next row's is checked by
    the statement that records a row sent (``fenced``: its answer, once committed).
    The claim and the records are each their own transaction, all on one connection
    held for the message (``Database.held_connection``).

    ``timeout_s``: each send's waits for the far side at most this long (``Sender.send``).
    ``settled``: the rows sent or failed for good; ``waiting``: those the far side asked
    to wait (sent again after the wait).
    """

    name = "delivery"
    caught = ()  # a failure is recorded by the attempt itself; anything else ends it

    def __init__(self, runtime: Runtime, *, timeout_s: float | None = None) -> None:
        self.runtime = runtime
        self.timeout_s = timeout_s
        self.settled: list[int] = []
        self.waiting: list[int] = []
        self.claimed: dict[int, Claimed] = {}
        self.fenced: dict[int, bool] = {}  # row -> still ours, checked in the last commit
        self.statements: OneStatements = runtime.db  # the held connection, in ``around``

    def stopping(self) -> bool:
        return self.runtime.stopping.is_set()

    def around(self) -> AbstractContextManager[None]:
        return self._holding()

    @contextmanager
    def _holding(self) -> Iterator[None]:
        """The message's claim and records on one connection, each committed alone."""
        with self.runtime.db.held_connection() as held:
            self.statements = held
            try:
                yield
            finally:
                self.statements = self.runtime.db

    def handle(self, ids: int | list[int], *args: Any) -> None:
        if isinstance(ids, int):
            deliver(self.runtime, ids)
            return
        super().handle(ids)

    def begin(self, ids: list[int]) -> list[int]:
        self.claimed = _claim(self.runtime, ids, self.statements)
        if self.claimed:  # the first row is sent next: its claim, just committed, is its fence
            self.fenced[next(iter(self.claimed))] = True
        return list(self.claimed)

    def one(self, outbox_id: int) -> bool:
        runtime, row = self.runtime, self.claimed[outbox_id]
        fence = self.fenced.pop(outbox_id, None)
        outcome = _attempt(runtime, outbox_id, row, held=fence, timeout_s=self.timeout_s)
        if outcome is None:  # taken by another attempt meanwhile: its business now
            return True
        if isinstance(outcome, _Held):
            self.waiting.append(outbox_id)
            _come_back(runtime, outbox_id, row, outcome)
            return True
        if isinstance(outcome, Sent):
            following = self._following(outbox_id)
            held = record_sent(runtime, outbox_id, row, outcome, following, self.statements)
            if following is not None:  # (committed: a rollback would have undone the check)
                self.fenced[following[0]] = held
        elif outcome.state is RowState.PENDING:
            return False
        self.settled.append(outbox_id)
        _hand_on(runtime, outbox_id, row)
        return True

    def _following(self, outbox_id: int) -> tuple[int, str | None] | None:
        """The row sent after ``outbox_id`` (the batch goes in id order) with its claim's
        token, whose fence the record of ``outbox_id`` checks; None after the last."""
        later = [i for i in self.claimed if i > outbox_id]
        return (later[0], self.claimed[later[0]].token) if later else None

    def give_back(self, ids: list[int]) -> None:
        tokens = {self.claimed[i].token for i in ids if i in self.claimed}
        with self.runtime.db.unit_of_work() as uow:
            for token in tokens or {None}:  # one claim, one token
                uow.outbox.release(ids, now=self.runtime.now(), token=token)

    def by_channel(self, ids: list[int]) -> dict[Channel, list[int]]:
        again: dict[Channel, list[int]] = {}
        for outbox_id in ids:
            again.setdefault(_channel(self.claimed[outbox_id]), []).append(outbox_id)
        return again

    def resend(self, ids: list[int]) -> None:
        retries = self.runtime.settings.retries.deliver
        for channel, again in self.by_channel(ids).items():
            resend_alone(self.runtime.deliver_actors[channel], again, retries)


def _claim(
    runtime: Runtime, outbox_ids: list[int], statements: OneStatements
) -> dict[int, Claimed]:
    """Take the rows for this attempt (``outbox_leases.claim``), committed before the send
    (the claim is the attempt's lease and its first row's fence): one statement, so in a
    transaction of its own without a unit of work (``statements.one_statement``)."""
    with statements.one_statement() as statement:
        return outbox_leases.claim(
            statement,
            outbox_ids,
            now=runtime.now(),
            lease=runtime.send_lease,
            max_attempts=runtime.settings.retries.deliver.max_attempts,
            holder=runtime.holder,
            dead_after=runtime.dead_after,
            attempt=current_message_id(),
        )


def _channel(claimed: Claimed) -> Channel:
    return Channel(claimed.payload.get("channel", Channel.EMAIL.value))


def _come_back(runtime: Runtime, outbox_id: int, claimed: Claimed, held: _Held) -> None:
    """A held row is sent again once its wait is over (the scheduler re-drives it after
    that, should this message be lost)."""
    runtime.enqueue_delivery(outbox_id, _channel(claimed), delay_s=held.wait_s)


def _hand_on(runtime: Runtime, outbox_id: int, claimed: Claimed) -> None:
    """A row of a sequence is done, or failed for good: the next one's turn. Asked after
    the commit, so a row that found this one unfinished is not left waiting."""
    if claimed.sequence_key is None:
        return
    with runtime.db.unit_of_work() as uow:
        following = uow.outbox.next_in_sequence(outbox_id)
    if following is not None:
        runtime.enqueue_delivery(following[0], Channel(following[1]))


def _asked_to_wait(exc: BaseException) -> float | None:
    """How long the far side asked to wait before the next try (a split message cut off
    by a flood carries it too), or None when it asked nothing."""
    if isinstance(exc, Throttled):
        return exc.retry_after
    wait = getattr(exc, "retry_after", None)
    return float(wait) if isinstance(wait, int | float) else None


def _still_ours(
    runtime: Runtime, outbox_id: int, claimed: Claimed, held: bool | None = None
) -> bool:
    """The fence before a send: our claim still holds the row (its lease starts again).
    ``held``: the answer of a fence the transaction just committed checked (the claim,
    or the previous row's record); None: checked now, in a transaction of its own."""
    if held is None:
        with runtime.db.unit_of_work() as uow:
            held = uow.outbox.still_held(
                outbox_id, token=claimed.token, now=runtime.now(), lease=runtime.send_lease
            )
    if not held:
        log.warning("outbox %s was taken by another attempt: not sent again", outbox_id)
    return held


def _attempt(
    runtime: Runtime,
    outbox_id: int,
    claimed: Claimed,
    *,
    held: bool | None = None,
    timeout_s: float | None = None,
) -> Sent | _Failed | _Held | None:
    """Send one claimed row; a failure or a hold is recorded on the row before returning.
    None: the row is no longer ours (our lease ran out and another attempt took it).
    ``held``: as for ``_still_ours``; ``timeout_s``: the send's (``Sender.send``)."""
    if not _still_ours(runtime, outbox_id, claimed, held):
        return None
    message: OutboundMessage | None = None
    try:
        message = OutboundMessage.from_payload(claimed.payload)
        if claimed.progress and message.chat_action == ChatAction.SEND:
            message = replace(message, sent_parts=tuple(claimed.progress.split(",")))
        result = runtime.sender(Channel(message.channel)).send(message, timeout_s=timeout_s)
    except (PermanentError, TransientError, KeyError, ValueError) as exc:
        wait = _asked_to_wait(exc)
        if wait is not None:
            _record_hold(runtime, outbox_id, claimed, exc, wait)
            return _Held(wait)
        permanent = not isinstance(exc, TransientError)
        state = _record_failure(runtime, outbox_id, claimed, exc, permanent, message=message)
        return _Failed(state, exc)
    except BaseException as exc:  # a time limit or shutdown interrupt: count it, then go on
        _record_failure(runtime, outbox_id, claimed, exc, permanent=False)
        raise
    return Sent(message, result)


def _record_hold(
    runtime: Runtime, outbox_id: int, claimed: Claimed, exc: BaseException, wait_s: float
) -> None:
    now = runtime.now()
    until = now + timedelta(seconds=max(wait_s, 0.0))
    sent = getattr(exc, "sent", None)  # a split chat message: the parts that went out
    with runtime.db.unit_of_work() as uow:
        if isinstance(sent, list):
            runtime.channels[_channel(claimed)].record_sent(runtime, uow, outbox_id, claimed, sent)
        uow.outbox.hold(
            outbox_id,
            until=until,
            reason=f"waiting {wait_s:.0f} s, as asked, until {until:%H:%M:%S} UTC: {exc}",
            now=now,
            redrive_after=runtime.redrive_after,
            progress=",".join(sent) if isinstance(sent, list) else None,
            token=claimed.token,
        )
    log.info(
        "outbox %s to %s waits %.1f s, as asked: %s", outbox_id, claimed.recipient, wait_s, exc
    )


def _record_failure(
    runtime: Runtime,
    outbox_id: int,
    claimed: Claimed,
    exc: BaseException,
    permanent: bool,
    *,
    message: OutboundMessage | None = None,
) -> RowState:
    ticket_id, recipient = claimed.ticket_id, claimed.recipient
    adapter = runtime.channels[_channel(claimed)]
    retries = runtime.settings.retries.deliver
    sent = getattr(exc, "sent", None)  # a split chat message: the parts that went out
    with runtime.db.unit_of_work() as uow:
        if isinstance(sent, list):  # the parts of a split chat message that went out
            adapter.record_sent(runtime, uow, outbox_id, claimed, sent)
        state = uow.outbox.mark_failed_attempt(
            outbox_id,
            error=f"{type(exc).__name__}: {exc}",
            permanent=permanent,
            max_attempts=retries.max_attempts,
            now=runtime.now(),
            retry_after=timedelta(milliseconds=retries.max_backoff_ms) + runtime.redrive_after,
            progress=",".join(sent) if isinstance(sent, list) else None,
            token=claimed.token,
        )
        if state is RowState.FAILED:
            uow.audit.record(
                ticket_id=ticket_id,
                actor=SystemActor.DELIVER,
                action=AuditAction.OUTBOX_FAILED,
                detail=f"could not deliver to {recipient}: {exc}",
                now=runtime.now(),
                data={"outbox_id": outbox_id, "permanent": permanent},
            )
            if message is not None:
                adapter.failed_for_good(runtime, uow, outbox_id, message, exc)
            item = uow.outbox.get(outbox_id)
            if item is not None:  # an agent's answer from a chat: say it did not arrive
                report_undelivered(runtime, uow, item, str(exc))
    desk_metrics.delivery_failed(_channel(claimed).value, exc, state.value)
    log.warning(
        "delivery of outbox %s to %s failed (%s): %s",
        outbox_id,
        recipient,
        state,
        exc,
        extra={"ticket": ticket_id, "outbox_id": outbox_id},
    )
    return state
