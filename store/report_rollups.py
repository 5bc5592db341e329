"""Daily rollups of the volume, and samples of agents' load, kept up to date.

``report_days`` holds, per local day (in the reports' time zone), team,
channel, category and priority, the tickets created and resolved that day: a
year of volume is then a sum over a few hundred thousand rows at most instead
of a count over every ticket (see ``benchmarks/reports.py`` for the figures
that decided it).

A day is never adjusted by increments: when any ticket that counts on it
changed, the whole day is counted again from the tickets (the same query as the
raw one, for that day), so a rollup always equals what the raw rows say, whatever
code path changed the ticket. Which days: those of the creation, resolution,
earlier resolution (before a reopen), first response, agents' replies, ratings and
SLA clocks of every ticket in ``report_tickets_changed`` (triggers on the tickets, their
clocks and ratings and the agents' replies write it; the refresh takes the rows
committed so far, so a transaction that commits late is counted by the next refresh,
and a refresh with nothing changed counts nothing), the days of the instants those
triggers took from the old rows (a day-bearing column changed, a row deleted: a clock
restarted, a resolution replaced leaves a day the current rows no longer name), and of
the tickets of every customer in ``report_requesters_moved`` (their organisation
changed, or tickets moved to them: triggers write it, the refresh takes it).
Each refresh also folds the changes to every requester's tickets into their totals
(``store.report_requester_bounds``: the top requesters' bound).
The speed and people in bins (``store.report_bins``), the top tags and forms, ratings
and clocks (``store.report_tallies``) are counted again on the same days.
A refresh takes a lock (PostgreSQL) or the write lock (SQLite), so two schedulers
never count a day twice. Changing the reports' time zone rebuilds everything, up to
the latest ticket update, rating, clock start or reply.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from router.report_facts import DayCount
from router.report_figures import ReportFilters
from router.report_period import Period, local_date
from router.vocabulary import Direction
from store.models import (
    Agent,
    AgentLoadDay,
    Message,
    Rating,
    ReportBin,
    ReportClock,
    ReportDay,
    ReportMark,
    ReportRequesterMoved,
    ReportTally,
    ReportTicketChanged,
    SlaTimer,
    Team,
    Ticket,
)
from store.report_bins import ReportBins
from store.report_queries import within
from store.report_requester_bounds import fold_changes
from store.report_sql import as_date, local_day, week_bucket
from store.report_tallies import ReportTallies

_CHUNK = 5000  # tickets a statement names
_LOCK = 0x5245504F  # "REPO": the advisory lock of a refresh on PostgreSQL
_MARK = "rollups "  # + the time zone the days are counted in
ROLLUP_TABLES = ("report_days", "report_bins", "report_tallies", "report_clocks")
ROLLUP_FILTERS = frozenset({"team", "channel", "category", "priority"})


class ReportRollups:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name

    # --- keeping them up to date ---------------------------------------------------

    def refresh(self, now: datetime, timezone: str) -> int:
        """Count again every day a ticket changed on since the last refresh; the number of
        days counted."""
        if self.dialect == "postgresql":
            self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
        mark = self.session.get(ReportMark, _MARK + timezone)
        fresh = mark is None
        if mark is None:  # the first refresh, or the time zone changed: all of it
            self.session.execute(delete(ReportTicketChanged))  # first: all counted below
            self.session.execute(delete(ReportDay))
            self.session.execute(delete(ReportBin))
            self.session.execute(delete(ReportTally))
            self.session.execute(delete(ReportClock))
            self.session.execute(delete(ReportRequesterMoved))
            self.session.execute(delete(ReportMark).where(ReportMark.name.startswith(_MARK)))
            days = self._every_day(timezone)
            mark = ReportMark(name=_MARK + timezone, at=now)
            self.session.add(mark)
        else:
            days = self._changed_days(timezone)
            days |= self._moved_days(timezone)
        bins, tallies = ReportBins(self.session), ReportTallies(self.session)
        for first, last in _runs(days):
            self._count_again(first, last, timezone)
            bins.count_days(first, last, timezone)
            tallies.count_days(first, last, timezone)
        bins.count_spans(days)
        tallies.count_spans(days)
        fold_changes(self.session)  # the top requesters' bounds
        if fresh and self.dialect == "postgresql":  # the planner's figures of them, anew
            self.session.execute(text(f"ANALYZE {', '.join(ROLLUP_TABLES)}"))
        mark.at = max(mark.at, now)
        return len(days)

    def count_all_again(self) -> None:
        """Have the next ``refresh`` count every day from nothing, as after a migration:
        for a history written all at once (a demo's), counted whole rather than day by
        day of each ticket the triggers wrote down."""
        self.session.execute(delete(ReportMark).where(ReportMark.name.startswith(_MARK)))

    def _every_day(self, timezone: str) -> set[date]:
        """From the first ticket's creation to the latest instant a day is counted by: a
        rating, an SLA clock or a reply may come after the last ticket update, and the
        rebuild takes their changes' rows (each max is an index's last entry)."""
        first = self.session.scalar(select(func.min(Ticket.created_at)))
        lasts = [
            self.session.scalar(select(func.max(column)))
            for column in (
                Ticket.updated_at,
                Rating.created_at,
                SlaTimer.started_at,
                Message.created_at,
            )
        ]
        if first is None:
            return set()
        last = max(at for at in lasts if at is not None)
        begin, end = local_date(first, timezone), local_date(last, timezone)
        return {begin + timedelta(days=n) for n in range((end - begin).days + 1)}

    def _changed_days(self, timezone: str) -> set[date]:
        """The days of the tickets the triggers wrote to ``report_tickets_changed``, taken
        from it (those a transaction not yet committed writes stay for the next refresh):
        their creation, resolution, earlier resolution, first response, agents' replies,
        ratings and SLA clocks, and the days the triggers found they left."""
        taken = delete(ReportTicketChanged).returning(
            ReportTicketChanged.ticket_id, ReportTicketChanged.at
        )
        rows = self.session.execute(taken).all()
        tickets = sorted({ticket for ticket, _ in rows})
        days = {local_date(at, timezone) for _, at in rows if at is not None}
        for start in range(0, len(tickets), _CHUNK):
            days |= self._days_of(tickets[start : start + _CHUNK], timezone)
        return days

    def _days_of(self, tickets: list[int], timezone: str) -> set[date]:
        days: set[date] = set()
        columns = (
            Ticket.created_at,
            Ticket.done_at,
            Ticket.prior_done_at,
            Ticket.first_response_at,
        )
        for column in columns:
            day = local_day(self.dialect, column, timezone)
            query = select(day).where(Ticket.id.in_(tickets), column.is_not(None)).distinct()
            days.update(as_date(d) for d in self.session.scalars(query))
        replied = local_day(self.dialect, Message.created_at, timezone)
        rated = local_day(self.dialect, Rating.created_at, timezone)
        started = local_day(self.dialect, SlaTimer.started_at, timezone)
        for query in (
            select(replied).where(
                Message.ticket_id.in_(tickets),
                Message.direction == Direction.OUTBOUND.value,
                Message.agent_id.is_not(None),
            ),
            select(rated).where(Rating.ticket_id.in_(tickets)),
            select(started).where(SlaTimer.ticket_id.in_(tickets)),
        ):
            days.update(as_date(d) for d in self.session.scalars(query.distinct()))
        return days

    def _moved_days(self, timezone: str) -> set[date]:
        """The creation days of the tickets of the customers moved, taken from the table:
        those a transaction not yet committed writes stay for the next refresh."""
        taken = delete(ReportRequesterMoved).returning(ReportRequesterMoved.customer_id)
        customers = sorted(set(self.session.scalars(taken)))
        created = local_day(self.dialect, Ticket.created_at, timezone)
        days: set[date] = set()
        for start in range(0, len(customers), 5000):
            query = select(created).where(Ticket.requester_id.in_(customers[start : start + 5000]))
            days.update(as_date(d) for d in self.session.scalars(query.distinct()))
        return days

    def _count_again(self, first: date, last: date, timezone: str) -> None:
        """Replace the rows of the days ``first`` to ``last`` by a count of the tickets."""
        period = Period(first, last, timezone)
        keys = (Ticket.team_id, Ticket.channel, Ticket.category, Ticket.priority)
        counts: dict[tuple[Any, ...], list[int]] = {}
        for index, column in enumerate((Ticket.created_at, Ticket.done_at)):
            day = local_day(self.dialect, column, timezone)
            query = (
                select(day, *keys, func.count()).where(within(column, period)).group_by(day, *keys)
            )
            for d, *key, n in self.session.execute(query):
                counts.setdefault((as_date(d), *key), [0, 0])[index] += n
        self.session.execute(delete(ReportDay).where(ReportDay.day.between(first, last)))
        rows = [
            {
                "day": d,
                "team_id": team,
                "channel": channel,
                "category": category,
                "priority": priority,
                "created": created,
                "resolved": resolved,
            }
            for (d, team, channel, category, priority), (created, resolved) in counts.items()
        ]
        for start in range(0, len(rows), 5000):
            self.session.execute(insert(ReportDay), rows[start : start + 5000])

    # --- reading them --------------------------------------------------------------

    def day_counts(self, period: Period, filters: ReportFilters) -> list[DayCount] | None:
        """As ``ReportQueries.day_counts`` (a weekly period's per week: each row's day is
        the first of its bucket, ``Period.bucket_of``); ``None`` when a filter is not kept
        in the rollups (agent, organisation, form): the caller counts the raw rows then."""
        if not set(filters.given()) <= ROLLUP_FILTERS:
            return None
        created, resolved = func.sum(ReportDay.created), func.sum(ReportDay.resolved)
        # a weekly period's days come summed per week (the figures only read the bucket)
        day: Any = week_bucket(self.dialect, ReportDay.day, period) if period.weekly else None
        day = ReportDay.day if day is None else day
        query = (
            select(day, ReportDay.channel, ReportDay.category, created, resolved)
            .where(ReportDay.day.between(period.first, period.last), *_conditions(filters))
            .group_by(day, ReportDay.channel, ReportDay.category)
            .having((created + resolved) > 0)
        )
        found = [
            DayCount(as_date(d), ch, cat, int(c), int(r))
            for d, ch, cat, c, r in self.session.execute(query)
        ]
        return sorted(found, key=lambda r: (r.day, r.channel, r.category))

    def created_by_category(self, period: Period, filters: ReportFilters) -> Counter[str] | None:
        if not set(filters.given()) <= ROLLUP_FILTERS:
            return None
        query = (
            select(ReportDay.category, func.sum(ReportDay.created))
            .where(ReportDay.day.between(period.first, period.last), *_conditions(filters))
            .group_by(ReportDay.category)
        )
        return Counter({c: int(n) for c, n in self.session.execute(query) if n})

    # --- agents' load --------------------------------------------------------------

    def sample_load(self, now: datetime, timezone: str, every: timedelta) -> bool:
        """Add every agent's load and capacity to today's samples, once per ``every``
        (the slot ``now`` falls in): a second scheduler in the same slot adds nothing."""
        seconds = every.total_seconds()
        slot = datetime.fromtimestamp(now.timestamp() // seconds * seconds, tz=now.tzinfo)
        day = local_date(slot, timezone)
        agents = self.session.execute(select(Agent.id, Agent.load, Agent.capacity)).all()
        if not agents:
            return False
        make = pg_insert if self.dialect == "postgresql" else sqlite_insert
        statement = make(AgentLoadDay).values(
            [
                {
                    "day": day,
                    "agent_id": agent_id,
                    "samples": 1,
                    "load_sum": load,
                    "capacity_sum": capacity,
                    "peak": load,
                    "last_sample_at": slot,
                }
                for agent_id, load, capacity in agents
            ]
        )
        new = statement.excluded
        statement = statement.on_conflict_do_update(
            index_elements=[AgentLoadDay.day, AgentLoadDay.agent_id],
            set_={
                "samples": AgentLoadDay.samples + 1,
                "load_sum": AgentLoadDay.load_sum + new.load_sum,
                "capacity_sum": AgentLoadDay.capacity_sum + new.capacity_sum,
                "peak": func.max(AgentLoadDay.peak, new.peak)
                if self.dialect != "postgresql"
                else func.greatest(AgentLoadDay.peak, new.peak),
                "last_sample_at": new.last_sample_at,
            },
            where=AgentLoadDay.last_sample_at < new.last_sample_at,
        )
        self.session.execute(statement)
        return True


def _conditions(filters: ReportFilters) -> list[Any]:
    where = []
    if filters.team:
        where.append(ReportDay.team_id.in_(select(Team.id).where(Team.name.in_(filters.team))))
    for column, values in (
        (ReportDay.channel, filters.channel),
        (ReportDay.category, filters.category),
        (ReportDay.priority, filters.priority),
    ):
        if values:
            where.append(column.in_(values))
    return where


def _runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive days as (first, last) runs."""
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and day == runs[-1][1] + timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs
