"""The reports' SQL pieces whose spelling differs between SQLite and PostgreSQL.

Two things SQLite cannot say itself: the local date of an instant in a named time
zone, and the exact seconds between two instants (``julianday`` rounds). They are
functions registered on every SQLite connection, written with the same
``zoneinfo`` and ``timedelta`` arithmetic as ``router``, so both databases count
alike. Durations are counted in the bins of ``router.report_stats.bin_of``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Date, Float, Integer, String, case, cast, extract, func
from sqlalchemy.sql.elements import ColumnElement

from router.report_period import Period, local_date
from router.report_stats import BIN_SCALE, Durations, bin_of


def register_report_functions(dbapi_conn: Any) -> None:
    """The SQLite side of ``local_day`` and ``seconds_between``."""
    dbapi_conn.create_function("relaydesk_local_date", 2, _sqlite_local_date, deterministic=True)
    dbapi_conn.create_function("relaydesk_seconds", 2, _sqlite_seconds, deterministic=True)
    dbapi_conn.create_function("relaydesk_bin", 1, _sqlite_bin, deterministic=True)
    dbapi_conn.create_function("relaydesk_epoch_day", 2, _sqlite_epoch_day, deterministic=True)


def _sqlite_epoch_day(value: str | None, timezone: str) -> int | None:
    at = _parse(value)
    return None if at is None else (local_date(at, timezone) - _EPOCH).days


def _sqlite_bin(seconds: float | None) -> int | None:
    return None if seconds is None else bin_of(seconds)


_EPOCH = date(1970, 1, 1)


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


def local_epoch_day(dialect: str, column: Any, timezone: str) -> ColumnElement[Any]:
    """The local date (in ``timezone``) of the instant in ``column`` as days since 1970."""
    if dialect == "postgresql":
        wall = func.timezone(timezone, column)
        return cast(func.floor(extract("epoch", wall) / 86400), Integer)
    return func.relaydesk_epoch_day(column, timezone, type_=Integer)


def week_bucket(dialect: str, day: Any, period: Period) -> ColumnElement[Any]:
    """``period.bucket_of(day)`` of a date column: its week's Monday, or the period's
    first day for the week the period cuts."""
    if dialect == "postgresql":
        return func.greatest(cast(func.date_trunc("week", day), Date), period.first, type_=Date)
    back = (cast(func.strftime("%w", day), Integer) + 6) % 7  # days since Monday
    monday = func.date(day, func.printf("-%d days", back))
    return func.max(monday, period.first.isoformat(), type_=String)


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


def duration_bin(dialect: str, seconds: ColumnElement[Any]) -> ColumnElement[Any]:
    """The bin of ``seconds`` (not negative), as ``router.report_stats.bin_of``."""
    if dialect == "postgresql":
        scaled = func.ln(func.greatest(seconds, 1.0, type_=Float), type_=Float) * BIN_SCALE
        return case((seconds < 1.0, 0), else_=1 + cast(func.floor(scaled), Integer))
    return func.relaydesk_bin(seconds, type_=Integer)


def durations_by_key(rows: Iterable[tuple[Any, Any, Any, Any]]) -> dict[Any, Durations]:
    """``(key, bin, count, total)`` rows summed into a ``Durations`` per key."""
    found: dict[Any, tuple[int, float, dict[int, tuple[int, float]]]] = {}
    for key, value, n, total in rows:
        count, sums, bins = found.get(key, (0, 0.0, {}))
        was_n, was_total = bins.get(int(value), (0, 0.0))
        bins[int(value)] = (was_n + int(n), was_total + float(total or 0.0))
        found[key] = (count + int(n), sums + float(total or 0.0), bins)
    return {k: Durations(c, t, b) for k, (c, t, b) in found.items()}
