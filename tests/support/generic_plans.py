"""PostgreSQL's generic plan of a statement as the desk sends it: the plan a prepared
statement may keep (psycopg prepares a statement after 5 runs) and use for any values.

``EXPLAIN`` of a statement with bound values plans for those values, whatever
``plan_cache_mode`` says; only a prepared statement's ``EXPLAIN EXECUTE`` under
``force_generic_plan`` shows the generic plan (PostgreSQL 15 has no ``EXPLAIN
(GENERIC_PLAN)``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from psycopg import sql
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine


@contextmanager
def sent(conn: Connection) -> Iterator[list[tuple[str, Sequence[Any]]]]:
    """The statements ``conn`` sends meanwhile, as SQLAlchemy hands them to its dialect (its
    SQL, its values: lists already expanded into one placeholder a value; a value holding
    NUL is seen before ``store.nul_guard`` cleans it). Listening on ``conn`` slows that
    connection alone, never the engine's others."""
    seen: list[tuple[str, Sequence[Any]]] = []

    def record(*args: Any) -> None:
        seen.append((args[2], args[3]))

    event.listen(conn, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(conn, "before_cursor_execute", record)


def generic_plan(engine: Engine, statement: str, values: Sequence[Any]) -> str:
    """The generic plan of ``statement`` (as the store sends it: PostgreSQL's ``$1`` form,
    ``store.engines``) for ``values`` (``$1``'s first)."""
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        given = ", ".join(sql.Literal(value).as_string(raw) for value in values)
        with raw.cursor() as cursor:
            cursor.execute("SET plan_cache_mode = force_generic_plan")
            cursor.execute(f"PREPARE generic AS {statement}".encode())
            try:
                cursor.execute(f"EXPLAIN EXECUTE generic({given})".encode())
                return "\n".join(str(row[0]) for row in cursor.fetchall())
            finally:
                cursor.execute("DEALLOCATE generic")
                cursor.execute("RESET plan_cache_mode")
                raw.rollback()
