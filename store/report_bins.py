"""Rollups of durations and counts: per local day and month, measure, team and agent.

``report_bins`` keeps, for each day (and each month, summed from its days), the
durations of every speed and people figure in the bins of ``router.report_stats``
(how many and their exact total per bin) and the counts beside them, so a year's
mean, median and 90th percentile are added up from a few dozen spans instead of
a million tickets: the months the period covers whole, the whole weeks left, and
the days around them (``Period.rollup_spans``).

Each measure counts what ``store.report_queries`` counts from the tickets, on the
day that query puts it on; a row names the ticket's team and, where the figure is
per agent, the agent:

- ``first_response``, ``first_response_business`` (per team, on the day of the first
  response); ``resolution``, ``resolution_business``, ``handling`` (per team, on the day
  of the resolution); ``agent_handling`` (per assignee), ``agent_first_response`` (per
  first responder);
- counters in bin 0: ``resolved`` and ``reopened`` (per team and assignee),
  ``replies`` (agents' public replies on the tickets resolved);
- ``handled`` (per agent) and ``team_handled``: a public reply of an agent counts on
  its day with, as its bin, the day (days since 1970) of the reply before it on the
  same ticket (by the same agent; by any agent), -1 for none. The tickets answered in
  a period are then the replies in it whose reply before lies before its first day:
  one per ticket, so counts of days add up to a count of distinct tickets.

They are counted again with the daily rollups, a day at a time, for the days whose
tickets changed (``store.report_rollups``); then the weeks and months of those days
(``store.report_spans``).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    case,
    func,
    insert,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased

from router.report_facts import PersonFacts, SpeedFacts
from router.report_figures import ReportFilters
from router.report_period import Period
from router.report_stats import Durations
from router.vocabulary import Direction
from store.models import Agent, Message, ReportBin, Team, Ticket
from store.report_spans import newest, period_spans, sum_spans
from store.report_sql import (
    duration_bin,
    durations_by_key,
    local_day,
    local_epoch_day,
    not_negative,
    seconds_between,
)

EPOCH = date(1970, 1, 1)
BIN_FILTERS = frozenset({"team"})  # the filters the bins keep
_COLUMNS = ["span", "day", "measure", "team_id", "agent_id", "bin", "count", "total_s"]


class Measure(StrEnum):
    FIRST_RESPONSE = "first_response"
    FIRST_RESPONSE_BUSINESS = "first_response_business"
    RESOLUTION = "resolution"
    RESOLUTION_BUSINESS = "resolution_business"
    HANDLING = "handling"
    AGENT_HANDLING = "agent_handling"
    AGENT_FIRST_RESPONSE = "agent_first_response"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    REPLIES = "replies"
    HANDLED = "handled"
    TEAM_HANDLED = "team_handled"


PREVIOUS_DAY = frozenset({Measure.HANDLED, Measure.TEAM_HANDLED})
_LEAD = [ReportBin.measure.in_([m.value for m in Measure])]  # ix_report_bins_read
SPEED = {
    Measure.FIRST_RESPONSE: "first_response_wall",
    Measure.FIRST_RESPONSE_BUSINESS: "first_response_business",
    Measure.RESOLUTION: "resolution_wall",
    Measure.RESOLUTION_BUSINESS: "resolution_business",
}
PEOPLE = {  # by -> (handling, first response, handled)
    "agent": (Measure.AGENT_HANDLING, Measure.AGENT_FIRST_RESPONSE, Measure.HANDLED),
    "team": (Measure.HANDLING, Measure.FIRST_RESPONSE, Measure.TEAM_HANDLED),
}


class ReportBins:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name
        self._before: int | None = None  # the newest row before the days were counted

    # --- counting ------------------------------------------------------------------

    def count_days(self, first: date, last: date, timezone: str) -> None:
        """Count the days ``first`` to ``last`` anew from the tickets, in day order (a
        day's rows together in the table); their old rows go in ``count_spans``."""
        if self._before is None:
            self._before = newest(self.session, ReportBin)
        period = Period(first, last, timezone)
        for query in self._day_queries(period):
            ordered = query.order_by(query.selected_columns[1])
            self.session.execute(insert(ReportBin).from_select(_COLUMNS, ordered))

    def count_spans(self, days: set[date]) -> None:
        """Bring the weeks and months of ``days`` up to date and drop the days' old rows
        (``store.report_spans``)."""
        if not days:
            return
        if self._before is None:
            raise RuntimeError("count_spans counts the days count_days counted: call it first")
        before, self._before = self._before, None  # the next refresh's count starts anew
        sum_spans(self.session, ReportBin, _COLUMNS, ("count", "total_s"), days, before, _LEAD)

    def _day_queries(self, period: Period) -> list[Any]:
        tz, dialect = period.timezone, self.dialect
        first_wall = seconds_between(dialect, Ticket.created_at, Ticket.first_response_at)
        done_wall = seconds_between(dialect, Ticket.created_at, Ticket.done_at)
        handling = seconds_between(dialect, Ticket.assigned_at, Ticket.done_at)
        none: Any = literal(None, Integer)
        answered, done = Ticket.first_response_at, Ticket.done_at
        durations: tuple[tuple[Measure, Any, Any, Any, list[Any]], ...] = (
            (Measure.FIRST_RESPONSE, answered, first_wall, none, []),
            (
                Measure.FIRST_RESPONSE_BUSINESS,
                answered,
                not_negative(dialect, Ticket.first_response_business_s),
                none,
                [Ticket.first_response_business_s.is_not(None)],
            ),
            (Measure.RESOLUTION, done, done_wall, none, []),
            (
                Measure.RESOLUTION_BUSINESS,
                done,
                not_negative(dialect, Ticket.resolution_business_s),
                none,
                [Ticket.resolution_business_s.is_not(None)],
            ),
            (Measure.HANDLING, done, handling, none, [Ticket.assigned_at.is_not(None)]),
            (
                Measure.AGENT_HANDLING,
                done,
                handling,
                Ticket.assignee_id,
                [Ticket.assigned_at.is_not(None), Ticket.assignee_id.is_not(None)],
            ),
            (
                Measure.AGENT_FIRST_RESPONSE,
                answered,
                first_wall,
                Ticket.first_responder_id,
                [Ticket.first_responder_id.is_not(None)],
            ),
        )
        queries = [
            self._binned(measure, column, seconds, agent, where, period)
            for measure, column, seconds, agent, where in durations
        ]
        day = local_day(dialect, done, tz)
        reopened = case((Ticket.reopen_count > 0, 1), else_=0)
        for measure, agent, counted in (
            (Measure.RESOLVED, Ticket.assignee_id, func.count()),
            (Measure.REOPENED, Ticket.assignee_id, func.sum(reopened)),
            (Measure.REPLIES, none, func.sum(Ticket.reply_count)),
        ):
            queries.append(
                select(
                    literal("day"),
                    day,
                    literal(measure.value),
                    Ticket.team_id,
                    agent,
                    literal(0),
                    counted,
                    literal(0.0),
                )
                .where(and_(done >= period.start, done < period.end))
                .group_by(day, Ticket.team_id, agent)
            )
        queries += [self._handled(period, per_agent=True), self._handled(period, per_agent=False)]
        return queries

    def _binned(
        self,
        measure: Measure,
        column: Any,
        seconds: ColumnElement[Any],
        agent: Any,
        where: list[ColumnElement[bool]],
        period: Period,
    ) -> Any:
        inner = (
            select(
                local_day(self.dialect, column, period.timezone).label("d"),
                Ticket.team_id.label("team"),
                agent.label("agent"),
                seconds.label("s"),
            )
            .where(column >= period.start, column < period.end, *where)
            .offset(0)
            .subquery("durations")
        )
        binned = duration_bin(self.dialect, inner.c.s)
        return select(
            literal("day"),
            inner.c.d,
            literal(measure.value),
            inner.c.team,
            inner.c.agent,
            binned,
            func.count(),
            func.sum(inner.c.s),
        ).group_by(inner.c.d, inner.c.team, inner.c.agent, binned)

    def _handled(self, period: Period, *, per_agent: bool) -> Any:
        before = aliased(Message)
        same = [
            before.ticket_id == Message.ticket_id,
            before.direction == Direction.OUTBOUND.value,
            before.agent_id.is_not(None),
            or_(
                before.created_at < Message.created_at,
                and_(before.created_at == Message.created_at, before.id < Message.id),
            ),
        ]
        if per_agent:
            same.append(before.agent_id == Message.agent_id)
        previous = select(func.max(before.created_at)).where(*same).scalar_subquery()
        prior = func.coalesce(local_epoch_day(self.dialect, previous, period.timezone), -1)
        inner = (
            select(
                local_day(self.dialect, Message.created_at, period.timezone).label("d"),
                Ticket.team_id.label("team"),
                (Message.agent_id if per_agent else literal(None, Integer)).label("agent"),
                prior.label("prior"),
            )
            .join(Ticket, Ticket.id == Message.ticket_id)
            .where(
                Message.direction == Direction.OUTBOUND.value,
                Message.agent_id.is_not(None),
                Message.created_at >= period.start,
                Message.created_at < period.end,
            )
            .offset(0)
            .subquery("replies")
        )
        measure = Measure.HANDLED if per_agent else Measure.TEAM_HANDLED
        return select(
            literal("day"),
            inner.c.d,
            literal(measure.value),
            inner.c.team,
            inner.c.agent,
            inner.c.prior,
            func.count(),
            literal(0.0),
        ).group_by(inner.c.d, inner.c.team, inner.c.agent, inner.c.prior)

    # --- reading -------------------------------------------------------------------

    def speed_facts(self, period: Period, filters: ReportFilters) -> SpeedFacts | None:
        """As ``ReportQueries.speed_facts``; ``None`` for a filter the bins do not keep."""
        if not set(filters.given()) <= BIN_FILTERS:
            return None
        measures = [*SPEED, Measure.RESOLVED, Measure.REOPENED, Measure.REPLIES]
        query = (
            select(
                ReportBin.measure,
                ReportBin.bin,
                func.sum(ReportBin.count),
                func.sum(ReportBin.total_s),
            )
            .where(
                ReportBin.measure.in_(measures), period_spans(ReportBin, period), *_teams(filters)
            )
            .group_by(ReportBin.measure, ReportBin.bin)
        )
        found = durations_by_key(self.session.execute(query))
        none = Durations()
        return SpeedFacts(
            **{name: found.get(measure.value, none) for measure, name in SPEED.items()},
            resolved=found.get(Measure.RESOLVED.value, none).count,
            replies_on_resolved=found.get(Measure.REPLIES.value, none).count,
            reopened_resolved=found.get(Measure.REOPENED.value, none).count,
        )

    def person_facts(
        self, period: Period, filters: ReportFilters, *, by: str
    ) -> list[PersonFacts] | None:
        """As ``ReportQueries.person_facts``; ``None`` for a filter the bins do not keep."""
        if not set(filters.given()) <= BIN_FILTERS:
            return None
        handling, first, handled = PEOPLE[by]
        owner: Any = Agent if by == "agent" else Team
        key = ReportBin.agent_id if by == "agent" else ReportBin.team_id
        before = (period.first - EPOCH).days
        named = {who: name for who, name in self.session.execute(select(owner.id, owner.name))}
        rows = []
        # one statement per measure, summed per agent or team id and bin (integers: a
        # year's agents hash 160,000 rows), named here
        for measure in (handling, first, handled, Measure.RESOLVED, Measure.REOPENED):
            query = (
                select(key, ReportBin.bin, func.sum(ReportBin.count), func.sum(ReportBin.total_s))
                .where(
                    ReportBin.measure == measure.value,
                    period_spans(ReportBin, period),
                    *_teams(filters),
                    *([ReportBin.bin < before] if measure in PREVIOUS_DAY else []),
                )
                .group_by(key, ReportBin.bin)
            )
            for who, value, n, total in self.session.execute(query):
                if who in named:
                    rows.append(((named[who], measure.value), value, n, total))
        found = durations_by_key(rows)
        none = Durations()

        def of(name: str, measure: Measure) -> Durations:
            return found.get((name, measure.value), none)

        names = sorted({name for name, measure in found if measure != Measure.REOPENED.value})
        return [
            PersonFacts(
                name,
                handled=of(name, handled).count,
                resolved=of(name, Measure.RESOLVED).count,
                reopened=of(name, Measure.REOPENED).count,
                handling=of(name, handling),
                first_response=of(name, first),
            )
            for name in names
        ]


def _teams(filters: ReportFilters) -> list[ColumnElement[bool]]:
    if not filters.team:
        return []
    return [ReportBin.team_id.in_(select(Team.id).where(Team.name.in_(filters.team)))]
