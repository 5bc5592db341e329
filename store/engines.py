"""The engines a ``Database`` opens: the one for units of work (SQLite tuned for WAL and
``BEGIN IMMEDIATE``), and on PostgreSQL the reads' own."""

from __future__ import annotations

import os
from typing import Any

import psycopg
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url

from store import nul_guard
from store.report_sql import register_report_functions


def make_engine(url: str, *, pool_size: int = 5) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            pool_size=pool_size,
            json_serializer=nul_guard.json_dumps,
        )
        _tune_sqlite(engine)
    else:
        # no pre-ping (a round trip per transaction): a dropped connection fails the
        # step, which is retried, and the pool replaces the connection
        engine = create_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_recycle=1800,
            json_serializer=nul_guard.json_dumps,
            paramstyle="numeric_dollar",
        )
        _server_placeholders(engine)
    nul_guard.install(engine)
    return engine


def make_read_engine(url: str, pool_size: int) -> Engine:
    """PostgreSQL: connections for ``Database.reading``, in autocommit, where a plan never
    starts parallel workers: the reads are short index walks, and starting the workers
    cost more than the walk (40 to 70 ms a list on a loaded machine) and spared nothing.
    Reports and other long reads use ``Database.engine``, where parallel plans stay."""
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=1800,
        isolation_level="AUTOCOMMIT",
        connect_args={"options": _options(url, "-c max_parallel_workers_per_gather=0")},
        json_serializer=nul_guard.json_dumps,
        paramstyle="numeric_dollar",
    )
    _server_placeholders(engine)
    nul_guard.install(engine)
    return engine


def _server_placeholders(engine: Engine) -> None:
    """PostgreSQL: a statement goes to the server as SQLAlchemy writes it, with the
    server's own placeholders (``$1``: the engine's ``paramstyle``, psycopg's raw cursors),
    not with ``%(name)s`` ones that psycopg parses into those again. psycopg keeps the
    parse of a statement of up to 4 KiB and 50 parameters, not of a longer one: a batch's
    multi-row INSERT (ingest's tickets, messages, audit events and acknowledgements, an
    IMAP fetch's inbox rows) was parsed anew, a regular expression over its 5-17 KiB,
    every time it was sent (docs/performance.md, "Email intake, a fifth pass")."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.cursor_factory = psycopg.RawCursor
        dbapi_conn.server_cursor_factory = psycopg.RawServerCursor  # stream_results


def _options(url: str, ours: str) -> str:
    """libpq's ``options`` for an engine of our own: the deployment's (the URL's
    ``options``, else the PGOPTIONS environment variable, which a given ``options``
    would silence) and then ours, so a search_path or a timeout set there still holds."""
    theirs = make_url(url).query.get("options") or os.environ.get("PGOPTIONS", "")
    if not isinstance(theirs, str):  # (given more than once: the last, as libpq would)
        theirs = theirs[-1]
    return f"{theirs} {ours}".strip()


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let SQLAlchemy's BEGIN below take over
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        register_report_functions(dbapi_conn)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
