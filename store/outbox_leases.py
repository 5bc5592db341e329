"""Outbox leases: a delivery attempt claims its rows, and holds them while its token does.

A claim gives each row a new token and names the process holding it (its heartbeat's
``holder``). Before the send the attempt checks that its token still holds the row
(and starts the lease again); the send is recorded only under that token. So a worker
paused past its lease cannot send what another attempt has taken since (fencing), and
the rows of a worker whose heartbeat stopped are taken at once, not after the lease.

A claim may name the broker message its attempt runs for (``attempt``): the token then
starts with a digest of it, and another claim for the same message takes the row back at
once. dramatiq runs a message again only once its earlier run is over (a retry after it
raised) or its worker is gone (a redelivery after the worker's broker heartbeat
stopped), so the earlier run cannot still be using the row, and a row whose outcome
could not be recorded (the database restarting under it) does not wait out the lease.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from hashlib import sha256
from secrets import token_hex
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Update,
    bindparam,
    case,
    exists,
    false,
    func,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from router.vocabulary import RowState
from store.audit import event_parameters, insert_event, written_with
from store.dialect import table
from store.models import OutboxItem, ProcessBeat
from store.one_statement import Executor
from store.process_beats import quiet_since
from store.webhook_capture import tells_webhooks

_UNFINISHED_STATES = [RowState.PENDING.value, RowState.SENDING.value]
# what a claim decides on, read on the rows as locked
_CLAIM_READS = "id attempts state available_at lease_holder lease_token not_before sequence_key"


@dataclass(frozen=True)
class Claimed:
    """An outbox row taken for one delivery attempt."""

    payload: dict[str, Any]
    ticket_id: int | None
    recipient: str
    kind: str = ""
    progress: str | None = None  # parts of a split message an earlier attempt delivered
    sequence_key: str | None = None  # its sequence: the next row's turn comes after it
    confirm_chat_id: str | None = None  # the chat of the agent who sent this reply there
    token: str | None = None  # this claim's: the row is still ours while it holds it


def claim(
    executor: Executor,
    outbox_ids: list[int],
    *,
    now: datetime,
    lease: timedelta,
    max_attempts: int = 1_000,
    holder: str | None = None,
    dead_after: timedelta | None = None,
    attempt: str | None = None,
) -> dict[int, Claimed]:
    """Take rows for one delivery attempt by ``holder``, in one statement: {id: claimed},
    by id. Taken: pending rows, rows whose lease ran out, rows whose holder's heartbeat
    stopped ``dead_after`` ago (a killed worker's, found by the broker's redelivery of its
    message), and rows an earlier run of the same broker message (``attempt``) claimed.
    Left out: rows another live attempt holds, done ones, ones that must wait
    (``not_before``) or wait for an older unfinished row of their sequence, and ones that
    used ``max_attempts`` (the sweep fails them). Each claim has a new token."""
    if not outbox_ids:
        return {}
    prefix = _attempt_prefix(attempt)
    token = (prefix or token_hex(_PREFIX // 2)) + token_hex(16 - _PREFIX // 2)
    many = len(outbox_ids) > 1
    values: dict[str, Any] = {
        "ids" if many else "row_id": list(outbox_ids) if many else outbox_ids[0],
        "max_attempts": max_attempts,
        "at": now,
        "lease_until": now + lease,
        "token": token,
        "holder": holder,
    }
    if dead_after is not None:
        values["dead_before"] = now - dead_after
    if prefix is not None:
        values["prefix"] = prefix
    statement = _claim(many, dead_after is not None, prefix is not None)
    rows = executor.execute(statement, values).all()
    return {
        row[0]: Claimed(
            payload=dict(row[1]),
            ticket_id=row[2],
            recipient=row[3],
            kind=row[4],
            progress=row[5],
            sequence_key=row[6],
            confirm_chat_id=row[7],
            token=token,
        )
        for row in sorted(rows, key=lambda r: r[0])
    }


@cache
def _claim(many: bool, dead: bool, by_message: bool) -> Update:
    """``claim``'s statement, built once per shape (see ``store.dialect``): one row or
    many, with the dead holders' rows or without, with the message's own or without.
    The rows are found by their key, locked first (a materialized CTE), and judged as
    locked: with history the statistics see no unfinished row, and states in the WHERE
    were planned as a walk of the pending and sending rows (``ix_outbox_due``)."""
    outbox = table(OutboxItem).c
    named = outbox.id.in_(bindparam("ids", expanding=True)) if many else None
    found = (
        select(*(outbox[name] for name in _CLAIM_READS.split()))
        .where(outbox.id == bindparam("row_id") if named is None else named)
        .with_for_update(key_share=True)
        .cte("named")
        .prefix_with("MATERIALIZED")
    ).c
    older = table(OutboxItem).alias("older")
    sending = found.state == RowState.SENDING.value
    dead_holders = select(table(ProcessBeat).c.holder).where(
        table(ProcessBeat).c.beat_at < bindparam("dead_before")
    )
    claimable = select(found.id).where(
        found.attempts < bindparam("max_attempts"),
        or_(
            found.state == RowState.PENDING.value,
            sending & (found.available_at <= bindparam("at")),
            sending & found.lease_holder.in_(dead_holders) if dead else false(),
            sending & (func.substr(found.lease_token, 1, _PREFIX) == bindparam("prefix"))
            if by_message
            else false(),
        ),
        or_(found.not_before.is_(None), found.not_before <= bindparam("at")),
        or_(
            found.sequence_key.is_(None),
            ~exists().where(
                older.c.sequence_key == found.sequence_key,
                older.c.state.in_(_UNFINISHED_STATES),
                older.c.id < found.id,
            ),
        ),
    )
    return (
        update(table(OutboxItem))
        .where(outbox.id.in_(claimable))
        .values(
            state=RowState.SENDING.value,
            attempts=outbox.attempts + 1,
            updated_at=bindparam("at"),
            available_at=bindparam("lease_until"),
            lease_token=bindparam("token"),
            lease_holder=bindparam("holder"),
        )
        .returning(
            outbox.id,
            outbox.payload,
            outbox.ticket_id,
            outbox.recipient,
            outbox.kind,
            outbox.external_id,
            outbox.sequence_key,
            outbox.confirm_chat_id,
        )
    )


def still_held(
    executor: Executor, outbox_id: int, *, token: str | None, now: datetime, lease: timedelta
) -> bool:
    """Just before a send: is the row still ours (sending under our claim's token)?
    If so its lease starts again, so nobody may take it for a whole lease from now;
    if not, another attempt took it after our lease ran out, or a sweep gave it back,
    and we must not send it."""
    if token is None:
        return True
    values = {"row_id": outbox_id, "held_by": token, "lease_until": now + lease, "at": now}
    return executor.execute(_still_held(), values).first() is not None


@cache
def _still_held() -> Update:
    """Built once, in Core (see ``store.dialect``): delivery runs it before each send."""
    outbox = table(OutboxItem).c
    return (
        update(table(OutboxItem))
        .where(
            outbox.id == bindparam("row_id"),
            outbox.state == RowState.SENDING.value,
            outbox.lease_token == bindparam("held_by"),
        )
        .values(available_at=bindparam("lease_until"), updated_at=bindparam("at"))
        .returning(outbox.id)
    )


def mark_sent(
    executor: Executor,
    outbox_id: int,
    *,
    external_id: str,
    now: datetime,
    token: str | None,
    event: dict[str, Any] | None = None,
) -> bool:
    """Done; False if ``token`` no longer holds the row (another attempt took it).
    ``event``: an audit event (``AuditLog.event``) written only if the row was recorded,
    in the same statement on PostgreSQL (``store.audit.written_with``)."""
    values = {"outbox_id": outbox_id, "external_id": external_id[:255], "now": now}
    if token is not None:
        values["token"] = token
    ids = _sent(executor, _mark_sent(token is not None), "outbox_id", values, event)
    return outbox_id in ids


@cache
def _mark_sent(fenced: bool) -> Update:
    """Built once (see ``store.dialect``): delivery runs it for every message sent."""
    outbox = table(OutboxItem).c
    held = outbox.lease_token == bindparam("token") if fenced else outbox.id.is_not(None)
    return (
        update(table(OutboxItem))
        .where(outbox.id == bindparam("outbox_id"), outbox.state == RowState.SENDING.value, held)
        .values(
            state=RowState.DONE.value,
            external_id=bindparam("external_id"),
            sent_at=bindparam("now"),
            updated_at=bindparam("now"),
            error=None,
        )
        .returning(outbox.id)
    )


def _sent(
    executor: Executor,
    change: Update,
    row: str,
    values: dict[str, Any],
    event: dict[str, Any] | None,
) -> set[int]:
    """Run ``change`` (a record of the row whose id is the parameter ``row``, returning
    the ids it changed), with ``event`` written if that row came back: in one statement
    on PostgreSQL, the INSERT after the UPDATE on SQLite (the embedded store)."""
    if event is None:
        return set(executor.execute(change, values).scalars())
    if executor.get_bind().dialect.name == "postgresql":
        both = {**values, **event_parameters(event)}
        return set(executor.execute(_with_event(change, row), both).scalars())
    ids = set(executor.execute(change, values).scalars())
    if values[row] in ids:
        insert_event(executor, event)
    return ids


def sent_in_one_statement(dialect: str, *, event: dict[str, Any] | None, token: str | None) -> bool:
    """Whether ``mark_sent`` and ``sent_fencing_next`` (whose next row has a token) record
    a row in one statement, so that it may run in ``Database.one_statement``: under a
    claim's token, its event (if any) written by the record's own statement (PostgreSQL;
    SQLite inserts it after) and telling no webhook (whose deliveries a unit of work
    writes as it flushes its events)."""
    if token is None:
        return False
    return event is None or (dialect == "postgresql" and not tells_webhooks([event]))


@cache
def _with_event(change: Update, row: str) -> Select[Any]:
    """Built once per record statement (each is built once, so its identity is its key)."""
    return written_with(change, row)


def sent_fencing_next(
    executor: Executor,
    outbox_id: int,
    *,
    external_id: str,
    now: datetime,
    token: str | None,
    following: tuple[int, str | None],
    lease: timedelta,
    event: dict[str, Any] | None = None,
) -> tuple[bool, bool]:
    """A row recorded sent (done, under our claim's ``token``) and the fence of the row a
    batch sends after it (``still_held`` for ``following``), in one statement: (recorded,
    the next one still ours). Delivery runs it for every row of a batch but the last.
    ``event``: as for ``mark_sent``, written in that statement too on PostgreSQL.
    Without a token (no claim's) for either, each is its own statement as before."""
    if token is None or following[1] is None:
        return (
            mark_sent(
                executor, outbox_id, external_id=external_id, now=now, token=token, event=event
            ),
            still_held(executor, following[0], token=following[1], now=now, lease=lease),
        )
    values = {
        "row_id": outbox_id,
        "held_by": token,
        "external_id": external_id[:255],
        "next_id": following[0],
        "next_held_by": following[1],
        "lease_until": now + lease,
        "at": now,
    }
    ids = _sent(executor, _sent_fencing_next(), "row_id", values, event)
    return outbox_id in ids, following[0] in ids


@cache
def _sent_fencing_next() -> Update:
    """Built once: each column takes its new value on the row sent (``row_id``) and keeps
    its own on the next one, whose lease alone starts again."""
    outbox = table(OutboxItem).c
    sent = outbox.id == bindparam("row_id")
    return (
        update(table(OutboxItem))
        .where(
            outbox.state == RowState.SENDING.value,
            or_(
                sent & (outbox.lease_token == bindparam("held_by")),
                (outbox.id == bindparam("next_id"))
                & (outbox.lease_token == bindparam("next_held_by")),
            ),
        )
        .values(
            state=case((sent, RowState.DONE.value), else_=outbox.state),
            external_id=case((sent, bindparam("external_id")), else_=outbox.external_id),
            sent_at=case((sent, bindparam("at")), else_=outbox.sent_at),
            error=case((sent, null()), else_=outbox.error),
            available_at=case((sent, outbox.available_at), else_=bindparam("lease_until")),
            updated_at=bindparam("at"),
        )
        .returning(outbox.id)
    )


def release_dead(
    session: Session, *, now: datetime, dead_after: timedelta, again_after: timedelta, limit: int
) -> list[tuple[int, str]]:
    """Rows being sent by processes whose heartbeat stopped ``dead_after`` ago: pending
    again at once (their attempt counted: it may have gone out), as (id, channel)."""
    dead = (
        select(OutboxItem.id)
        .where(OutboxItem.state == RowState.SENDING.value, _held_by_the_dead(now, dead_after))
        .limit(limit)
    )
    rows = session.execute(
        update(OutboxItem)
        .where(
            OutboxItem.id.in_(dead.scalar_subquery()),
            OutboxItem.state == RowState.SENDING.value,
        )
        .values(state=RowState.PENDING.value, available_at=now + again_after, updated_at=now)
        .returning(OutboxItem.id, OutboxItem.channel)
        .execution_options(synchronize_session=False)
    ).all()
    return [(row[0], row[1]) for row in rows]


def release_holder(session: Session, holder: str, *, now: datetime) -> list[tuple[int, str]]:
    """Rows ``holder`` is still sending as its process stops: pending again at once
    (their attempt counted: a send cut short may have gone out), as (id, channel)."""
    rows = session.execute(
        update(OutboxItem)
        .where(OutboxItem.state == RowState.SENDING.value, OutboxItem.lease_holder == holder)
        .values(state=RowState.PENDING.value, available_at=now, updated_at=now)
        .returning(OutboxItem.id, OutboxItem.channel)
        .execution_options(synchronize_session=False)
    ).all()
    return [(row[0], row[1]) for row in rows]


def _held_by_the_dead(now: datetime, dead_after: timedelta | None) -> ColumnElement[bool]:
    """Sending, under a holder whose heartbeat stopped ``dead_after`` before ``now``."""
    if dead_after is None:
        return false()
    return (OutboxItem.state == RowState.SENDING.value) & OutboxItem.lease_holder.in_(
        quiet_since(now - dead_after)
    )


_PREFIX = 16  # hex characters of a token that name the broker message of its attempt


def _attempt_prefix(attempt: str | None) -> str | None:
    return None if attempt is None else sha256(attempt.encode()).hexdigest()[:_PREFIX]


def under(token: str | None) -> ColumnElement[bool]:
    """The row is still held by the claim of ``token`` (anything, without one)."""
    if token is None:
        return OutboxItem.id.is_not(None)
    return OutboxItem.lease_token == token
