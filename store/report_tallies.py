"""Rollups of the top tags and forms, the ratings and the SLA clocks: per local day and month.

``report_tallies`` keeps, per day (and week and month, summed from its days:
``store.report_spans``) and the ticket's
team, the tickets created with each tag and each form and of each organisation (the
requester's, as it is at the count: a change of it is counted again through
``report_requesters_moved``), and the ratings given to each agent and team (how many,
how many good); ``report_clocks`` the SLA clocks started per
the ticket's team and priority and the clock's policy, kind, state and escalation step.
A period then reads its whole months, weeks and the days around them
(``Period.rollup_spans``) instead of every ticket, rating or clock of a year.

Each counts what ``store.report_queries`` counts from the raw rows, on the day that query
puts it on, and is counted again with the daily rollups for the days whose tickets,
ratings or clocks changed (``store.report_rollups``); read only for the filters kept
(team; and priority for the clocks), else the caller counts the raw rows.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    case,
    distinct,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.orm import Session

from router.report_facts import ClockCount
from router.report_figures import ReportFilters
from router.report_period import Period
from store.models import (
    Agent,
    Customer,
    Organisation,
    Rating,
    ReportClock,
    ReportTally,
    SlaTimer,
    Team,
    Ticket,
)
from store.report_queries import clock_state, within
from store.report_spans import newest, period_spans, sum_spans
from store.report_sql import local_day

TALLY_FILTERS = frozenset({"team"})
CLOCK_FILTERS = frozenset({"team", "priority"})
_TALLY = ["span", "day", "facet", "team_id", "ref", "key", "count", "good"]
_CLOCK = ["span", "day", "team_id", "priority", "policy", "kind", "state", "step", "count"]
FACETS = ("tag", "form", "organisation", "rating_agent", "rating_team")
_LEAD = [ReportTally.facet.in_(FACETS)]  # ix_report_tallies_read


class ReportTallies:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name
        self._before: tuple[int, int] | None = None  # the newest rows before a count

    # --- counting ------------------------------------------------------------------

    def count_days(self, first: date, last: date, timezone: str) -> None:
        """Count the days ``first`` to ``last`` anew from the raw rows, in day order (a
        day's rows together in the table); their old rows go in ``count_spans``."""
        period = Period(first, last, timezone)
        if self._before is None:
            self._before = (newest(self.session, ReportTally), newest(self.session, ReportClock))
        for query in self._tally_queries(period):
            ordered = query.order_by(query.selected_columns[1])
            self.session.execute(insert(ReportTally).from_select(_TALLY, ordered))
        clocks = self._clocks(period)
        ordered = clocks.order_by(clocks.selected_columns[1])
        self.session.execute(insert(ReportClock).from_select(_CLOCK, ordered))

    def count_spans(self, days: set[date]) -> None:
        """Bring the weeks and months of ``days`` up to date and drop the days' old rows
        (``store.report_spans``)."""
        if not days:
            return
        if self._before is None:
            raise RuntimeError("count_spans counts the days count_days counted: call it first")
        (tallies, clocks), self._before = self._before, None  # the next count starts anew
        sum_spans(self.session, ReportTally, _TALLY, ("count", "good"), days, tallies, _LEAD)
        sum_spans(self.session, ReportClock, _CLOCK, ("count",), days, clocks)

    def _tally_queries(self, period: Period) -> list[Any]:
        created = local_day(self.dialect, Ticket.created_at, period.timezone)
        no_ref: Any = literal(None, Integer)
        if self.dialect == "postgresql":
            tag = func.jsonb_array_elements_text(Ticket.tags).table_valued("value").alias("tag")
        else:
            tag = func.json_each(Ticket.tags).table_valued("value").alias("tag")
        tags = (
            select(
                literal("day"),
                created,
                literal("tag"),
                Ticket.team_id,
                no_ref,
                tag.c.value,
                func.count(distinct(Ticket.id)),
                literal(0),
            )
            .select_from(Ticket)
            .join(tag, tag.c.value.is_not(None))
            .where(within(Ticket.created_at, period))
            .group_by(created, Ticket.team_id, tag.c.value)
        )
        forms = (
            select(
                literal("day"),
                created,
                literal("form"),
                Ticket.team_id,
                no_ref,
                Ticket.form,
                func.count(),
                literal(0),
            )
            .where(within(Ticket.created_at, period), Ticket.form.is_not(None), Ticket.form != "")
            .group_by(created, Ticket.team_id, Ticket.form)
        )
        organisations = (
            select(
                literal("day"),
                created,
                literal("organisation"),
                Ticket.team_id,
                Customer.organisation_id,
                literal(None, String),
                func.count(),
                literal(0),
            )
            .join(Customer, Customer.id == Ticket.requester_id)
            .where(within(Ticket.created_at, period), Customer.organisation_id.is_not(None))
            .group_by(created, Ticket.team_id, Customer.organisation_id)
        )
        rated = local_day(self.dialect, Rating.created_at, period.timezone)
        good = func.sum(case((Rating.good.is_(True), 1), else_=0))
        ratings = [
            select(
                literal("day"),
                rated,
                literal(facet),
                Ticket.team_id,
                ref,
                literal(None, String),
                func.count(),
                good,
            )
            .select_from(Rating)
            .join(Ticket, Ticket.id == Rating.ticket_id)
            .where(within(Rating.created_at, period), ref.is_not(None))
            .group_by(rated, Ticket.team_id, ref)
            for facet, ref in (("rating_agent", Rating.agent_id), ("rating_team", Rating.team_id))
        ]
        return [tags, forms, organisations, *ratings]

    def _clocks(self, period: Period) -> Any:
        started = local_day(self.dialect, SlaTimer.started_at, period.timezone)
        keys = (
            Ticket.team_id,
            Ticket.priority,
            SlaTimer.policy,
            SlaTimer.kind,
            clock_state(),
            SlaTimer.escalation_step,
        )
        return (
            select(literal("day"), started, *keys, func.count())
            .join(Ticket, Ticket.id == SlaTimer.ticket_id)
            .where(within(SlaTimer.started_at, period), SlaTimer.target_s.is_not(None))
            .group_by(started, *keys)
        )

    # --- reading -------------------------------------------------------------------

    def volume_by(self, period: Period, filters: ReportFilters, *, key: str) -> Counter[str] | None:
        """As ``ReportQueries.volume_by`` for ``tag``, ``form`` and ``organisation`` (named
        as they are now); ``None`` otherwise, or for a filter not kept."""
        if key not in ("tag", "form", "organisation") or not set(filters.given()) <= TALLY_FILTERS:
            return None
        if key == "organisation":
            return self._organisations(period, filters)
        query = (
            select(ReportTally.key, func.sum(ReportTally.count))
            .where(
                ReportTally.facet == key,
                period_spans(ReportTally, period),
                *_teams(ReportTally, filters),
            )
            .group_by(ReportTally.key)
        )
        return Counter({str(k): int(n) for k, n in self.session.execute(query) if n})

    def _organisations(self, period: Period, filters: ReportFilters) -> Counter[str]:
        per = (  # summed per organisation id first, then named
            select(ReportTally.ref.label("ref"), func.sum(ReportTally.count).label("n"))
            .where(
                ReportTally.facet == "organisation",
                period_spans(ReportTally, period),
                *_teams(ReportTally, filters),
            )
            .group_by(ReportTally.ref)
            .subquery("per_organisation")
        )
        query = (
            select(Organisation.name, func.sum(per.c.n))
            .join(per, per.c.ref == Organisation.id)
            .where(Organisation.name != "")
            .group_by(Organisation.name)
        )
        return Counter({str(k): int(n) for k, n in self.session.execute(query) if n})

    def ratings(
        self, period: Period, filters: ReportFilters, *, by: str
    ) -> dict[str, tuple[int, int]] | None:
        """As ``ReportQueries.ratings``; ``None`` for a filter not kept."""
        if not set(filters.given()) <= TALLY_FILTERS:
            return None
        owner: Any = Agent if by == "agent" else Team
        query = (
            select(owner.name, func.sum(ReportTally.good), func.sum(ReportTally.count))
            .join(owner, owner.id == ReportTally.ref)
            .where(
                ReportTally.facet == f"rating_{by}",
                period_spans(ReportTally, period),
                *_teams(ReportTally, filters),
            )
            .group_by(owner.name)
        )
        return {name: (int(g), int(n) - int(g)) for name, g, n in self.session.execute(query)}

    def clock_counts(
        self, period: Period, filters: ReportFilters
    ) -> tuple[list[ClockCount], dict[int, int]] | None:
        """As ``ReportQueries.clock_counts``; ``None`` for a filter not kept."""
        if not set(filters.given()) <= CLOCK_FILTERS:
            return None
        where = [period_spans(ReportClock, period), *_teams(ReportClock, filters)]
        if filters.priority:
            where.append(ReportClock.priority.in_(filters.priority))
        keys = (ReportClock.policy, ReportClock.priority, Team.name, ReportClock.kind)
        query = (
            select(*keys, ReportClock.state, ReportClock.step, func.sum(ReportClock.count))
            .outerjoin(Team, Team.id == ReportClock.team_id)
            .where(*where)
            .group_by(*keys, ReportClock.state, ReportClock.step)
        )
        counts: dict[tuple[str, str, str | None, str], Counter[str]] = {}
        steps: Counter[int] = Counter()
        for policy, priority, team, kind, state, step, n in self.session.execute(query):
            counts.setdefault((policy, priority, team, kind), Counter())[state] += int(n)
            if state == "breached":
                steps[int(step)] += int(n)
        rows = [
            ClockCount(p, pr, t, k, c["met"], c["breached"], c["running"])
            for (p, pr, t, k), c in sorted(
                counts.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or "", kv[0][3])
            )
        ]
        return rows, {s: n for s, n in sorted(steps.items()) if n}


def _teams(table: Any, filters: ReportFilters) -> list[ColumnElement[bool]]:
    if not filters.team:
        return []
    return [table.team_id.in_(select(Team.id).where(Team.name.in_(filters.team)))]
