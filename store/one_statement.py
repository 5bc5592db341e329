"""A transaction that is one statement, said so and checked: ``Database.one_statement``.

For a hot path that writes one statement and needs nothing of a unit of work (no ORM
session, repositories, audit buffer or after-commit callbacks): delivery's claim of its
rows and, for most rows, its record of one sent. On PostgreSQL the statement runs in
autocommit, so it is its own transaction without the BEGIN and COMMIT round trips around
it; on SQLite it runs in a transaction (``BEGIN IMMEDIATE``, as every writer's) committed
on a clean exit.

Committing each statement on its own is only the same as one transaction while there is
one statement: a caller that sent a second one would lose its atomicity silently. Here a
second statement raises ``NotOneStatement`` before it is sent, on both databases, so the
day a caller needs two it fails in its tests and takes a unit of work instead.

In autocommit (PostgreSQL) the statement runs on the driver's cursor of the connection
where ``store.driver_statements`` takes it (a statement built once, from its second run:
compiled once, bound and read by SQLAlchemy's type processors, without its execution
context and result objects: ``DriverRows``), else through the ``Connection`` as before; on
SQLite, through the ``Connection``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

from sqlalchemy import Executable, Result
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from store import driver_statements
from store.driver_statements import DriverRows


class NotOneStatement(RuntimeError):
    """A second statement in a ``one_statement`` transaction: a defect of the caller
    (it needs a unit of work), never a condition to handle."""


class OneStatement:
    """Runs the one statement of its transaction on ``connection`` (see the module);
    ``autocommit``: the connection is in autocommit (PostgreSQL's), the statement is its
    own transaction, and runs on the driver's cursor where it can."""

    def __init__(self, connection: Connection, *, autocommit: bool = False) -> None:
        self._connection = connection
        self._autocommit = autocommit
        self._sent = False

    def execute(
        self, statement: Executable, parameters: dict[str, Any] | None = None
    ) -> Result[Any] | DriverRows:
        if self._sent:
            raise NotOneStatement(f"a second statement in a one-statement transaction: {statement}")
        self._sent = True
        connection = self._connection
        if (
            self._autocommit
            and not connection._execution_options  # (schema_translate_map and the rest)
            and driver_statements.seen_before(statement)
        ):
            values = parameters or {}
            names = tuple(sorted(values))
            compiled = driver_statements.compiled_for(statement, self._connection.dialect, names)
            if compiled is not None:
                return driver_statements.run(self._connection, compiled, values)
        return self._connection.execute(statement, parameters)

    @property
    def dialect(self) -> str:
        """The database's dialect name (the connection itself is not handed out: a
        statement sent on it would not be counted)."""
        return self._connection.dialect.name


class HeldConnection:
    """One pooled connection for several one-statement transactions in a row
    (``Database.held_connection``: a delivery batch's claim and each row's record). Each
    is still its own transaction, committed before the next begins: as it runs on
    PostgreSQL (the connection is in autocommit), on its clean exit on SQLite; only the
    pool's checkout and return are paid once instead of once a statement."""

    def __init__(self, connection: Connection, *, autocommit: bool) -> None:
        self._connection = connection
        self._autocommit = autocommit

    @contextmanager
    def one_statement(self) -> Iterator[OneStatement]:
        """As ``Database.one_statement``, on the held connection."""
        if self._autocommit:
            yield OneStatement(self._connection, autocommit=True)
        else:
            with self._connection.begin():
                yield OneStatement(self._connection)


class OneStatements(Protocol):
    """Where one-statement transactions are had: the ``Database`` (a connection of its
    pool for each) or a ``HeldConnection``."""

    def one_statement(self) -> AbstractContextManager[OneStatement]: ...


# what a store function that may run in either takes: a unit of work's session, or this
Executor = Session | OneStatement


def dialect_of(executor: Executor) -> str:
    """The dialect name of the database ``executor`` writes to."""
    if isinstance(executor, OneStatement):
        return executor.dialect
    return executor.get_bind().dialect.name


__all__ = [
    "Executor",
    "HeldConnection",
    "NotOneStatement",
    "OneStatement",
    "OneStatements",
    "dialect_of",
]
