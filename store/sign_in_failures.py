"""Failed sign-ins per key, shared by every web process through the database (and, under
keys of their own, web submissions per address: ``router.submission_limits``).

``record`` counts one failure atomically (one INSERT ... ON CONFLICT DO UPDATE
on SQLite and PostgreSQL alike), opening a new window when the last one has
closed, by the same rule as ``router.sign_in_limits.SignInLimit.after_failure``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from router.sign_in_limits import FailureCount
from store.models import SignInFailures


class SignInFailureRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def counts(self, keys: list[str]) -> dict[str, FailureCount]:
        rows = self.session.execute(
            select(
                SignInFailures.key, SignInFailures.failures, SignInFailures.window_started_at
            ).where(SignInFailures.key.in_(keys))
        )
        return {key: FailureCount(failures, started) for key, failures, started in rows}

    def record(self, key: str, *, now: datetime, window_opened_after: datetime) -> FailureCount:
        """Count a failure for ``key``: +1 in a window opened after ``window_opened_after``,
        else a new window of one from ``now``."""
        make = pg_insert if self.session.get_bind().dialect.name == "postgresql" else sqlite_insert
        insert = make(SignInFailures).values(key=key, failures=1, window_started_at=now)
        table = SignInFailures.__table__.c
        open_window = table.window_started_at > window_opened_after
        statement = insert.on_conflict_do_update(
            index_elements=[table.key],
            set_={
                "failures": case((open_window, table.failures + 1), else_=1),
                "window_started_at": case(
                    (open_window, table.window_started_at), else_=insert.excluded.window_started_at
                ),
            },
        ).returning(table.failures, table.window_started_at)
        failures, started = self.session.execute(statement).one()
        return FailureCount(failures, started)

    def forget(self, key: str) -> None:
        self.session.execute(delete(SignInFailures).where(SignInFailures.key == key))

    def prune(self, *, opened_before: datetime, prefix: str = "") -> None:
        """Delete counts whose window has closed (they decide nothing any more), of the
        keys starting with ``prefix`` (any key without one)."""
        statement = delete(SignInFailures).where(SignInFailures.window_started_at < opened_before)
        if prefix:
            statement = statement.where(SignInFailures.key.startswith(prefix, autoescape=True))
        self.session.execute(statement)
