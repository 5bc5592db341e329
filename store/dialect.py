"""The few statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, cast

from sqlalchemy import Executable, Select, Table, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

# Hot inserts are built once per table and given their values as parameters: building
# ``insert(model).values(**row)`` anew costs more than running it (every value is
# coerced and the statement's cache key computed again).


@cache
def _insert_returning_key(table: Table, dialect: str, ignore_conflict: bool) -> Executable:
    if ignore_conflict:
        make = pg_insert if dialect == "postgresql" else sqlite_insert
        return make(table).on_conflict_do_nothing().returning(*table.primary_key.columns)
    return insert(table).returning(*table.primary_key.columns)


def table(model: Any) -> Table:
    """A mapped class's table, for Core statements built once (see above)."""
    return cast(Table, model.__table__)


def picked(query: Select[Any], name: str) -> Select[Any]:
    """The ids ``query`` picks (with its LIMIT and its row locks), taken once.

    ``WHERE id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)`` in an UPDATE may run
    the subquery again as rows change, each time past the rows the statement already
    took, so it takes more than n. A materialized CTE runs it once.
    """
    cte = query.cte(name).prefix_with("MATERIALIZED", dialect="postgresql")
    return select(cte.c[0])


def _row_key(row: Any) -> Any:
    return None if row is None else (row[0] if len(row) == 1 else tuple(row))


def insert_ignoring_conflict(session: Session, model: Any, values: dict[str, Any]) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING; the new primary key, or None.

    RETURNING rather than rowcount: the latter is not reliable for this statement
    across drivers (both SQLite >= 3.35 and PostgreSQL support RETURNING).
    """
    dialect = session.get_bind().dialect.name
    statement = _insert_returning_key(model.__table__, dialect, True)
    return _row_key(session.execute(statement, values).first())


def insert_many_ignoring_conflict(
    session: Session, model: Any, rows: list[dict[str, Any]], returning: tuple[str, ...]
) -> list[tuple[Any, ...]]:
    """``insert_ignoring_conflict`` for many rows in one statement (SQLAlchemy sends an
    executemany with RETURNING as multi-row INSERTs): the ``returning`` columns of the rows
    inserted, in no particular order; a row that conflicted returns nothing."""
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    statement = _insert_many_returning(model.__table__, dialect, returning)
    return [tuple(row) for row in session.execute(statement, rows)]


@cache
def _insert_many_returning(table: Table, dialect: str, returning: tuple[str, ...]) -> Executable:
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    return make(table).on_conflict_do_nothing().returning(*(table.c[name] for name in returning))


def insert_row(session: Session, model: Any, values: dict[str, Any]) -> Any:
    """INSERT ... RETURNING the new primary key."""
    statement = _insert_returning_key(model.__table__, "", False)
    return _row_key(session.execute(statement, values).first())


def insert_rows(
    session: Session, model: Any, rows: Sequence[dict[str, Any]], match_on: str | None = None
) -> list[Any]:
    """INSERT ... RETURNING the new primary keys of many rows, in the order of ``rows``: one
    multi-row statement on PostgreSQL (SQLAlchemy's insertmanyvalues); SQLite cannot give
    the keys back in order from one, so SQLAlchemy sends a row at a time there.

    ``match_on``: a column every row gives a value of, unique among them (a ticket's
    random access key, a message's inbox row): then one statement on SQLite too, RETURNING
    that column with the key, matched back by its value, never by the order rows come back
    in; when a value is missing or two rows share one, as without."""
    if not rows:
        return []
    if match_on is not None and len(rows) > 1:
        keys = [row.get(match_on) for row in rows]
        if None not in keys and len(set(keys)) == len(rows):
            statement = _insert_returning_matched(model.__table__, match_on)
            found = {key: id_ for key, id_ in session.execute(statement, rows)}
            return [found[key] for key in keys]
    statement = _insert_returning_in_order(model.__table__)
    return [_row_key(row) for row in session.execute(statement, rows)]


@cache
def _insert_returning_matched(table: Table, column: str) -> Executable:
    return insert(table).returning(table.c[column], *table.primary_key.columns)


@cache
def _insert_returning_in_order(table: Table) -> Executable:
    return insert(table).returning(*table.primary_key.columns, sort_by_parameter_order=True)
