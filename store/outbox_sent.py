"""The record of an outbox row sent: done, under the token of the claim that sent it
(``store.outbox_leases``), with its audit event written by the same statement on
PostgreSQL; for a batch, with the fence of the row it sends next in that statement too.

Each record is one statement where ``sent_in_one_statement`` says so, and may then run
in ``Database.one_statement`` (delivery's lone record on a quiet desk); else in a unit
of work (``OutboxRepository.mark_sent``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Select, Update, bindparam, case, null, or_, update

from router.vocabulary import RowState
from store import outbox_leases
from store.audit import event_parameters, insert_event, written_with
from store.dialect import table
from store.models import OutboxItem
from store.one_statement import Executor, dialect_of
from store.webhook_capture import tells_webhooks


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
    if dialect_of(executor) == "postgresql":
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
    batch sends after it (``outbox_leases.still_held`` for ``following``), in one
    statement: (recorded, the next one still ours). Delivery runs it for every row of a
    batch but the last. ``event``: as for ``mark_sent``, written in that statement too on
    PostgreSQL. Without a token (no claim's) for either, each is its own statement as before."""
    if token is None or following[1] is None:
        return (
            mark_sent(
                executor, outbox_id, external_id=external_id, now=now, token=token, event=event
            ),
            outbox_leases.still_held(
                executor, following[0], token=following[1], now=now, lease=lease
            ),
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


__all__ = ["mark_sent", "sent_fencing_next", "sent_in_one_statement"]
