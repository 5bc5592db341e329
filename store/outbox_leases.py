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
    Update,
    bindparam,
    exists,
    false,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from router.vocabulary import RowState
from store.dialect import table
from store.models import OutboxItem, ProcessBeat
from store.one_statement import Executor
from store.process_beats import quiet_since

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
