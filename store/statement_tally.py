"""Count the statements a process sent to the database, and the transactions it committed.

A worker process says so when it stops, beside the broker messages it took
(``workers.runtime.tally``): ops see what their load costs the database per message,
and the pipeline benchmark prints statements per ticket from it. An ``executemany``
(a batch of rows in one call) counts as one statement.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


class StatementTally:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.statements = 0
        self.commits = 0

    def watch(self, engine: Engine) -> None:
        """Count what ``engine``'s connections execute and commit from now on."""
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)

    def _statement(self, *_args: Any) -> None:
        with self._lock:
            self.statements += 1

    def _commit(self, *_args: Any) -> None:
        with self._lock:
            self.commits += 1

    def summary(self) -> str:
        return f"{self.statements} statements, {self.commits} commits"


__all__ = ["StatementTally"]
