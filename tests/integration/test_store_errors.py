"""What a database failure means: an outage is transient, a refused value is not, on both stores."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from router.errors import PermanentError, TransientError
from store.db import Database
from store.errors import RefusedValue, store_errors

pytestmark = pytest.mark.integration


def test_a_database_that_cannot_be_reached_is_an_outage(tmp_path: Path) -> None:
    for url in (
        "postgresql+psycopg://postgres@127.0.0.1:1/nothing_listens_here",
        f"sqlite:///{tmp_path / 'no-such-folder' / 'relaydesk.db'}",
    ):
        db = Database(url)
        with (
            pytest.raises(TransientError, match="unavailable \\(reading\\)"),
            store_errors("reading"),
            db.unit_of_work() as uow,
        ):
            uow.session.execute(text("SELECT 1"))
        db.dispose()


def test_a_duplicate_key_is_a_refused_value_never_an_outage(db: Database) -> None:
    with db.unit_of_work() as uow:
        uow.session.execute(text("INSERT INTO teams (id, name) VALUES (1, 'one')"))
    with (
        pytest.raises(RefusedValue, match="refused a value \\(adding a team\\)") as caught,
        store_errors("adding a team"),
        db.unit_of_work() as uow,
    ):
        uow.session.execute(text("INSERT INTO teams (id, name) VALUES (1, 'again')"))
    assert isinstance(caught.value, PermanentError)
    assert not isinstance(caught.value, TransientError)


def test_a_number_out_of_a_columns_range_is_a_refused_value_on_postgresql(
    database_url: str,
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite keeps any 64-bit integer")
    db = Database(database_url)
    with (
        pytest.raises(RefusedValue, match="out of range"),
        store_errors("reading ticket"),
        db.unit_of_work() as uow,
    ):
        uow.session.execute(text("SELECT CAST(:n AS INTEGER)"), {"n": 2**31})
    db.dispose()


def test_a_programming_error_goes_up_as_it_is(database_url: str) -> None:
    db = Database(database_url)
    with (
        pytest.raises(SQLAlchemyError) as caught,
        store_errors("reading"),
        db.unit_of_work() as uow,
    ):
        uow.session.execute(text("SELEC nothing"))
    assert not isinstance(caught.value, TransientError | PermanentError)
    db.dispose()
