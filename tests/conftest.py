"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, settings, a runtime."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text

from config import load_settings
from config.settings import Settings
from store.db import Database
from store.migrate import upgrade
from store.models import Base
from tests.support.browser import browser, page  # noqa: F401  (fixtures)
from tests.support.dovecot_fixtures import dovecot, imap_mailbox  # noqa: F401  (fixtures)
from tests.support.fixtures import smtp_sink  # noqa: F401  (a fixture)
from tests.support.redis_server import redis_url  # noqa: F401  (a fixture)
from tests.support.services import fresh_postgres_database
from tests.support.telegram_desk import chat  # noqa: F401  (a fixture)
from tests.support.telegram_server import telegram_server  # noqa: F401  (a fixture)

# Property tests judge the code, not the machine: on a busy 2-core machine drawing a big example
# can take longer than Hypothesis' health check allows, so that check and the per-example
# deadline are off for every property test (each test's own settings still apply on top).
hypothesis_settings.register_profile(
    "relaydesk", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("relaydesk")

# The longest files first. With --dist loadfile a file runs whole in one process, in the order
# collected; a long file handed out last decides how long the whole run takes, so these (the
# longest in measured runs) are handed out first and the short ones fill in around them.
# (pytest-xdist would otherwise reorder the files by their number of tests, most first: the
# fuzz files, one test each, went last and ran alone for the run's last minutes; see
# pytest_configure below.)
LONGEST_FIRST = (
    # three of the staff OpenAPI fuzz's four files, a third each (tests/support/staff_fuzz.py)
    "test_staff_openapi_fuzz_tools.py",
    "test_staff_openapi_fuzz_people.py",
    "test_staff_openapi_fuzz_desk.py",
    # pytest-xdist gives each of the three processes a second file at the start (a process
    # with two tests or fewer pending is given another file): the fourth, fifth and sixth wait
    # behind the three staff fuzz files, so they are short ones (well under a second each)
    "test_staff_fuzz_groups.py",
    "test_nul_rule.py",
    "test_texts_seam.py",
    "test_openapi_fuzz.py",
    "test_staff_openapi_sequences.py",
    "test_benchmarks.py",
    # the board's and the reports' reads: the staff fuzz's fourth group, about a fifth of
    # one of the three (82-164 s measured)
    "test_staff_openapi_fuzz_reads.py",
    "test_benchmarks_edges.py",
    "test_staff_permissions.py",
    "test_benchmarks_readers.py",
    "test_reports_store.py",
    "test_distributed.py",
    "test_routing_stress.py",
    "test_faults.py",
    "test_telegram_distributed.py",
    "test_staff_api.py",
    "test_workspace_actions.py",
    "test_workspace_reports.py",
    "test_telegram.py",
    "test_demo_seed.py",
    "test_reports_api.py",
    "test_simulation_matches_live.py",
    "test_simulation_jobs_distributed.py",
    "test_pilot_simulation_matches_live.py",
    "test_config_reload_fleet.py",
    "test_staff_tickets.py",
    "test_email_pipeline.py",
    "test_cli.py",
    "test_ticket_search.py",
    "test_workspace_shell.py",
    "test_staff_ticket_actions.py",
    "test_merges.py",
)


def pytest_configure(config: pytest.Config) -> None:
    # keep the order above: pytest-xdist's --dist loadfile hands out the files with the most
    # tests first unless told not to (--no-loadscope-reorder; the default since xdist 3.5)
    config.option.loadscopereorder = False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: place for place, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep order


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with fresh_postgres_database() as url:
        db = Database(url)
        upgrade(db)
        db.dispose()
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per process, copied for each test: running the
    migrations takes far longer than copying their result."""
    path = tmp_path_factory.mktemp("sqlite-template") / "relaydesk.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    db.dispose()  # the last connection closed moves the write-ahead log into the file
    assert not path.with_name(f"{path.name}-wal").exists()
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A migrated, empty SQLite database of the test's own, ``relaydesk.db`` in ``tmp_path``."""
    path = tmp_path / "relaydesk.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


def _empty(db: Database) -> None:
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def empty_postgres_url(postgres_url: str) -> str:
    """The process's migrated PostgreSQL database, emptied for the test."""
    db = Database(postgres_url)
    _empty(db)
    db.dispose()
    return postgres_url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """The same test on both first-class databases, each migrated and empty."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("empty_postgres_url"))


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url, pool_size=8)
    yield database
    database.dispose()


# retries in milliseconds, so a test sees a retry happen without waiting for it
FAST_RETRIES = {
    "relaydesk_retries__deliver__min_backoff_ms": "10",
    "relaydesk_retries__deliver__max_backoff_ms": "20",
    "relaydesk_retries__ingest__min_backoff_ms": "10",
    "relaydesk_retries__ingest__max_backoff_ms": "20",
}


def make_settings(database_url: str, **env: str) -> Settings:
    """The example settings pointed at ``database_url``, with overrides as env strings."""
    environ = {"RELAYDESK_DATABASE_URL": database_url, **{k.upper(): v for k, v in env.items()}}
    return load_settings(environ=environ)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)
