"""A process's statements and commits counted (``Database.count_statements``), on both
databases: what a worker process reports when it stops."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from store.db import Database


def test_statements_and_commits_are_counted_on_both_engines_from_the_moment_asked(
    db: Database,
) -> None:
    with db.unit_of_work() as uow:  # before: not counted
        uow.session.execute(text("SELECT 1"))
    tally = db.count_statements()
    with db.unit_of_work() as uow:
        uow.session.execute(text("SELECT 1"))
        uow.session.execute(text("SELECT 2"))
    with db.reading() as session:  # the read pool (its own engine on PostgreSQL)
        session.execute(text("SELECT 3"))
    with pytest.raises(RuntimeError), db.unit_of_work() as uow:  # rolled back: no commit
        uow.session.execute(text("SELECT 4"))
        raise RuntimeError
    begins = 3 if db.dialect == "sqlite" else 0  # SQLite's BEGIN IMMEDIATE is sent too
    assert tally.statements == 4 + begins
    assert tally.commits == 1  # a read commits nothing (rolled back on SQLite)
    assert tally.summary() == f"{tally.statements} statements, {tally.commits} commits"
