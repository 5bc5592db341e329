"""A Core statement run on the driver's own cursor: compiled once per dialect and set of
parameter names, its values bound and its rows read by SQLAlchemy's own type processors,
without SQLAlchemy's execution context and result objects around every run.

Why: for a hot statement built once, SQLAlchemy's execution path above psycopg costs about
three times psycopg's own work (a delivery record on PostgreSQL, CPU an execute: 95-109 us
through ``Connection.execute``, 74-87 us through ``exec_driver_sql``, 22-25 us on the
psycopg cursor; 188 Python calls against 54): the compiled cache's look-up, the execution
context (``_init_compiled``), the cursor result's set-up and its row objects, for every
run of a statement whose SQL, parameter order and types never change
(docs/performance.md, "Statements on the driver's cursor ... (issue 21, the ninth
session, sqla)"). SQLAlchemy has no lighter
public path, so this module does the little that a compiled statement needs at run time:
the compiled form's own ``construct_params``, bind processors and parameter order, as
``DefaultExecutionContext._init_compiled`` uses them, and each returned column's result
processor, as ``CursorResult`` asks for it.

What it takes (``compiled_for`` says None otherwise, and the caller runs the statement
through SQLAlchemy): a positional compiled form (PostgreSQL's ``$1``) that needs nothing
at run time beyond its values: no Python-side column defaults (prefetch), no
literal-execute parameters, no execution options of its own or of the connection's
(``schema_translate_map`` among them). Only a statement built once takes it: the caller
asks ``seen_before`` first, so a statement's first run goes through SQLAlchemy and a
statement built anew at each call is never compiled here (SQLAlchemy's compiled cache,
keyed on the statement's structure, serves it better).

What operators should know: on this path SQLAlchemy does not see the statement, so its
execution events (``before_cursor_execute`` and the rest), ``echo`` and SQL logging,
``handle_error`` hooks and tracing instrumentation miss it; the statement tally (through
the dialect's ``do_execute``) and the NUL guard (``nul_guard.cleaned_values``) are kept
here explicitly. Its rows are what the cursor returns: an INSERT whose compiled form
returns its primary key gives that row, where SQLAlchemy's result would be empty.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast
from weakref import WeakKeyDictionary, WeakSet

from sqlalchemy import Executable, exc
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

from store import nul_guard


@dataclass(frozen=True, slots=True)
class CompiledStatement:
    """A statement's compiled form for one dialect and one set of parameter names."""

    compiled: SQLCompiler
    sql: str
    positions: tuple[str, ...]
    binds: Mapping[str, Callable[[Any], Any]]
    fixed: Mapping[str, Any]  # the values of the IN lists written in the statement, expanded
    expands: bool  # an IN list of the caller's values: written out at every run
    # each returned column's result processor, found at the first run (from the driver's
    # type codes in the cursor's description, which psycopg makes anew at each ask)
    readers: list[list[Callable[[Any], Any] | None]] = field(default_factory=list)

    def bound(self, parameters: Mapping[str, Any]) -> tuple[str, tuple[Any, ...]]:
        """The SQL and the values to send, in the statement's order, as SQLAlchemy binds
        them (``DefaultExecutionContext._init_compiled``)."""
        given = self.compiled.construct_params(parameters, escape_names=False)
        sql, positions, binds = self.sql, self.positions, self.binds
        if self.expands:
            expanded = self.compiled._process_parameters_for_postcompile(given)
            sql, positions = expanded.statement, tuple(expanded.positiontup or ())
            binds = {**binds, **expanded.processors}
            given = dict(expanded.parameters)
        elif self.fixed:
            given.update(self.fixed)
        return sql, tuple(
            binds[key](given[key]) if key in binds else given[key] for key in positions
        )


# statements run once already (through SQLAlchemy), and the compiled forms of those run
# again, per dialect and parameter names; both let a statement go when it is dropped
_seen: WeakSet[Executable] = WeakSet()
_forms: WeakKeyDictionary[
    Executable, dict[tuple[Dialect, tuple[str, ...]], CompiledStatement | None]
] = WeakKeyDictionary()


def seen_before(statement: Executable) -> bool:
    """Whether ``statement`` (this object) was asked about before: False the first time,
    when it should run through SQLAlchemy. A statement built at each call is never seen
    twice, so it is never compiled here."""
    if statement in _seen:
        return True
    _seen.add(statement)
    return False


def compiled_for(
    statement: Executable, dialect: Dialect, names: tuple[str, ...]
) -> CompiledStatement | None:
    """``statement`` compiled as ``Connection.execute`` compiles it for parameters named
    ``names`` (sorted), or None when its compiled form needs more than its values at run
    time (see the module). Kept by the statement's identity: for statements built once
    (``seen_before``), as long as the statement lives.

    An IN list (an "expanding" parameter, one ``$n`` a value) is written out as SQLAlchemy
    writes it: at every run for a list the caller gives, once here for a list written in
    the statement (``status.in_([...])``), whose values never change."""
    forms = _forms.get(statement)
    if forms is None:
        forms = _forms.setdefault(statement, {})
    key = (dialect, names)
    if key not in forms:
        forms[key] = _compiled(statement, dialect, names)
    return forms[key]


def _compiled(
    statement: Executable, dialect: Dialect, names: tuple[str, ...]
) -> CompiledStatement | None:
    if statement._execution_options:
        return None
    compiled = cast(ClauseElement, statement).compile(dialect=dialect, column_keys=list(names))
    if not isinstance(compiled, SQLCompiler) or not compiled.positional:
        return None
    if compiled.insert_prefetch or compiled.update_prefetch:
        return None
    if compiled.literal_execute_params:
        return None
    binds = cast(dict[str, Callable[[Any], Any]], dict(compiled._bind_processors))
    later = compiled.post_compile_params
    expands = any(bind.key in names or compiled.bind_names[bind] in names for bind in later)
    positions: Sequence[str] | None = compiled.positiontup
    sql, fixed = compiled.string, {}
    if later and not expands:
        own = compiled.construct_params(escape_names=False, _check=False)
        expanded = compiled._process_parameters_for_postcompile(own)
        sql, positions = expanded.statement, expanded.positiontup
        binds.update(expanded.processors)
        fixed = {
            name: expanded.parameters[name]
            for written in expanded.parameter_expansion.values()
            for name in written
        }
    if positions is None:
        return None
    return CompiledStatement(compiled, sql, tuple(positions), binds, fixed, expands)


class DriverRows:
    """A statement's rows read from the driver's cursor, each a tuple of its columns as
    SQLAlchemy's result processors give them: what the hot paths read of a ``Result``
    (``all``, ``first``, ``scalars``), not a ``Result``."""

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def all(self) -> list[tuple[Any, ...]]:
        return self._rows

    def first(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None

    def scalars(self) -> Iterator[Any]:
        return (row[0] for row in self._rows)


def run(
    connection: Connection, statement: CompiledStatement, parameters: Mapping[str, Any]
) -> DriverRows:
    """Run ``statement`` on a cursor of ``connection``'s driver connection (one in
    autocommit: nothing of ``Connection``'s transaction state is passed by), through the
    dialect's ``do_execute`` (counted by the statement tally) with the NUL guard's
    cleaning (``nul_guard.cleaned_values``). A driver's error is raised as SQLAlchemy's
    (``DBAPIError.instance``; a bind processor's as ``StatementError``), and a lost
    connection is invalidated with every other of its pool, as ``Connection`` does."""
    dialect = connection.dialect
    pooled = connection.connection
    try:
        sql, values = statement.bound(parameters)
    except Exception as error:  # a bind processor's: SQLAlchemy's StatementError, as its own
        raise exc.DBAPIError.instance(
            statement.sql, parameters, error, dialect.loaded_dbapi.Error, dialect=dialect
        ) from error
    values = nul_guard.cleaned_values(sql, values) or values
    cursor = None
    try:
        cursor = pooled.cursor()
        dialect.do_execute(cursor, sql, values, None)
        rows = _read(cursor, dialect, statement) if cursor.description is not None else []
        return DriverRows(rows, cursor.rowcount)
    except dialect.loaded_dbapi.Error as error:  # (any other is raised as it is, as there)
        lost = dialect.is_disconnect(error, pooled.dbapi_connection, cursor)
        if lost and not connection.invalidated:
            # as Connection._handle_dbapi_exception: every connection the pool made up to
            # now is dropped at its next checkout (a restarted or failed-over server)
            connection.engine.pool._invalidate(pooled, error)
            connection.invalidate(error)
        raise exc.DBAPIError.instance(
            sql,
            values,
            error,
            dialect.loaded_dbapi.Error,
            connection_invalidated=lost,
            dialect=dialect,
        ) from error
    finally:
        if cursor is not None:
            cursor.close()


def _read(cursor: Any, dialect: Dialect, statement: CompiledStatement) -> list[tuple[Any, ...]]:
    """The cursor's rows, each column through its type's result processor for the
    driver's type code, as ``CursorResult`` reads them."""
    if not statement.readers:
        columns = statement.compiled._result_columns
        statement.readers.append(
            [
                columns[index][3]._cached_result_processor(dialect, column[1])
                if index < len(columns)
                else None
                for index, column in enumerate(cursor.description)
            ]
        )
    processors = statement.readers[0]
    rows = cursor.fetchall()
    if not any(processors):
        return list(rows)
    return [
        tuple(
            value if use is None else use(value) for use, value in zip(processors, row, strict=True)
        )
        for row in rows
    ]


__all__ = ["CompiledStatement", "DriverRows", "compiled_for", "run", "seen_before"]
