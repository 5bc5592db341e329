"""SLA timers in the store: a ticket's clocks in and out, and what the sweep finds due.

Deadlines (``warn_at``, ``due_at``) are written when the clocks change and
cleared once fired or stopped, so the sweep's indexed queries touch only rows
that are due. Each sweep query claims its rows (FOR UPDATE SKIP LOCKED on
PostgreSQL) in the transaction that writes the notifications: two schedulers
never fire one step twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Executable, Select, bindparam, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from router.business_calendar import BusinessCalendar
from router.sla_clock import TicketClocks, Timer, deadlines
from store.dialect import picked
from store.models import SlaTimer, Ticket

_KINDS = ("first_response", "next_response", "resolution")


@dataclass(frozen=True)
class StoredClocks:
    clocks: TicketClocks
    policy: str
    calendar: str
    # the rows as ``clocks(for_update=True)`` read and locked them in this transaction, for
    # ``save`` to write without reading them again; None: read without the lock
    locked_rows: dict[str, SlaTimer] | None = field(default=None, compare=False, repr=False)


def _timer(row: SlaTimer) -> Timer:
    return Timer(
        kind=row.kind,  # type: ignore[arg-type]
        target=None if row.target_s is None else timedelta(seconds=row.target_s),
        started_at=row.started_at,
        consumed=timedelta(seconds=row.consumed_s),
        running_since=row.running_since,
        stopped_at=row.stopped_at,
        warn_share=row.warn_share,
    )


@cache
def _ticket_timers(for_update: bool) -> Executable:
    """A ticket's timers (locked with ``for_update``), built once: a reply and a status
    change read them."""
    query = select(SlaTimer).where(SlaTimer.ticket_id == bindparam("ticket_id"))
    return query.with_for_update() if for_update else query


class SlaRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _rows(self, ticket_id: int, *, for_update: bool = False) -> dict[str, SlaTimer]:
        rows = self.session.scalars(_ticket_timers(for_update), {"ticket_id": ticket_id})
        return {row.kind: row for row in rows}

    def clocks(self, ticket_id: int, *, for_update: bool = False) -> StoredClocks | None:
        rows = self._rows(ticket_id, for_update=for_update)
        if not rows:
            return None
        any_row = next(iter(rows.values()))
        clocks = TicketClocks(
            **{kind: _timer(rows[kind]) for kind in _KINDS if kind in rows},
            paused=any_row.paused,
        )
        return StoredClocks(clocks, any_row.policy, any_row.calendar, rows if for_update else None)

    def save(
        self,
        ticket_id: int,
        clocks: TicketClocks,
        *,
        policy: str,
        calendar_name: str,
        calendar: BusinessCalendar,
        locked_rows: dict[str, SlaTimer] | None = None,
    ) -> None:
        """Write the clocks and their deadlines; a fired step is never rearmed by accident.
        ``locked_rows``: the ticket's rows this transaction read and locked already
        (``StoredClocks.locked_rows``); None: read and locked here."""
        rows = self._rows(ticket_id, for_update=True) if locked_rows is None else locked_rows
        reported = False  # a first-response or resolution clock stops or stopped
        for timer in clocks.timers():
            row = rows.get(timer.kind)
            if timer.kind != "next_response":
                was_stopped = row is not None and row.stopped_at is not None
                reported = reported or was_stopped or timer.is_stopped
            if row is None:
                row = SlaTimer(
                    ticket_id=ticket_id,
                    kind=timer.kind,
                    policy=policy,
                    calendar=calendar_name,
                    escalation_step=0,
                )
                self.session.add(row)
            row.policy, row.calendar = policy, calendar_name  # re-planned: another policy
            row.target_s = None if timer.target is None else timer.target.total_seconds()
            row.warn_share = timer.warn_share
            row.consumed_s = timer.consumed.total_seconds()
            row.started_at = timer.started_at
            row.running_since = timer.running_since
            row.stopped_at = timer.stopped_at
            row.paused = clocks.paused
            warn_at, due_at = deadlines(timer, calendar)
            row.warn_at = warn_at if row.warned_at is None else None
            row.due_at = due_at if row.breached_at is None else None
            if timer.is_stopped:  # answered or resolved: nothing more fires
                row.next_escalation_at = None
        if reported:
            self._record_business_times(ticket_id, clocks)

    def _record_business_times(self, ticket_id: int, clocks: TicketClocks) -> None:
        """Copy the business time of a stopped first-response and resolution clock onto
        the ticket, for the reports (``None`` while the clock runs, e.g. after a reopen)."""
        ticket = self.session.get(Ticket, ticket_id)
        if ticket is None:
            return
        first, resolution = clocks.first_response, clocks.resolution
        if first is not None:
            ticket.first_response_business_s = (
                first.consumed.total_seconds() if first.is_stopped else None
            )
        if resolution is not None:
            ticket.resolution_business_s = (
                resolution.consumed.total_seconds() if resolution.is_stopped else None
            )

    def hand_off_due(self, now: datetime, *, stale_before: datetime, limit: int) -> list[int]:
        """The tickets with a step due (warning, breach or escalation), each timer marked
        handed off so the next sweeps leave it to the worker, unless that hand-off went
        stale (its message lost). One UPDATE ... RETURNING: its cost is the number due."""
        due = or_(  # "IS NOT NULL" lets SQLite use the three indexes (MULTI-INDEX OR)
            *(
                column.is_not(None) & (column <= now)
                for column in (SlaTimer.warn_at, SlaTimer.due_at, SlaTimer.next_escalation_at)
            )
        )
        fresh = SlaTimer.handed_off_at.is_(None) | (SlaTimer.handed_off_at < stale_before)
        wanted = select(SlaTimer.id).where(due, fresh).limit(limit)
        if self.session.get_bind().dialect.name == "postgresql":
            wanted = wanted.with_for_update(skip_locked=True)
        rows = self.session.execute(
            update(SlaTimer)
            .where(SlaTimer.id.in_(picked(wanted, "wanted")))
            .values(handed_off_at=now)
            .returning(SlaTimer.ticket_id)
            .execution_options(synchronize_session=False)
        ).scalars()
        return sorted(set(rows))

    def take_warnings(
        self, now: datetime, limit: int, ticket_ids: Sequence[int] | None = None
    ) -> list[SlaTimer]:
        """Timers whose warning is due, marked warned (this transaction owns them)."""
        rows = self._due(SlaTimer.warn_at, now, limit, ticket_ids)
        for row in rows:
            row.warn_at = None
            row.warned_at = now
        return rows

    def take_breaches(
        self, now: datetime, limit: int, ticket_ids: Sequence[int] | None = None
    ) -> list[SlaTimer]:
        """Timers past due, marked breached at their deadline (not when the sweep came
        by, which after downtime can be hours later: the escalation is planned from the
        deadline, and the steps whose time has passed are due now)."""
        rows = self._due(SlaTimer.due_at, now, limit, ticket_ids)
        for row in rows:
            row.breached_at = row.due_at
            row.due_at = None
            row.escalation_step = 0
            row.escalation_plan = None  # planned afresh for this breach
            row.next_escalation_at = now
        return rows

    def take_escalations(
        self, now: datetime, limit: int, ticket_ids: Sequence[int] | None = None
    ) -> list[SlaTimer]:
        """Breached timers whose next escalation step is due (the caller moves them on)."""
        return self._due(SlaTimer.next_escalation_at, now, limit, ticket_ids)

    def fired(self, ticket_ids: Sequence[int], handed_at: datetime) -> None:
        """The worker is done with the hand-offs made up to ``handed_at`` (a newer one has
        its own message). Tickets are locked first, as every writer of clocks does; one
        another worker holds is left: its hand-off goes stale and is made again."""
        locked = self._lock_tickets(ticket_ids)
        if not locked:
            return
        self.session.execute(
            update(SlaTimer)
            .where(SlaTimer.ticket_id.in_(locked), SlaTimer.handed_off_at <= handed_at)
            .values(handed_off_at=None)
            .execution_options(synchronize_session=False)
        )

    def clear_hand_offs(self) -> None:
        """Embedded start-up: the in-process broker lost every hand-off's message."""
        self.session.execute(
            update(SlaTimer)
            .where(SlaTimer.handed_off_at.is_not(None))
            .values(handed_off_at=None)
            .execution_options(synchronize_session=False)
        )

    def _lock_tickets(self, ticket_ids: Sequence[int] | Select[Any]) -> list[int]:
        """The tickets among ``ticket_ids`` (a list or a query) locked in id order, those
        another transaction holds skipped. SQLite's writers are serial: a list is taken
        as it is there.

        FOR NO KEY UPDATE: it excludes every writer of the ticket's row, but not a
        transaction that only adds a row referring to the ticket (an audit event, an
        outbox row: their foreign key takes a KEY SHARE lock), so a delivery in flight
        does not hide the ticket's due steps from the sweep."""
        sqlite = self.session.get_bind().dialect.name != "postgresql"
        if sqlite and not isinstance(ticket_ids, Select):
            return list(ticket_ids)
        wanted = ticket_ids if isinstance(ticket_ids, Select) else list(ticket_ids)
        return list(
            self.session.scalars(
                select(Ticket.id)
                .where(Ticket.id.in_(wanted))
                .order_by(Ticket.id)
                .with_for_update(skip_locked=True, key_share=True)
            )
        )

    def _due(
        self,
        column: InstrumentedAttribute[datetime | None],
        now: datetime,
        limit: int,
        ticket_ids: Sequence[int] | None = None,
    ) -> list[SlaTimer]:
        """Due timers, claimed. On PostgreSQL their tickets are locked first (SKIP LOCKED),
        then the timers: the order every writer of a ticket's clocks uses (ticket, then
        timers), so the sweep never deadlocks with a reply or a status change, and two
        sweeps take disjoint tickets."""
        mine = [column <= now]
        if ticket_ids is not None:
            mine.append(SlaTimer.ticket_id.in_(list(ticket_ids)))
        due = select(SlaTimer).where(*mine).order_by(column).limit(limit)
        if self.session.get_bind().dialect.name != "postgresql":
            return list(self.session.scalars(due))  # SQLite: writers are serial anyway
        locked = self._lock_tickets(
            select(SlaTimer.ticket_id).where(*mine).order_by(column).limit(limit)
        )
        if not locked:
            return []
        return list(
            self.session.scalars(
                select(SlaTimer)
                .where(SlaTimer.ticket_id.in_(locked), column <= now)
                .order_by(column)
                .with_for_update()
            )
        )

    def for_ticket(self, ticket_id: int) -> list[SlaTimer]:
        return sorted(self._rows(ticket_id).values(), key=lambda r: _KINDS.index(r.kind))
