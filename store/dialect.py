"""The few statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session


def insert_ignoring_conflict(session: Session, model: Any, values: dict[str, Any]) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING; the new primary key, or None.

    RETURNING rather than rowcount: the latter is not reliable for this statement
    across drivers (both SQLite >= 3.35 and PostgreSQL support RETURNING).
    """
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = model.__table__
    statement = insert(model).values(**values).on_conflict_do_nothing()
    row = session.execute(statement.returning(*table.primary_key.columns)).first()
    return None if row is None else (row[0] if len(row) == 1 else tuple(row))
