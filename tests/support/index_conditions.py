"""The conditions of partial indexes (``postgresql_where`` / ``sqlite_where``) as the
database keeps them, which Alembic's ``compare_metadata`` does not compare.

The migrated database's are read from its catalog; the models' are made by the same
database: each model index with a condition is created again under another name in a
transaction that is rolled back, and read back the same way. So both sides are in the
database's own spelling: PostgreSQL prints a condition it parsed
(``pg_get_expr(indpred, indrelid)``: casts, parentheses, ``= ANY (ARRAY[...])``), SQLite
keeps the text it was given (compared without its whitespace and case outside quotes), so
there a rewrite that means the same (added parentheses, ``NOTNULL`` for ``IS NOT NULL``)
differs: write the model's condition as the migration does.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, MetaData, text
from sqlalchemy.schema import CreateIndex, Index

_PROBE = "probe_"
_WHERE = re.compile(r"\bWHERE\b(.*)\Z", re.IGNORECASE | re.DOTALL)
_QUOTED = re.compile(r"('(?:[^']|'')*'|\"(?:[^\"]|\"\")*\")")


def index_conditions(
    conn: Connection, metadata: MetaData
) -> tuple[dict[str, str | None], dict[str, str | None]]:
    """The condition of each of ``metadata``'s indexes, by name (None: not partial): as
    the database has it, and as the model's would be. Leaves no transaction open."""
    indexes = [i for t in metadata.sorted_tables for i in t.indexes if i.name is not None]
    conn.rollback()
    with conn.begin() as probing:
        found = _conditions(conn)
        built = {str(i.name): found.get(str(i.name)) for i in indexes}
        modelled: dict[str, str | None] = dict.fromkeys(built)
        partial = [i for i in indexes if i.dialect_options[conn.dialect.name]["where"] is not None]
        for index in partial:
            conn.execute(text(_probe_ddl(conn, index)))
        probed = _conditions(conn)
        for index in partial:
            modelled[str(index.name)] = probed[_PROBE + str(index.name)]
        probing.rollback()
    return built, modelled


def _probe_ddl(conn: Connection, index: Index) -> str:
    """The model's CREATE INDEX for ``index``, under the probe's name."""
    ddl = str(CreateIndex(index).compile(dialect=conn.dialect))
    named = f"INDEX {index.name} ON "
    assert named in ddl, ddl  # (a name that needs quoting would be spelled otherwise)
    # PostgreSQL cuts a name at 63 bytes: the probe's would then not be found by its name
    assert len(_PROBE + str(index.name)) <= 63, f"{index.name}: too long to probe"
    return ddl.replace(named, f"INDEX {_PROBE}{index.name} ON ", 1)


def _conditions(conn: Connection) -> dict[str, str | None]:
    """Every index of the database's schema and its condition (None: not partial)."""
    if conn.dialect.name == "postgresql":
        rows = conn.execute(
            text(
                "SELECT c.relname, pg_get_expr(i.indpred, i.indrelid) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema()"
            )
        ).all()
        return {name: condition for name, condition in rows}
    rows = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index'")).all()
    return {name: _sqlite_condition(sql) for name, sql in rows}


def _sqlite_condition(sql: str | None) -> str | None:
    """The WHERE of a CREATE INDEX as SQLite keeps it, outside its quoted strings without
    whitespace and in lower case, as SQLite reads it (None: an index SQLite made itself,
    or not partial)."""
    found = _WHERE.search(sql or "")
    if found is None:
        return None
    parts = _QUOTED.split(found.group(1))  # the quoted strings at the odd places
    return "".join(p if i % 2 else "".join(p.split()).lower() for i, p in enumerate(parts))
