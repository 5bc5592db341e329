"""A copy of a desk's database to try things on: SQLite's file through sqlite3's backup,
PostgreSQL's through CREATE DATABASE ... TEMPLATE; dropped afterwards."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.support.services import PG_ADMIN_URL, create_database


@contextmanager
def copy_of(url: str) -> Iterator[str]:
    """A copy of the desk at ``url``, dropped afterwards."""
    if url.startswith("sqlite"):
        source = make_url(url).database
        assert source is not None
        target = f"{source}.copy"
        with closing(sqlite3.connect(source)) as one, closing(sqlite3.connect(target)) as two:
            one.backup(two)
        yield f"sqlite:///{target}"
        return
    name = make_url(url).database
    copy = f"copy_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            create_database(conn, copy, template=name)
        yield url.rsplit("/", 1)[0] + f"/{copy}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)'))
        admin.dispose()
