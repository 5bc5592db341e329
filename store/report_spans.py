"""Rollup rows of weeks, months and quarters summed from their days, and the rows a
period reads.

The rollup tables (``report_bins``, ``report_tallies``, ``report_clocks``) keep a row
per ``span`` (``"day"``, ``"week"``: ``day`` its Monday, ``"month"`` and ``"quarter"``:
``day`` its first day) and the keys of the table; weeks, months and quarters are sums
of their days, counted again whenever one of their days is. A period reads the
quarters it covers whole, the whole months around them, the whole weeks in the days
left over, and the days left after them (``router.report_period.Period.rollup_spans``):
a month of days is four or five rows of each key, not thirty, and a year's three
whole quarters are three rows, not nine (the bins of a month and of a quarter are
about as many: a year's agents read 190,000 bin rows instead of 305,000).

A day counted again gets its new rows beside its old ones (``count_days`` of
``store.report_bins`` and ``store.report_tallies``: the old ones are those of ids up to
``newest`` before the count); its week, month and quarter are then brought up to date by what
changed (``sum_spans``: the span's rows, plus the days' new rows, less their old ones,
which then go), not summed again from all their days: a month of the bins is some
220,000 day rows against 19,000 of its own and 7,000 a day. Every figure is a sum, so a
span still equals the sum of its days (a key whose count comes to 0 leaves): the counts
exactly, the seconds (``total_s``, a float) to a float's rounding. This holds because
one refresh at a time writes these tables (under the refresh's lock) and ids grow in the
order rows are added, so "ids up to ``before``" are exactly a day's old rows.

``lead`` names every value of the column an index of the table leads with (the bins'
measure, the tallies' facet), so that index finds a span's or a day's rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from router.report_period import Period

# rollup rows are never loaded as objects: a delete need not return their ids to the session
UNSYNCED = {"synchronize_session": False}


def newest(session: Session, table: Any) -> int:
    """The greatest id in ``table`` (0 when empty): rows added later have greater ones."""
    return session.scalar(select(func.max(table.__table__.c["id"]))) or 0


def sum_spans(
    session: Session,
    table: Any,
    columns: Sequence[str],
    summed: Sequence[str],
    days: set[date],
    before: int,
    lead: Sequence[Any] = (),
) -> None:
    """Bring the weeks, months and quarters of ``days`` up to date in ``table`` by what their
    days' counts changed, then drop those days' old rows (ids up to ``before``; the
    new ones were added after).

    ``columns`` are the table's columns to fill, ``span`` and ``day`` first; ``summed``
    those of them that add up (the rest are the keys), ``count`` among them."""
    c = table.__table__.c
    keys = [c[name] for name in columns[2:] if name not in summed]
    added = [c[name] for name in summed]
    counted = sorted(days)
    for span, first, last in _spans_of(days):
        inside = [
            *lead,
            table.span == "day",
            table.day.in_([d for d in counted if first <= d <= last]),
        ]
        change = union_all(
            select(*keys, *added).where(*lead, table.span == span, table.day == first),
            select(*keys, *added).where(*inside, c["id"] > before),
            select(*keys, *(-a for a in added)).where(*inside, c["id"] <= before),
        ).subquery("change")
        kept = [change.c[k.name] for k in keys]
        query = (
            select(
                literal(span),
                literal(first),
                *kept,
                *(func.sum(change.c[a.name]) for a in added),
            )
            .group_by(*kept)
            .having(func.sum(change.c["count"]) != 0)
        )
        spans_before = newest(session, table)
        session.execute(insert(table).from_select(list(columns), query))
        session.execute(
            delete(table).where(
                *lead, table.span == span, table.day == first, c["id"] <= spans_before
            ),
            execution_options=UNSYNCED,
        )
    for start in range(0, len(counted), 100):
        session.execute(
            delete(table).where(
                *lead,
                table.span == "day",
                table.day.in_(counted[start : start + 100]),
                c["id"] <= before,
            ),
            execution_options=UNSYNCED,
        )


def _spans_of(days: Iterable[date]) -> list[tuple[str, date, date]]:
    """The weeks, months and quarters ``days`` fall in, as (span, first day, last day)."""
    weeks = {d - timedelta(days=d.weekday()) for d in days}
    months = {d.replace(day=1) for d in days}
    quarters = {d.replace(month=(d.month - 1) // 3 * 3 + 1, day=1) for d in days}
    return (
        [("week", w, w + timedelta(days=6)) for w in sorted(weeks)]
        + [("month", m, _last_day(m, 1)) for m in sorted(months)]
        + [("quarter", q, _last_day(q, 3)) for q in sorted(quarters)]
    )


def _last_day(first: date, months: int) -> date:
    """The last day of the ``months`` months from ``first`` (a first day) on."""
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1) - timedelta(days=1)


def period_spans(table: Any, period: Period) -> ColumnElement[bool]:
    """The rows of ``table`` that make up ``period``."""
    return or_(
        *(
            and_(table.span == span, table.day.between(first, last))
            for span, first, last in period.rollup_spans()
        )
    )
