"""The reports' SQL pieces whose spelling differs between SQLite and PostgreSQL.

Two things SQLite cannot say itself: the local date of an instant in a named time
zone, and the exact seconds between two instants (``julianday`` rounds). They are
functions registered on every SQLite connection, written with the same
``zoneinfo`` and ``timedelta`` arithmetic as ``router``, so both databases count
alike. Durations are rounded to the steps of ``router.report_stats.STEPS``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Date, Float, Integer, case, cast, extract, func
from sqlalchemy.sql.elements import ColumnElement

from router.report_period import local_date
from router.report_stats import STEPS


def register_report_functions(dbapi_conn: Any) -> None:
    """The SQLite side of ``local_day`` and ``seconds_between``."""
    dbapi_conn.create_function("relaydesk_local_date", 2, _sqlite_local_date, deterministic=True)
    dbapi_conn.create_function("relaydesk_seconds", 2, _sqlite_seconds, deterministic=True)


def _parse(value: str | None) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _sqlite_local_date(value: str | None, timezone: str) -> str | None:
    at = _parse(value)
    return None if at is None else local_date(at, timezone).isoformat()


def _sqlite_seconds(start: str | None, end: str | None) -> float | None:
    a, b = _parse(start), _parse(end)
    return None if a is None or b is None else (b - a).total_seconds()


def local_day(dialect: str, column: Any, timezone: str) -> ColumnElement[Any]:
    """The local date (in ``timezone``) of the instant in ``column``."""
    if dialect == "postgresql":
        return cast(func.timezone(timezone, column), Date)
    return func.relaydesk_local_date(column, timezone)


def as_date(value: Any) -> date:
    """A day as the database returns it (SQLite: text)."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def seconds_between(dialect: str, start: Any, end: Any) -> ColumnElement[Any]:
    """``end - start`` in seconds, never below zero (clocks out of step count as zero)."""
    if dialect == "postgresql":
        return not_negative(dialect, cast(extract("epoch", end - start), Float))
    return not_negative(dialect, func.relaydesk_seconds(start, end))


def not_negative(dialect: str, seconds: Any) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return func.greatest(seconds, 0.0, type_=Float)
    return func.max(seconds, 0.0, type_=Float)


def step(dialect: str, seconds: ColumnElement[Any]) -> ColumnElement[Any]:
    """``seconds`` (not negative) rounded down to its step, as ``router.report_stats``."""

    def floor(width: int) -> ColumnElement[Any]:
        if dialect == "postgresql":
            return func.floor(seconds / float(width), type_=Float) * width
        return cast(seconds / width, Integer) * width  # truncation is floor here: x >= 0

    whens = [(seconds < below, floor(width)) for below, width in STEPS if below is not None]
    return case(*whens, else_=floor(STEPS[-1][1]))
