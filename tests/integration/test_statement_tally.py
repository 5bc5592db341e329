"""A process's statements and commits counted (``Database.count_statements``), on both
databases: what a worker process reports when it stops."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from router.envelopes import InboundMessage
from router.vocabulary import Channel, RowState
from store.db import Database

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
