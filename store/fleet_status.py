"""What ``relaydesk status`` and the fleet's metrics read from the store: processes, work
rows, backlog, SLA.

Read-only and cheap: grouped counts and a few MIN()s over indexed columns. The work rows
still to do or failed are counted through the (state, available_at) indexes at every
read; the finished ones (done, quiet) are the desk's whole history (about 400 ms for
600,000 rows of each table) and are counted only when asked (``finished``): the command
line asks, a metrics scrape does not (their rate is in the actors' counters).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, literal_column, select
from sqlalchemy.orm import Session

from router.lifecycle import ROUTABLE_STATUSES
from router.vocabulary import RowState
from store.models import InboxItem, MailboxCursor, OutboxItem, ProcessBeat, SlaTimer, Team, Ticket


@dataclass(frozen=True)
class ProcessRow:
    kind: str
    host: str
    pid: int
    queues: str
    started_at: datetime
    beat_at: datetime
    quiet: bool  # no beat for dead_after: gone, or hung


# the states of work rows someone may act on, for each table (written as literals: a
# prepared statement's generic plan then still reads only their part of the index)
OPEN_STATES = {
    "inbox": (RowState.PENDING, RowState.FAILED),
    "outbox": (RowState.PENDING, RowState.SENDING, RowState.FAILED),
}


@dataclass(frozen=True)
class RowsByState:
    counts: dict[str, int]  # every open state (0 when none), and the finished ones if asked
    oldest_pending: datetime | None  # the oldest row still to do (pending or sending)


@dataclass(frozen=True)
class ConnectorRow:
    name: str
    last_success: datetime | None
    last_error: str | None
    error_at: datetime | None
    sessions_open: int | None = None  # the inbound SMTP server's, now
    process: str | None = None  # host:pid of the connector process that said so
    quiet: bool = False  # that process stopped beating: what it said is old


@dataclass(frozen=True)
class FleetStatus:
    now: datetime
    processes: list[ProcessRow]
    inbox: RowsByState
    outbox: RowsByState
    backlog: list[tuple[str, str, int]]  # (team, priority, tickets waiting)
    connectors: list[ConnectorRow]
    breaches_last_hour: int
    warnings_last_hour: int = 0  # SLA clocks that reached their warning share
    extra: dict[str, Any] = field(default_factory=dict)


def read_status(
    session: Session, *, now: datetime, dead_after: timedelta, finished: bool = True
) -> FleetStatus:
    """The fleet now; with ``finished`` False the rows done and quiet are not counted."""
    return FleetStatus(
        now=now,
        processes=_processes(session, now - dead_after),
        inbox=_rows(session, InboxItem, InboxItem.received_at, finished=finished),
        outbox=_rows(session, OutboxItem, OutboxItem.created_at, finished=finished),
        backlog=_backlog(session),
        connectors=_connectors(session, now - dead_after),
        breaches_last_hour=_count_since(session, SlaTimer.breached_at, now - timedelta(hours=1)),
        warnings_last_hour=_count_since(session, SlaTimer.warned_at, now - timedelta(hours=1)),
    )


def _count_since(session: Session, moment: Any, since: datetime) -> int:
    query = select(func.count()).select_from(SlaTimer).where(moment >= since)
    return int(session.scalar(query) or 0)


def _processes(session: Session, cutoff: datetime) -> list[ProcessRow]:
    return [
        ProcessRow(
            kind=b.kind,
            host=b.host,
            pid=b.pid,
            queues=b.queues,
            started_at=b.started_at,
            beat_at=b.beat_at,
            quiet=b.beat_at < cutoff,
        )
        for b in session.scalars(
            select(ProcessBeat).order_by(ProcessBeat.kind, ProcessBeat.started_at)
        )
    ]


def _rows(session: Session, model: Any, created: Any, *, finished: bool) -> RowsByState:
    open_states = OPEN_STATES[model.__tablename__]
    query = select(model.state, func.count()).group_by(model.state).order_by(model.state)
    if not finished:
        query = query.where(model.state.in_([literal_column(f"'{s.value}'") for s in open_states]))
    counts = {str(s): 0 for s in open_states}
    counts.update((str(state), int(n)) for state, n in session.execute(query))
    counts = dict(sorted(counts.items()))
    oldest = session.scalar(
        select(func.min(created)).where(
            model.state.in_([RowState.PENDING.value, RowState.SENDING.value])
        )
    )
    return RowsByState(counts=counts, oldest_pending=oldest)


def _backlog(session: Session) -> list[tuple[str, str, int]]:
    rows = session.execute(
        select(Team.name, Ticket.priority, func.count())
        .join(Team, Team.id == Ticket.team_id)
        .where(
            Ticket.assignee_id.is_(None),
            Ticket.status.in_([s.value for s in ROUTABLE_STATUSES]),
        )
        .group_by(Team.name, Ticket.priority)
        .order_by(Team.name, Ticket.priority)
    )
    return [(str(team), str(priority), int(n)) for team, priority, n in rows]


def _connectors(session: Session, cutoff: datetime) -> list[ConnectorRow]:
    """What each connector process said of its connectors with its last beat (SMTP,
    Telegram, each IMAP mailbox), then each IMAP mailbox no running process speaks for,
    from its cursor (which moves on a successful poll and keeps the last error)."""
    rows = [
        _told(name, told, beat, cutoff)
        for beat in session.scalars(select(ProcessBeat).order_by(ProcessBeat.started_at))
        for name, told in sorted((beat.health or {}).items())
    ]
    spoken = {r.name for r in rows if not r.quiet}
    return rows + [
        ConnectorRow(
            name=f"imap {c.mailbox}",
            last_success=None if c.last_error else c.updated_at,
            last_error=c.last_error,
            error_at=c.updated_at if c.last_error else None,
        )
        for c in session.scalars(select(MailboxCursor).order_by(MailboxCursor.mailbox))
        if f"imap {c.mailbox}" not in spoken
    ]


def _told(name: str, told: dict[str, Any], beat: ProcessBeat, cutoff: datetime) -> ConnectorRow:
    sessions = told.get("sessions_open")
    return ConnectorRow(
        name=name,
        last_success=_moment(told.get("last_success")),
        last_error=told.get("last_error"),
        error_at=_moment(told.get("error_at")),
        sessions_open=None if sessions is None else int(sessions),
        process=f"{beat.host}:{beat.pid}",
        quiet=beat.beat_at < cutoff,
    )


def _moment(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None
