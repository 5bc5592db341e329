"""The reports' queries on the raw rows: the facts of ``router.report_facts``, summed in SQL.

Each method counts what the function of the same name in ``router.report_facts``
counts from ticket records, and returns the same type, so a test can hold the
two side by side. Names filter through ids (``ReportFilters``); durations come
as ``Durations`` (counts and exact totals per bin).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, distinct, func, select, text
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from router.lifecycle import ACTIVE_STATUSES
from router.report_facts import ClockCount, DayCount, PersonFacts, SpeedFacts
from router.report_figures import AGE_BUCKETS, BacklogRow, ReportFilters
from router.report_period import Period
from router.report_stats import Durations
from router.vocabulary import Direction
from store.models import (
    Agent,
    Customer,
    Message,
    Organisation,
    Rating,
    SlaTimer,
    Team,
    Ticket,
)
from store.report_requesters import requester_counts, top_requesters
from store.report_sql import (
    as_date,
    duration_bin,
    durations_by_key,
    local_day,
    not_negative,
    seconds_between,
)
from store.report_versions import decided_by

OPEN = tuple(s.value for s in ACTIVE_STATUSES)


def ticket_conditions(filters: ReportFilters) -> list[ColumnElement[bool]]:
    """``WHERE`` clauses on ``tickets`` for the filters given."""
    where: list[ColumnElement[bool]] = []
    if filters.team:
        where.append(Ticket.team_id.in_(select(Team.id).where(Team.name.in_(filters.team))))
    if filters.agent:
        where.append(Ticket.assignee_id.in_(select(Agent.id).where(Agent.name.in_(filters.agent))))
    if filters.organisation:
        where.append(
            Ticket.requester_id.in_(
                select(Customer.id)
                .join(Organisation, Organisation.id == Customer.organisation_id)
                .where(Organisation.name.in_(filters.organisation))
            )
        )
    for column, values in (
        (Ticket.channel, filters.channel),
        (Ticket.category, filters.category),
        (Ticket.priority, filters.priority),
        (Ticket.form, filters.form),
    ):
        if values:
            where.append(column.in_(values))
    if filters.config_version:
        where.append(decided_by(filters.config_version))
    return where


def within(column: Any, period: Period) -> ColumnElement[bool]:
    return and_(column >= period.start, column < period.end)


def prepare_report_transaction(session: Session) -> None:
    """PostgreSQL, first in the transaction: one snapshot for every figure; sorts and
    hashes of a year's rows in memory; no JIT compiling for queries of milliseconds; and
    a plan for each statement's own values, never the generic plan psycopg's prepared
    statements get after five runs (the top requesters' walk, planned for any team and
    any list of requesters, then read a team's whole year: 613 ms instead of 27)."""
    session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
    session.execute(text("SET LOCAL work_mem = '64MB'"))
    session.execute(text("SET LOCAL jit = off"))
    session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def clock_breached() -> ColumnElement[bool]:
    """A clock breached: marked so, or stopped past its target."""
    return (SlaTimer.breached_at.is_not(None)) | (
        SlaTimer.stopped_at.is_not(None)
        & SlaTimer.target_s.is_not(None)
        & (SlaTimer.consumed_s > SlaTimer.target_s)
    )


def clock_state() -> ColumnElement[Any]:
    """``router.report_facts.clock_state`` in SQL: breached, met or running."""
    stopped = SlaTimer.stopped_at.is_not(None)
    return case((clock_breached(), "breached"), (stopped, "met"), else_="running")


class ReportQueries:
    """Raw-row queries in one session (one consistent snapshot on PostgreSQL)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name

    # --- volume --------------------------------------------------------------------

    def day_counts(self, period: Period, filters: ReportFilters) -> list[DayCount]:
        where = ticket_conditions(filters)
        counts: dict[tuple[Any, str, str], list[int]] = {}
        for index, column in enumerate((Ticket.created_at, Ticket.done_at)):
            day = local_day(self.dialect, column, period.timezone)
            query = (
                select(day, Ticket.channel, Ticket.category, func.count())
                .where(within(column, period), *where)
                .group_by(day, Ticket.channel, Ticket.category)
            )
            for d, channel, category, n in self.session.execute(query):
                counts.setdefault((as_date(d), channel, category), [0, 0])[index] += n
        return [DayCount(d, ch, cat, c, r) for (d, ch, cat), (c, r) in sorted(counts.items())]

    def volume_by(self, period: Period, filters: ReportFilters, *, key: str) -> Counter[str]:
        """Tickets created in the period per requester, organisation, form, tag or category."""
        where = [within(Ticket.created_at, period), *ticket_conditions(filters)]
        if key == "tag":
            return self._tags(where)
        if key == "requester":
            return requester_counts(self.session, where)
        column: Any = {
            "organisation": Organisation.name,
            "form": Ticket.form,
            "category": Ticket.category,
        }[key]
        query = (
            select(column, func.count())
            .select_from(Ticket)
            .where(*where, column.is_not(None), column != "")
        )
        if key == "organisation":  # the requester's, as they are now
            query = query.join(Customer, Customer.id == Ticket.requester_id).join(
                Organisation, Organisation.id == Customer.organisation_id
            )
        return Counter({name: n for name, n in self.session.execute(query.group_by(column))})

    def top_requesters(self, period: Period, filters: ReportFilters) -> tuple[tuple[str, int], ...]:
        """``top_ten`` of ``volume_by(key="requester")``, ranked in the database."""
        return top_requesters(
            self.session,
            [within(Ticket.created_at, period), *ticket_conditions(filters)],
            teams=filters.team,
        )

    def _tags(self, where: list[ColumnElement[bool]]) -> Counter[str]:
        if self.dialect == "postgresql":
            tag = func.jsonb_array_elements_text(Ticket.tags).table_valued("value").alias("tag")
        else:
            tag = func.json_each(Ticket.tags).table_valued("value").alias("tag")
        query = (
            select(tag.c.value, func.count(distinct(Ticket.id)))
            .select_from(Ticket)
            .join(tag, tag.c.value.is_not(None))
            .where(*where)
            .group_by(tag.c.value)
        )
        return Counter({str(v): n for v, n in self.session.execute(query)})

    # --- speed ---------------------------------------------------------------------

    def durations(
        self, seconds: ColumnElement[Any], where: list[ColumnElement[bool]], *by: Any
    ) -> dict[Any, Durations]:
        """``seconds`` counted per bin (and per ``by``, when given) for the rows ``where``.

        The seconds are computed once per row in a subquery PostgreSQL keeps as it is
        (``OFFSET 0``), not once per branch of the bin's ``CASE``."""
        keys = [column.label(f"by{n}") for n, column in enumerate(by)]
        inner = (
            select(*keys, seconds.label("s"))
            .select_from(Ticket)
            .where(*where)
            .offset(0)
            .subquery("durations")
        )
        grouped = [inner.c[f"by{n}"] for n in range(len(by))]
        binned = duration_bin(self.dialect, inner.c.s)
        query = select(*grouped, binned, func.count(), func.sum(inner.c.s)).group_by(
            *grouped, binned
        )
        rows = (
            (tuple(row[: len(by)]) if by else None, *row[len(by) :])
            for row in self.session.execute(query)
        )
        return durations_by_key(rows)

    def speed_facts(self, period: Period, filters: ReportFilters) -> SpeedFacts:
        where = ticket_conditions(filters)
        answered = [within(Ticket.first_response_at, period), *where]
        done = [within(Ticket.done_at, period), *where]
        wall_first = seconds_between(self.dialect, Ticket.created_at, Ticket.first_response_at)
        wall_done = seconds_between(self.dialect, Ticket.created_at, Ticket.done_at)
        business_first = not_negative(self.dialect, Ticket.first_response_business_s)
        business_done = not_negative(self.dialect, Ticket.resolution_business_s)
        none = Durations()
        resolved, replies, reopened = self.session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(Ticket.reply_count), 0),
                func.coalesce(func.sum(case((Ticket.reopen_count > 0, 1), else_=0)), 0),
            ).where(*done)
        ).one()
        return SpeedFacts(
            first_response_wall=self.durations(wall_first, answered).get(None, none),
            first_response_business=self.durations(
                business_first, [*answered, Ticket.first_response_business_s.is_not(None)]
            ).get(None, none),
            resolution_wall=self.durations(wall_done, done).get(None, none),
            resolution_business=self.durations(
                business_done, [*done, Ticket.resolution_business_s.is_not(None)]
            ).get(None, none),
            resolved=resolved,
            replies_on_resolved=int(replies),
            reopened_resolved=int(reopened),
        )

    # --- backlog -------------------------------------------------------------------

    def backlog_rows(self, now: datetime, filters: ReportFilters) -> list[BacklogRow]:
        whens = [
            (Ticket.created_at > now - below, index)
            for index, (_, below) in enumerate(AGE_BUCKETS)
            if below is not None
        ]
        age = case(*whens, else_=len(AGE_BUCKETS) - 1)
        assigned = case((Ticket.assignee_id.is_(None), 0), else_=1)
        query = (
            select(Ticket.status, Ticket.priority, assigned, age, func.count())
            .where(Ticket.status.in_(OPEN), *ticket_conditions(filters))
            .group_by(Ticket.status, Ticket.priority, assigned, age)
        )
        found = self.session.execute(query)
        rows = [BacklogRow(s, p, bool(a), int(g), n) for s, p, a, g, n in found]
        return sorted(rows, key=lambda r: (r.status, r.priority, r.assigned, r.age))

    # --- people --------------------------------------------------------------------

    def person_facts(self, period: Period, filters: ReportFilters, *, by: str) -> list[PersonFacts]:
        """Per agent (``by="agent"``) or per team (``by="team"``), as
        ``router.report_facts.person_facts`` with ``handled`` from ``handled``."""
        where = ticket_conditions(filters)
        owner: Any = aliased(Agent) if by == "agent" else Team
        owner_key = Ticket.assignee_id if by == "agent" else Ticket.team_id
        done = [within(Ticket.done_at, period), *where]
        counted = select(
            owner.name, func.count(), func.sum(case((Ticket.reopen_count > 0, 1), else_=0))
        ).join(owner, owner.id == owner_key)
        resolved = {
            name: (n, int(r))
            for name, n, r in self.session.execute(counted.where(*done).group_by(owner.name))
        }
        handling = self._by_name(
            owner,
            owner_key,
            seconds_between(self.dialect, Ticket.assigned_at, Ticket.done_at),
            [*done, Ticket.assigned_at.is_not(None)],
        )
        responder: Any = aliased(Agent) if by == "agent" else Team
        responder_key = Ticket.first_responder_id if by == "agent" else Ticket.team_id
        first = self._by_name(
            responder,
            responder_key,
            seconds_between(self.dialect, Ticket.created_at, Ticket.first_response_at),
            [within(Ticket.first_response_at, period), *where],
        )
        handled = self.handled(period, filters, by=by)
        names = sorted(resolved.keys() | first.keys() | handled.keys())
        return [
            PersonFacts(
                name,
                handled=handled.get(name, 0),
                resolved=resolved.get(name, (0, 0))[0],
                reopened=resolved.get(name, (0, 0))[1],
                handling=handling.get(name, Durations()),
                first_response=first.get(name, Durations()),
            )
            for name in names
        ]

    def _by_name(
        self, owner: Any, key: Any, seconds: ColumnElement[Any], where: list[ColumnElement[bool]]
    ) -> dict[str, Durations]:
        found = self.durations(seconds, [*where, owner.id == key], owner.name)
        return {k[0]: v for k, v in found.items()}

    def handled(self, period: Period, filters: ReportFilters, *, by: str) -> dict[str, int]:
        """Tickets answered publicly in the period, per agent who answered (or per team of
        the ticket)."""
        name: Any = Agent.name if by == "agent" else Team.name
        query = (
            select(name, func.count(distinct(Message.ticket_id)))
            .select_from(Message)
            .join(Ticket, Ticket.id == Message.ticket_id)
            .where(
                Message.direction == Direction.OUTBOUND.value,
                Message.agent_id.is_not(None),
                within(Message.created_at, period),
                *ticket_conditions(filters),
            )
            .group_by(name)
        )
        if by == "agent":
            query = query.join(Agent, Agent.id == Message.agent_id)
        else:
            query = query.join(Team, Team.id == Ticket.team_id)
        return {name: n for name, n in self.session.execute(query)}

    def ratings(
        self, period: Period, filters: ReportFilters, *, by: str
    ) -> dict[str, tuple[int, int]]:
        """(good, bad) ratings given in the period per agent or team."""
        owner: Any = Agent if by == "agent" else Team
        key = Rating.agent_id if by == "agent" else Rating.team_id
        good = func.sum(case((Rating.good.is_(True), 1), else_=0))
        query = (
            select(owner.name, good, func.count())
            .select_from(Rating)
            .join(Ticket, Ticket.id == Rating.ticket_id)
            .join(owner, owner.id == key)
            .where(within(Rating.created_at, period), *ticket_conditions(filters))
            .group_by(owner.name)
        )
        return {name: (int(g), int(n) - int(g)) for name, g, n in self.session.execute(query)}

    # --- promises ------------------------------------------------------------------

    def clock_counts(
        self, period: Period, filters: ReportFilters
    ) -> tuple[list[ClockCount], dict[int, int]]:
        """As ``router.report_facts.clock_counts``; ``state`` spells ``clock_state``."""
        breached, state = clock_breached(), clock_state()
        where = [
            within(SlaTimer.started_at, period),
            SlaTimer.target_s.is_not(None),
            *ticket_conditions(filters),
        ]
        query = (
            select(SlaTimer.policy, Ticket.priority, Team.name, SlaTimer.kind, state, func.count())
            .join(Ticket, Ticket.id == SlaTimer.ticket_id)
            .outerjoin(Team, Team.id == Ticket.team_id)
            .where(*where)
            .group_by(SlaTimer.policy, Ticket.priority, Team.name, SlaTimer.kind, state)
        )
        counts: dict[tuple[str, str, str | None, str], Counter[str]] = {}
        for policy, priority, team, kind, st, n in self.session.execute(query):
            counts.setdefault((policy, priority, team, kind), Counter())[st] += n
        rows = [
            ClockCount(p, pr, t, k, c["met"], c["breached"], c["running"])
            for (p, pr, t, k), c in sorted(
                counts.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or "", kv[0][3])
            )
        ]
        steps = (
            select(SlaTimer.escalation_step, func.count())
            .join(Ticket, Ticket.id == SlaTimer.ticket_id)
            .where(*where, breached)
            .group_by(SlaTimer.escalation_step)
            .order_by(SlaTimer.escalation_step)
        )
        return rows, {int(s): n for s, n in self.session.execute(steps)}
