"""``Database.one_statement``: a transaction that is one statement, said so and checked, on
both databases (on PostgreSQL in autocommit, committed as it runs)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select, text

from store.db import Database
from store.models import ProcessBeat
from store.one_statement import NotOneStatement

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _beat(holder: str) -> dict[str, object]:
    return {
        "holder": holder,
        "kind": "worker",
        "host": "h",
        "pid": 1,
        "queues": "",
        "started_at": NOW,
        "beat_at": NOW,
    }


def _beats(db: Database) -> int:
    with db.engine.connect() as other:  # another connection: what is committed
        return int(other.execute(select(func.count()).select_from(ProcessBeat)).scalar_one())


def test_a_second_statement_raises_before_it_is_sent(db: Database) -> None:
    with db.read_engine.connect(), db.engine.connect():  # (first connections: look-ups)
        pass
    tally = db.count_statements()
    with pytest.raises(NotOneStatement), db.one_statement() as statement:
        statement.execute(insert(ProcessBeat), _beat("a"))
        statement.execute(insert(ProcessBeat), _beat("b"))
    begins = 0 if db.dialect == "postgresql" else 1  # SQLite's BEGIN IMMEDIATE
    assert tally.statements == 1 + begins
    # PostgreSQL committed the first as it ran; SQLite's transaction was rolled back
    assert _beats(db) == (1 if db.dialect == "postgresql" else 0)


def test_the_statement_is_committed_by_the_end_of_the_block(db: Database) -> None:
    with db.one_statement() as statement:
        statement.execute(insert(ProcessBeat), _beat("a"))
        if db.dialect == "postgresql":  # in autocommit: committed as it ran
            assert _beats(db) == 1
    assert _beats(db) == 1


def test_on_postgresql_no_transaction_is_begun_or_committed_around_it(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SQLite runs it in a transaction")
    with db.read_engine.connect():  # (a first connection counts the dialect's look-ups)
        pass
    tally = db.count_statements()
    with db.one_statement() as statement:
        statement.execute(insert(ProcessBeat), _beat("a"))
    assert (tally.statements, tally.commits) == (1, 0)


_BEAT_HOLDERS = text("SELECT holder FROM process_beats ORDER BY holder")


def test_a_text_select_returns_its_rows_each_time(db: Database) -> None:
    for holder in ("a", "b"):
        with db.one_statement() as statement:
            statement.execute(insert(ProcessBeat), _beat(holder))
    for _ in range(3):  # the first through SQLAlchemy, then (PostgreSQL) the driver's cursor
        with db.one_statement() as statement:
            assert list(statement.execute(_BEAT_HOLDERS).all()) == [("a",), ("b",)]
