"""The inbox: inbound messages made durable before anyone is told they arrived."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from router.envelopes import InboundMessage
from router.storable import is_id
from router.vocabulary import Channel, RowState
from store import inbox_statements as statements
from store import retryable_rows
from store.dialect import insert_ignoring_conflict, insert_many_ignoring_conflict, table
from store.models import InboxItem
from store.one_statement import Executor


def _row(
    message: InboundMessage,
    raw: bytes | None,
    now: datetime,
    redrive_after: timedelta,
    state: RowState,
    error: str | None,
) -> dict[str, Any]:
    return {
        "channel": message.channel.value,
        "idempotency_key": message.idempotency_key,
        "payload": message.to_payload(),
        "raw": raw,
        "state": state.value,
        "attempts": 0,
        "error": error,
        "received_at": now,
        "updated_at": now,
        "available_at": now + redrive_after,
        "sequence_key": message.sequence_key,
    }


@dataclass(frozen=True)
class Accepted:
    inbox_id: int
    created: bool  # False: the same idempotency key was seen before (a no-op)


UNFINISHED = (RowState.PENDING,)
_FINISH = (
    update(table(InboxItem))
    .where(table(InboxItem).c.id == bindparam("row_id"))
    .values(
        state=bindparam("new_state"),
        ticket_id=bindparam("new_ticket_id"),
        updated_at=bindparam("new_updated_at"),
        error=bindparam("new_error"),
    )
)


class InboxRepository:
    """``finishes``: where ``finish`` keeps its updates until ``flush`` (the unit of work
    flushes before it commits, so a batch writes them in one statement); without it,
    ``finish`` writes at once. ``claimed_raws``: where a claim keeps the raw bytes of the
    rows it claimed, for ``raw`` and ``raws`` in the same unit of work. ``told``: given on
    PostgreSQL, where a claim tells the waiters of the web rows it claims in its own
    statement (their ids are added), so the unit of work need not."""

    def __init__(
        self,
        session: Session,
        finishes: list[dict[str, Any]] | None = None,
        web_rows: list[int] | None = None,
        claimed_raws: dict[int, bytes | None] | None = None,
        told: set[int] | None = None,
    ) -> None:
        self.session = session
        self._finishes = finishes
        self._web_rows = web_rows  # web rows processed here: their waiters are woken
        self._claimed_raws = {} if claimed_raws is None else claimed_raws
        self._told = told

    def accept(
        self,
        message: InboundMessage,
        *,
        now: datetime,
        redrive_after: timedelta,
        raw: bytes | None = None,
        state: RowState = RowState.PENDING,
        error: str | None = None,
    ) -> Accepted:
        """Store ``message`` once per (channel, idempotency key)."""
        inbox_id = insert_ignoring_conflict(
            self.session, InboxItem, _row(message, raw, now, redrive_after, state, error)
        )
        if inbox_id is not None:
            return Accepted(inbox_id=inbox_id, created=True)
        return Accepted(inbox_id=self._existing(message), created=False)

    def accept_many(
        self,
        messages: Sequence[tuple[InboundMessage, bytes | None]],
        *,
        now: datetime,
        redrive_after: timedelta,
    ) -> list[Accepted]:
        """``accept`` for many pending messages, their rows written by one statement; in
        their order. A key seen before, or earlier in ``messages``, is not written again."""
        rows = [
            _row(message, raw, now, redrive_after, RowState.PENDING, None)
            for message, raw in messages
        ]
        inserted = insert_many_ignoring_conflict(
            self.session, InboxItem, rows, ("id", "channel", "idempotency_key")
        )
        new = {(channel, key): inbox_id for inbox_id, channel, key in inserted}
        accepted = []
        for (message, _raw), row in zip(messages, rows, strict=True):
            inbox_id = new.pop((row["channel"], row["idempotency_key"]), None)
            if inbox_id is not None:
                accepted.append(Accepted(inbox_id=inbox_id, created=True))
            else:
                accepted.append(Accepted(inbox_id=self._existing(message), created=False))
        return accepted

    def _existing(self, message: InboundMessage) -> int:
        """The id of the row stored under ``message``'s key."""
        return self.session.execute(
            select(InboxItem.id).where(
                InboxItem.channel == message.channel.value,
                InboxItem.idempotency_key == message.idempotency_key,
            )
        ).scalar_one()

    def get(self, inbox_id: int) -> InboxItem | None:
        if not is_id(inbox_id):
            return None
        self.flush()
        return self.session.get(InboxItem, inbox_id)

    def pending_raws(self, inbox_ids: Sequence[int]) -> dict[int, bytes | None]:
        """The raw bytes of those of the rows still pending, in one statement."""
        self.flush()
        wanted = [i for i in inbox_ids if is_id(i)]
        if not wanted:
            return {}
        rows = self.session.execute(statements.STATES_AND_RAWS, {"ids": wanted})
        return {
            row[0]: None if row[2] is None else bytes(row[2])
            for row in rows
            if row[1] == RowState.PENDING.value
        }

    def has_waiting(self, channel: Channel, *, before: datetime) -> bool:
        """Whether a pending row of ``channel`` was received before ``before``."""
        waiting = select(InboxItem.id).where(
            InboxItem.state == RowState.PENDING.value,
            InboxItem.channel == channel.value,
            InboxItem.received_at < before,
        )
        return self.session.execute(waiting.limit(1)).first() is not None

    def raw(self, inbox_id: int) -> bytes | None:
        """The original bytes the connector received, when it kept them."""
        return self.raws([inbox_id]).get(inbox_id)

    def raws(self, inbox_ids: list[int]) -> dict[int, bytes]:
        """``raw`` for many rows (those that kept their bytes): as claimed in this unit of
        work, the others in one statement."""
        claimed = self._claimed_raws
        found = {i: raw for i in inbox_ids if i in claimed and (raw := claimed[i]) is not None}
        rest = [i for i in inbox_ids if i not in claimed]
        if rest:
            rows = self.session.execute(statements.RAWS, {"ids": rest})
            found.update((row[0], bytes(row[1])) for row in rows if row[1] is not None)
        return found

    def claim(self, inbox_id: int, now: datetime) -> dict[str, Any] | None:
        """Move a pending row to done inside this transaction; its payload, or None.

        The conditional UPDATE locks the row, so a concurrent second delivery
        waits, then finds it done. If the work fails, the rollback returns the
        row to pending.
        """
        return self.claim_many([inbox_id], now).get(inbox_id)

    def finish(
        self,
        inbox_id: int,
        *,
        state: RowState,
        ticket_id: int | None,
        now: datetime,
        why: str | None = None,
    ) -> None:
        """``why``: what made a row quiet (an auto-reply, a bounce, a loop), kept for people."""
        row = {
            "row_id": inbox_id,
            "new_state": state.value,
            "new_ticket_id": ticket_id,
            "new_updated_at": now,
            "new_error": why[:4000] if why else None,
        }
        if self._finishes is None:
            self.session.execute(_FINISH, [row])
        else:
            self._finishes.append(row)

    def flush(self) -> None:
        """Write the finishes kept so far: one statement, a parameter set each."""
        if self._finishes:
            self.session.execute(_FINISH, list(self._finishes))
            self._finishes.clear()

    def begin_attempts(
        self, inbox_ids: list[int], *, now: datetime, lease: timedelta
    ) -> dict[int, int]:
        """See ``begin_attempts`` (the module's), in this transaction."""
        return begin_attempts(self.session, inbox_ids, now=now, lease=lease)

    def waiting_behind(self, inbox_ids: list[int], besides: Sequence[int] = ()) -> list[int]:
        """Those of ``inbox_ids`` with an older pending row of their sequence (one chat's
        updates), not one of ``besides`` (a batch's, ingested with it in order): their turn
        comes when it is done."""
        if not inbox_ids:
            return []
        values = {"ids": list(inbox_ids), "besides": list(besides)}
        return list(self.session.scalars(statements.WAITING_BEHIND, values))

    def next_in_sequences(self, inbox_ids: Sequence[int]) -> set[int]:
        """The oldest pending row of each of ``inbox_ids``'s sequences that is not one of
        them (whose turn it is once they are done), in one statement."""
        if not inbox_ids:
            return set()
        ids = list(inbox_ids)
        return set(self.session.scalars(statements.NEXT_IN_SEQUENCES, {"ids": ids, "done": ids}))

    def give_back_attempt(self, inbox_id: int) -> None:
        """An attempt that found it was not the row's turn: it does not count."""
        self.session.execute(
            update(InboxItem)
            .where(InboxItem.id == inbox_id, InboxItem.attempts > 0)
            .values(attempts=InboxItem.attempts - 1)
            .execution_options(synchronize_session=False)
        )

    def claim_many(
        self, inbox_ids: list[int], now: datetime, *, take_along: tuple[str, int] | None = None
    ) -> dict[int, dict[str, Any]]:
        """``claim`` for many rows at once: {id: payload} of those pending. (The batch's
        own rows are locked as found by their key, waited for if held, and their state read
        as locked; with ``take_along`` the rows taken along are locked too, each skipped if
        held: every other writer of rows no attempt has begun skips what is held, so
        waiting on the batch's own rows is the only wait. Each of its own rows is locked
        whatever its state, a done or failed one too, until the transaction ends: a claim
        waits for a transaction holding one, where the statement before 00fb1f0 read the
        state first and passed a finished row by.)

        ``take_along`` (a channel, a limit): in the same statement, also claim up to that
        many pending rows of the channel that no attempt has begun (``take_waiting``); they
        are those of the answer not in ``inbox_ids``."""
        telling = self._told is not None
        if take_along is None or take_along[1] <= 0:
            claim = statements.CLAIM_TELLING if telling else statements.CLAIM
            rows = self.session.execute(claim, {"ids": list(inbox_ids), "at": now}).all()
            return self._claimed(rows)
        channel, limit = take_along
        ids = list(inbox_ids)
        values = {"ids": ids, "besides": ids, "of_channel": channel, "limit": limit, "at": now}
        claim = statements.CLAIM_TAKING_ALONG_TELLING if telling else statements.CLAIM_TAKING_ALONG
        return self._claimed(self.session.execute(claim, values).all())

    def take_waiting(self, channel: str, *, limit: int, now: datetime) -> dict[int, dict[str, Any]]:
        """Claim (as ``claim``) up to ``limit`` pending rows of ``channel`` that no attempt
        has begun (their broker messages still queued): a worker with a backlog behind it
        takes them along in its transaction. {id: payload}. Rows another transaction
        holds are skipped, not waited for."""
        return self.claim_many([], now, take_along=(channel, limit))

    def _claimed(self, rows: Sequence[Any]) -> dict[int, dict[str, Any]]:
        """{id: payload} of claimed rows; the web rows among them and the raws are kept."""
        web = [row[0] for row in rows if row[1].get("channel") == Channel.WEB.value]
        self._processed(web)
        if self._told is not None:  # the claim told their waiters
            self._told.update(web)
        self._claimed_raws.update(
            (row[0], None if row[2] is None else bytes(row[2])) for row in rows
        )
        return {row[0]: dict(row[1]) for row in rows}

    def _processed(self, inbox_ids: Iterable[int]) -> None:
        if self._web_rows is not None:
            self._web_rows.extend(inbox_ids)

    def record_failure(
        self, inbox_id: int, *, error: str, permanent: bool, max_attempts: int, now: datetime
    ) -> RowState:
        """Record why an attempt failed; fail the row when permanent or out of attempts."""
        item = self.session.get(InboxItem, inbox_id, with_for_update=True)
        if item is None or item.state != RowState.PENDING.value:
            return RowState(item.state) if item else RowState.FAILED
        item.error = error[:4000]
        item.updated_at = now
        if permanent or item.attempts >= max_attempts:
            item.state = RowState.FAILED.value
            if item.channel == Channel.WEB.value:
                self._processed([item.id])
        return RowState(item.state)

    def retry(self, inbox_id: int, now: datetime) -> bool:
        """Give a failed row another chance (an operator's decision)."""
        return retryable_rows.reopen_failed(self.session, InboxItem, inbox_id, now)

    def recent(self, *, state: RowState | None = None, limit: int = 50) -> list[InboxItem]:
        self.flush()
        query = select(InboxItem).order_by(InboxItem.id.desc()).limit(limit)
        if state is not None:
            query = query.where(InboxItem.state == state.value)
        return list(self.session.scalars(query))

    def give_up_exhausted(self, *, now: datetime, max_attempts: int) -> list[int]:
        """Fail rows whose every attempt died without reporting back; returns their ids."""
        rows = retryable_rows.fail_exhausted(
            self.session,
            InboxItem,
            UNFINISHED,
            now=now,
            max_attempts=max_attempts,
            returning=(InboxItem.id,),
        )
        return [row[0] for row in rows]

    def due_for_redrive(
        self, *, now: datetime, again_after: timedelta, limit: int
    ) -> list[tuple[int, str]]:
        """Pending rows whose time is up, moved on and returned as (id, channel)."""
        return retryable_rows.take_due(
            self.session, InboxItem, UNFINISHED, now=now, again_after=again_after, limit=limit
        )

    def make_all_due(self, now: datetime) -> None:
        retryable_rows.make_due(self.session, InboxItem, UNFINISHED, now)


def begin_attempts(
    executor: Executor, inbox_ids: list[int], *, now: datetime, lease: timedelta
) -> dict[int, int]:
    """Count one processing attempt on each pending row before it starts (commit it on
    its own): {id: attempt number}, by id. Counting up front survives what an attempt
    cannot report, a SIGKILL or a time limit; a row is not due for a re-drive until
    ``lease`` has passed.

    A row another transaction holds is left out, not waited for: a batch that took
    it along is ingesting it (if that batch fails, it takes its rows one by one).

    ``executor``: a unit of work's session, or a transaction of one statement
    (``Database.one_statement``: what the ``InboxAttempts`` middleware uses before each
    ingest message, committed on its own, before the work).
    """
    values = {"ids": list(inbox_ids), "lease_until": now + lease, "at": now}
    rows = executor.execute(statements.BEGIN_ATTEMPTS, values).all()
    return dict(sorted((row[0], row[1]) for row in rows))
