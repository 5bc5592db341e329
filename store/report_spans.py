"""Rollup rows of weeks and months summed from their days, and the rows a period reads.

The rollup tables (``report_bins``, ``report_tallies``, ``report_clocks``) keep a row
per ``span`` (``"day"``, ``"week"``: ``day`` its Monday, ``"month"``: ``day`` its first
day) and the keys of the table; weeks and months are sums of their days, counted again
whenever one of their days is. A period reads the months it covers whole, the whole
weeks in the days left over, and the days left after them
(``router.report_period.Period.rollup_spans``): a month of days is four or five rows
of each key, not thirty.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, insert, literal, or_, select
from sqlalchemy.orm import Session

from router.report_period import Period


def sum_spans(
    session: Session, table: Any, columns: Sequence[str], summed: Sequence[str], days: set[date]
) -> None:
    """Sum the weeks and months of ``days`` in ``table`` again from their days.

    ``columns`` are the table's columns to fill, ``span`` and ``day`` first; ``summed``
    those of them that add up (the rest are the keys)."""
    keys = [table.__table__.c[c] for c in columns[2:] if c not in summed]
    sums = [func.sum(table.__table__.c[c]) for c in summed]
    for span, first, last in _spans_of(days):
        session.execute(delete(table).where(table.span == span, table.day == first))
        query = (
            select(literal(span), literal(first), *keys, *sums)
            .where(table.span == "day", table.day.between(first, last))
            .group_by(*keys)
        )
        session.execute(insert(table).from_select(list(columns), query))


def _spans_of(days: Iterable[date]) -> list[tuple[str, date, date]]:
    """The weeks and months ``days`` fall in, as (span, first day, last day)."""
    weeks = {d - timedelta(days=d.weekday()) for d in days}
    months = {d.replace(day=1) for d in days}
    return [("week", w, w + timedelta(days=6)) for w in sorted(weeks)] + [
        ("month", m, (m + timedelta(days=32)).replace(day=1) - timedelta(days=1))
        for m in sorted(months)
    ]


def period_spans(table: Any, period: Period) -> ColumnElement[bool]:
    """The rows of ``table`` that make up ``period``."""
    return or_(
        *(
            and_(table.span == span, table.day.between(first, last))
            for span, first, last in period.rollup_spans()
        )
    )
