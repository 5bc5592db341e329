"""Count the statements a process sent to the database, and the transactions it committed.

A worker process says so when it stops, beside the broker messages it took
(``workers.runtime.tally``): ops see what their load costs the database per message,
and the pipeline benchmark prints statements per ticket from it. An ``executemany``
(a batch of rows in one call) counts as one statement, as does each batch of an
insertmanyvalues INSERT; so do the look-ups the dialect
sends on an engine's first connection (the server's version and settings: three on
PostgreSQL).

Counted where the engine's dialect calls the driver (its ``do_execute``,
``do_executemany``, ``do_execute_no_params`` and ``do_commit``, wrapped on that dialect
alone), not with the engine's events: a listener on an engine makes each of its
connections join the engine's events, a fifth to a third more instructions for a one-statement
transaction (see docs/performance.md, "A transaction's fixed cost").
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine


class StatementTally:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.statements = 0
        self.commits = 0

    def watch(self, engine: Engine) -> None:
        """Count what ``engine``'s connections execute and commit from now on."""
        dialect = engine.dialect
        counts = {
            "do_execute": self._statement,
            "do_executemany": self._statement,
            "do_execute_no_params": self._statement,
            "do_commit": self._commit,
        }
        for call, count in counts.items():
            setattr(dialect, call, _counting(count, getattr(dialect, call)))

    def _statement(self) -> None:
        with self._lock:
            self.statements += 1

    def _commit(self) -> None:
        with self._lock:
            self.commits += 1

    def summary(self) -> str:
        return f"{self.statements} statements, {self.commits} commits"


def _counting(count: Callable[[], None], call: Callable[..., Any]) -> Callable[..., Any]:
    """``call``, counted as it is made (a statement that fails was sent all the same)."""

    def counted(*args: Any, **kwargs: Any) -> Any:
        count()
        return call(*args, **kwargs)

    return counted


__all__ = ["StatementTally"]
