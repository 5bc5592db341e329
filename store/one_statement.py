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
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Executable, Result
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session


class NotOneStatement(RuntimeError):
    """A second statement in a ``one_statement`` transaction: a defect of the caller
    (it needs a unit of work), never a condition to handle."""


class OneStatement:
    """Runs the one statement of its transaction on ``connection`` (see the module)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._sent = False

    def execute(
        self, statement: Executable, parameters: dict[str, Any] | None = None
    ) -> Result[Any]:
        if self._sent:
            raise NotOneStatement(f"a second statement in a one-statement transaction: {statement}")
        self._sent = True
        return self._connection.execute(statement, parameters)

    @property
    def dialect(self) -> str:
        """The database's dialect name (the connection itself is not handed out: a
        statement sent on it would not be counted)."""
        return self._connection.dialect.name


# what a store function that may run in either takes: a unit of work's session, or this
Executor = Session | OneStatement


def dialect_of(executor: Executor) -> str:
    """The dialect name of the database ``executor`` writes to."""
    if isinstance(executor, OneStatement):
        return executor.dialect
    return executor.get_bind().dialect.name


__all__ = ["Executor", "NotOneStatement", "OneStatement", "dialect_of"]
