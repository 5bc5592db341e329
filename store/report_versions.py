"""The reports' configuration versions in SQL: ``router.report_versions`` said once.

``decided_by`` is the one filter every figure (``store.report_queries``) and the export
(``store.ticket_export``) use: the tickets whose creation event records one of the
versions. A version filter is kept in no rollup, so every figure it narrows is counted
from the raw rows (``ReportFilters.given`` names it: the rollups, bins and tallies
answer ``None``). ``VersionQueries`` counts what the comparison adds to the report's
figures (hand-offs, ratings in total) and lists the versions a report may ask for.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from router.report_comparison import VersionChoice
from router.report_period import Period
from router.report_versions import ASSIGNMENTS, TRANSFERS, VERSION_EVENT, Moves
from store.config_versions import ConfigVersions, CurrentConfig
from store.models import AuditEvent, Rating, Ticket


def decided_by(versions: Sequence[str]) -> ColumnElement[bool]:
    """``WHERE`` on ``tickets``: classified by any of ``versions``."""
    created = select(AuditEvent.ticket_id).where(
        AuditEvent.config_version.in_(list(versions)),
        AuditEvent.action == VERSION_EVENT.value,
    )
    return Ticket.id.in_(created)


def version_of_ticket() -> Any:
    """The ticket's version (a scalar subquery on ``tickets``), for its report record."""
    return (
        select(AuditEvent.config_version)
        .where(AuditEvent.ticket_id == Ticket.id, AuditEvent.action == VERSION_EVENT.value)
        .order_by(AuditEvent.id)
        .limit(1)
        .scalar_subquery()
    )


class VersionQueries:
    def __init__(self, session: Session) -> None:
        self.session = session

    def moves(self, period: Period, where: list[ColumnElement[bool]]) -> Moves:
        """Hand-offs of the tickets created in the period that ``where`` admits."""
        transfers = func.sum(case((AuditEvent.action.in_(sorted(TRANSFERS)), 1), else_=0))
        given = func.sum(case((AuditEvent.action.in_(sorted(ASSIGNMENTS)), 1), else_=0))
        created = select(Ticket.id).where(
            Ticket.created_at >= period.start, Ticket.created_at < period.end, *where
        )
        per = (
            select(transfers.label("t"), given.label("a"))
            .where(
                AuditEvent.ticket_id.in_(created),
                AuditEvent.action.in_(sorted(TRANSFERS | ASSIGNMENTS)),
            )
            .group_by(AuditEvent.ticket_id)
            .subquery("per_ticket")
        )
        again = case((per.c.a > 1, per.c.a - 1), else_=0)
        moved = case(((per.c.t > 0) | (per.c.a > 1), 1), else_=0)
        found = self.session.execute(
            select(func.sum(per.c.t), func.sum(again), func.sum(moved))
        ).one()
        return Moves(*(int(n or 0) for n in found))

    def ratings(self, period: Period, where: list[ColumnElement[bool]]) -> tuple[int, int]:
        """(good, bad) ratings given in the period on the tickets ``where`` admits."""
        good = func.sum(case((Rating.good.is_(True), 1), else_=0))
        found = self.session.execute(
            select(good, func.count())
            .join(Ticket, Ticket.id == Rating.ticket_id)
            .where(Rating.created_at >= period.start, Rating.created_at < period.end, *where)
        ).one()
        return int(found[0] or 0), int(found[1]) - int(found[0] or 0)

    def choices(self, now: CurrentConfig | None, limit: int = 100) -> list[VersionChoice]:
        """The versions of the latest ``limit`` changes, newest first, each once; those of
        ``now`` (the change in force, read by the caller) are live."""
        versions = ConfigVersions(self.session)
        live = {now.version, now.pilot.version if now.pilot else ""} if now else set()
        seen: dict[str, VersionChoice] = {}
        for change in versions.history(limit):
            sides: list[tuple[str, tuple[str, ...]]] = [(change.version, ())]
            if change.pilot is not None:
                sides.insert(0, (change.pilot.version, change.pilot.teams))
            for version, teams in sides:
                if version not in seen:
                    seen[version] = VersionChoice(
                        version, change.applied_at, change.applied_by, teams, version in live
                    )
        return list(seen.values())
