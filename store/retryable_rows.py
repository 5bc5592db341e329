"""What the inbox and the outbox share: rows of work that fall due, run out of attempts,
or are given another chance by an operator.

``unfinished`` names the states a kind of row can be re-driven from (the
inbox: pending; the outbox: pending, and sending once its lease ran out).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from router.vocabulary import RowState
from store.dialect import picked
from store.models import InboxItem, OutboxItem

WorkRow = type[InboxItem] | type[OutboxItem]


def _unfinished(model: WorkRow, states: Sequence[RowState]) -> Any:
    return model.state.in_([s.value for s in states])


def take_due(
    session: Session,
    model: WorkRow,
    unfinished: Sequence[RowState],
    *,
    now: datetime,
    again_after: timedelta,
    limit: int,
) -> list[tuple[int, str]]:
    """Rows whose time is up: move their time on, make them pending, return (id, channel).

    One UPDATE ... RETURNING; on PostgreSQL the subquery skips rows another
    sweep holds, so two schedulers racing take disjoint rows.
    """
    due = (
        select(model.id)
        .where(_unfinished(model, unfinished), model.available_at <= now)
        .order_by(model.available_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    result = session.execute(
        update(model)
        .where(
            model.id.in_(picked(due, "due")),
            _unfinished(model, unfinished),
            model.available_at <= now,
        )
        .values(available_at=now + again_after, state=RowState.PENDING.value)
        .returning(model.id, model.channel)
        .execution_options(synchronize_session=False)
    )
    return [(row[0], row[1]) for row in result]


def make_recent_due(
    session: Session, model: WorkRow, *, since: datetime, now: datetime, redrive_after: timedelta
) -> int:
    """Pending rows written (or moved on) since ``since`` and not yet due: due at once
    (their time to be re-driven is ``redrive_after`` from then). A process that died may
    have committed them without sending their message."""
    moved = session.execute(
        update(model)
        .where(
            model.state == RowState.PENDING.value,
            model.available_at > now,
            model.available_at >= since + redrive_after,
        )
        .values(available_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(moved, "rowcount", 0) or 0)


def fail_exhausted(
    session: Session,
    model: WorkRow,
    unfinished: Sequence[RowState],
    *,
    now: datetime,
    max_attempts: int,
    returning: Sequence[Any],
) -> list[Any]:
    """Fail unfinished rows that are due again but have started every attempt.

    Catches what an attempt could not record itself: a worker killed or timed
    out every time. A row never picked up has no attempts and is never failed
    here, however long the broker or the workers are down.
    """
    result = session.execute(
        update(model)
        .where(
            _unfinished(model, unfinished),
            model.available_at <= now,
            model.attempts >= max_attempts,
        )
        .values(
            state=RowState.FAILED.value,
            updated_at=now,
            error=func.coalesce(model.error, "")
            + f" [gave up: unfinished after {max_attempts} attempts]",
        )
        .returning(*returning)
        .execution_options(synchronize_session=False)
    )
    return list(result)


def make_due(
    session: Session, model: WorkRow, unfinished: Sequence[RowState], now: datetime
) -> None:
    """Make every unfinished row due at once (embedded start-up: nobody else owns them)."""
    session.execute(
        update(model)
        .where(_unfinished(model, unfinished))
        .values(available_at=now)
        .execution_options(synchronize_session=False)
    )


def reopen_failed(session: Session, model: WorkRow, row_id: int, now: datetime) -> bool:
    """Give a failed row a fresh set of attempts, due now (an operator's decision)."""
    result = session.execute(
        update(model)
        .where(model.id == row_id, model.state == RowState.FAILED.value)
        .values(state=RowState.PENDING.value, attempts=0, updated_at=now, available_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))
