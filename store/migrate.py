"""Apply the Alembic migrations shipped in ``store/migrations`` to a database."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text

from store.db import Database

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported where a migration is applied or the scripts are read, not with this
# module: every process imports it (readiness checks its revision), few migrate.

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision``; safe to run again (a no-op when current)."""
    if revision == "head" and current_revision(db) == head_revision():
        return  # the scripts are read only when there is something to apply
    from alembic import command

    cfg = alembic_config(db.url)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        row = conn.exec_driver_sql("SELECT version_num FROM alembic_version").first()
        return row[0] if row else None


@cache
def head_revision() -> str | None:
    """The newest migration shipped with this code (read once: reading the scripts takes
    a tenth of a second, and they do not change under a running process)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def ping(db: Database) -> None:
    """Raise unless the database answers a query."""
    with db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
