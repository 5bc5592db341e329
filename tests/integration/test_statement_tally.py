"""A process's statements and commits counted (``Database.count_statements``), on both
databases: what a worker process reports when it stops."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from router.envelopes import InboundMessage
from router.vocabulary import Channel, RowState
from store.db import Database
from store.dialect import insert_rows
from store.models import InboxItem

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_statements_and_commits_are_counted_on_both_engines_from_the_moment_asked(
    db: Database,
) -> None:
    with db.unit_of_work() as uow:  # before: not counted
        uow.session.execute(text("SELECT 1"))
    with db.reading() as session:  # (and each engine's first connection's own look-ups)
        session.execute(text("SELECT 0"))
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


def test_values_with_nul_are_stored_without_it_and_each_statement_is_counted_once(
    db: Database,
) -> None:
    """The NUL guard sends such a statement itself (``store.nul_guard``): counted all the
    same, a single one and an ``executemany`` alike."""
    with db.unit_of_work() as uow:
        ids = [
            uow.inbox.accept(
                InboundMessage(
                    channel=Channel.WEB,
                    idempotency_key=key,
                    sender_address="jo@example.org",
                    body_text="hello",
                ),
                now=NOW,
                redrive_after=timedelta(minutes=1),
            ).inbox_id
            for key in ("k1", "k2")
        ]
    tally = db.count_statements()
    with db.unit_of_work() as uow:
        said = uow.session.execute(text("SELECT :said"), {"said": "a\x00b"}).scalar_one()
        for inbox_id in ids:  # written at the commit, in one executemany
            uow.inbox.finish(inbox_id, state=RowState.QUIET, ticket_id=None, now=NOW, why="x\x00y")
    begins = 1 if db.dialect == "sqlite" else 0
    assert (said, tally.statements, tally.commits) == ("ab", 2 + begins, 1)
    with db.unit_of_work() as uow:
        assert [getattr(uow.inbox.get(i), "error", None) for i in ids] == ["xy", "xy"]


def test_many_rows_with_nul_in_one_insert_are_stored_without_it(db: Database) -> None:
    """insertmanyvalues (one multi-row INSERT ... RETURNING on PostgreSQL) goes through the
    guard too: its own loop calls the dialect, not ``do_executemany``."""
    rows: list[dict[str, object]] = [
        {
            "channel": "web",
            "idempotency_key": f"n{i}",
            "payload": {"body_text": "b\x00c"},
            "state": "done",
            "attempts": 1,
            "error": f"e\x00{i}",
            "received_at": NOW,
            "updated_at": NOW,
            "available_at": NOW,
        }
        for i in range(3)
    ]
    with db.unit_of_work() as uow:  # the engine's first connection's look-ups: not counted
        uow.session.execute(text("SELECT 1"))
    tally = db.count_statements()
    with db.unit_of_work() as uow:
        ids = insert_rows(uow.session, InboxItem, rows)
    begins = 1 if db.dialect == "sqlite" else 0
    one_or_each = 1 if db.dialect == "postgresql" else len(rows)  # SQLite: a row at a time
    assert (tally.statements, tally.commits) == (one_or_each + begins, 1)
    with db.unit_of_work() as uow:
        assert [getattr(uow.inbox.get(i), "error", None) for i in ids] == ["e0", "e1", "e2"]


def test_no_listener_on_the_engines(db: Database) -> None:
    """A listener on an engine makes each of its connections join the engine's events and
    look each one up again, about a fifth more of a transaction's instructions (docs/
    performance.md, "A transaction's fixed cost"): the guard and the tally are on the
    dialects. SQLite's engine listens for its BEGIN IMMEDIATE alone."""
    db.count_statements()
    for engine in {db.engine, db.read_engine}:
        if db.dialect == "postgresql":
            assert not engine._has_events
        for name in ("before_cursor_execute", "after_cursor_execute", "commit", "rollback"):
            assert not list(getattr(engine.dispatch, name)), name
