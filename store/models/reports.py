"""What the reports keep beside the tickets: daily rollups and samples of agents' load."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, UTCDateTime


class ReportDay(Base):
    """Sums of one local day's tickets in one team, channel, category and priority.

    Rebuilt from the tickets a whole day at a time when any of its tickets changed
    (``store.report_rollups``), so it always equals what the raw rows say.
    """

    __tablename__ = "report_days"
    __table_args__ = (Index("ix_report_days_day", "day", "team_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    team_id: Mapped[int | None] = mapped_column(Integer)  # no foreign key: a sum outlives
    channel: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(64))
    priority: Mapped[str] = mapped_column(String(16))
    created: Mapped[int] = mapped_column(Integer, default=0)
    resolved: Mapped[int] = mapped_column(Integer, default=0)


class ReportMark(Base):
    """How far a background job has read (the rollups: tickets updated up to ``at``)."""

    __tablename__ = "report_marks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class AgentLoadDay(Base):
    """An agent's load sampled through one local day (at most once per sample slot)."""

    __tablename__ = "agent_load_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    samples: Mapped[int] = mapped_column(Integer, default=0)
    load_sum: Mapped[int] = mapped_column(Integer, default=0)
    capacity_sum: Mapped[int] = mapped_column(Integer, default=0)
    peak: Mapped[int] = mapped_column(Integer, default=0)
    last_sample_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReportBin(Base):
    """Durations and counts of one local day (``span`` ``"day"``), week, month or quarter
    (``"week"``, ``"month"``, ``"quarter"``: ``day`` its first day) for one measure, team
    and agent, in one bin of ``router.report_stats`` (counters keep bin 0; the tickets
    handled keep the day of the reply before as their bin). Rebuilt with the daily rollups
    (``store.report_bins``)."""

    __tablename__ = "report_bins"
    __table_args__ = (Index("ix_report_bins_read", "measure", "span", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    span: Mapped[str] = mapped_column(String(8))
    day: Mapped[date] = mapped_column(Date)
    measure: Mapped[str] = mapped_column(String(32))
    team_id: Mapped[int | None] = mapped_column(Integer)  # no foreign key: a sum outlives
    agent_id: Mapped[int | None] = mapped_column(Integer)
    bin: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer)
    total_s: Mapped[float] = mapped_column(Float)


class ReportTally(Base):
    """Tickets counted per local day (``span`` ``"day"``), week, month or quarter, team
    and ``facet``: ``tag`` and ``form`` (``key`` the tag or form, on the day of creation),
    ``rating_agent`` and ``rating_team`` (``ref`` the rated agent or team, ``good`` the
    good ones, on the day of the rating), ``organisation`` (``ref`` the requester's
    organisation, on the day of creation). ``team_id`` is the ticket's (the filter).
    Rebuilt with the daily rollups (``store.report_tallies``)."""

    __tablename__ = "report_tallies"
    __table_args__ = (Index("ix_report_tallies_read", "facet", "span", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    span: Mapped[str] = mapped_column(String(8))
    day: Mapped[date] = mapped_column(Date)
    facet: Mapped[str] = mapped_column(String(16))
    team_id: Mapped[int | None] = mapped_column(Integer)  # no foreign key: a sum outlives
    ref: Mapped[int | None] = mapped_column(Integer)
    key: Mapped[str | None] = mapped_column(Text)
    count: Mapped[int] = mapped_column(Integer)
    good: Mapped[int] = mapped_column(Integer, default=0)


class ReportRequesterMoved(Base):
    """A customer whose tickets may count for another organisation now: written by
    triggers when a customer's organisation or a ticket's requester changes (neither
    marks the ticket updated), read and deleted by the next refresh, which counts the
    days of the customer's tickets again."""

    __tablename__ = "report_requesters_moved"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(Integer)


class ReportRequesterTotal(Base):
    """Every ticket a requester has (``team_id`` 0), and those of each team: more than any
    period's count, so the top requesters are ranked from the requesters with the most
    down to where no one below can still rank (``store.report_requester_bounds``).
    Brought up to date by each refresh from ``report_requester_changes``."""

    __tablename__ = "report_requester_totals"
    __table_args__ = (
        Index("ix_report_requester_totals_rank", "team_id", "tickets", "requester_id"),
    )

    requester_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0: every team
    tickets: Mapped[int] = mapped_column(Integer)


class ReportRequesterChange(Base):
    """A ticket added to (``delta`` 1) or taken from (-1) a requester and team (``None``:
    no team): written by triggers on the tickets, folded into ``report_requester_totals``
    and deleted by the next refresh."""

    __tablename__ = "report_requester_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(Integer)
    team_id: Mapped[int | None] = mapped_column(Integer)
    delta: Mapped[int] = mapped_column(Integer)


class ReportSharedName(Base):
    """A name more than one customer may have (every name two customers have, and
    perhaps a few more): the top requesters sum such a name's customers together, and
    rank the requesters alone with their name from their own count
    (``store.report_requester_bounds``). Brought up to date by each refresh from
    ``report_name_changes``."""

    __tablename__ = "report_shared_names"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)


class ReportNameChange(Base):
    """A customer's name given or taken (by a new, renamed or removed customer): written
    by triggers on the customers, checked against the customers and deleted by the next
    refresh; until then the name counts as shared."""

    __tablename__ = "report_name_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class ReportTicketChanged(Base):
    """A ticket whose rollup days may have changed: written by triggers when a ticket, one
    of its SLA clocks or ratings changes or an agent replies on it, taken (read and
    deleted) by the next refresh, which counts that ticket's days again, and the day of
    ``at``: an instant the old row was counted by, which changed or was deleted (a clock
    restarted, a resolution replaced)."""

    __tablename__ = "report_tickets_changed"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReportClock(Base):
    """SLA clocks started on one local day (or month) per the ticket's team and priority,
    the clock's policy, kind, state (met, breached, running) and escalation step reached.
    Rebuilt with the daily rollups (``store.report_tallies``)."""

    __tablename__ = "report_clocks"
    __table_args__ = (Index("ix_report_clocks_read", "span", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    span: Mapped[str] = mapped_column(String(8))
    day: Mapped[date] = mapped_column(Date)
    team_id: Mapped[int | None] = mapped_column(Integer)
    priority: Mapped[str] = mapped_column(String(16))
    policy: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    step: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer)
