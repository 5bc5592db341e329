"""A worker process pays no transaction per message to learn the configuration version:
on PostgreSQL it listens for changes and reads the store only after one is heard (or
after its listener reconnected); on SQLite it reads before every message, as before.
Either way the message after a reload is decided by the new version."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest
from sqlalchemy import event, text

from router.vocabulary import ConfigAction
from tests.conftest import make_settings
from tests.support.processes import wait_until
from workers.desk.config_changes import apply_at_start, apply_settings
from workers.runtime.build import build_runtime
from workers.runtime.config_follow import ConfigPin
from workers.runtime.context import Runtime

pytestmark = pytest.mark.integration


@pytest.fixture
def worker(database_url: str) -> Iterator[Runtime]:
    runtime = build_runtime(make_settings(database_url), pool_size=2)
    apply_at_start(runtime, "test")
    yield runtime
    runtime.close()


def _statements(runtime: Runtime) -> list[str]:
    seen: list[str] = []
    event.listen(
        runtime.db.engine, "before_cursor_execute", lambda *a, **_k: seen.append(a[2]), named=False
    )
    return seen


def _message(pin: ConfigPin, runtime: Runtime) -> str:
    """One broker message's worth of pinning: the version it is decided by."""
    pin.before_process_message(runtime.broker, cast(Any, None))
    try:
        return runtime.config_version
    finally:
        pin.after_process_message(runtime.broker, cast(Any, None))


def _apply_urgent(database_url: str, priority: str = "urgent") -> str:
    candidate = make_settings(database_url, relaydesk_helpdesk__default_priority=priority)
    operator = build_runtime(candidate, pool_size=1)
    try:
        return apply_settings(
            operator, candidate, action=ConfigAction.RELOAD, applied_by="lead@desk"
        ).version
    finally:
        operator.close()


def test_a_listening_worker_reads_the_version_only_after_a_change_is_heard(
    worker: Runtime, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no LISTEN: covered by the next test")
    pin = ConfigPin(worker)
    pin.after_process_boot(worker.broker)  # what a worker process does as it starts
    listener = worker.db.listen_for_config_changes()
    assert listener is not None and listener.listening.wait(10)
    first = _message(pin, worker)  # the one read after connecting
    statements = _statements(worker)
    for _ in range(20):
        assert _message(pin, worker) == first
    assert statements == []  # not a statement for twenty messages

    urgent = _apply_urgent(database_url)
    wait_until(worker.db.config_watch.must_read, 10)  # the NOTIFY came with the commit
    assert _message(pin, worker) == urgent
    assert any("config_changes" in s for s in statements)
    statements.clear()
    for round_ in range(10):  # once the NOTIFY reached the socket, handed over or not yet
        handed = listener.handed
        version = _apply_urgent(database_url, ("low", "urgent")[round_ % 2])
        wait_until(lambda: listener.handed > handed or listener.unheard(), 10)  # noqa: B023
        assert _message(pin, worker) == version, round_
        wait_until(lambda: listener.handed > handed, 10)  # noqa: B023
    _message(pin, worker)  # (reads once more if the last NOTIFY was handed over after)
    statements.clear()
    assert _message(pin, worker) == urgent
    assert statements == []


def test_a_worker_whose_listener_was_cut_reads_again_and_misses_no_change(
    worker: Runtime, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no LISTEN")
    pin = ConfigPin(worker)
    pin.after_process_boot(worker.broker)
    listener = worker.db.listen_for_config_changes()
    assert listener is not None and listener.listening.wait(10)
    assert worker.db.listen_for_kept_reads() is listener  # one connection for both
    kept = worker.db.kept_reads._watches.values()
    _message(pin, worker)
    assert not worker.db.config_watch.must_read()
    assert all(watch.listens() for watch in kept)
    with worker.db.engine.connect() as conn:  # the LISTEN connection dies
        cut = conn.execute(
            text("SELECT pg_terminate_backend(:pid)"), {"pid": listener.backend_pid}
        ).all()
    assert cut == [(True,)]  # (one: the kept reads' channel is on it too)
    wait_until(worker.db.config_watch.must_read, 10)  # reads before every message meanwhile
    # and every kept read reads (each watch is told in turn, just after the config watch)
    wait_until(lambda: not any(watch.listens() for watch in kept), 10)
    urgent = _apply_urgent(database_url)  # maybe while nobody listened
    assert _message(pin, worker) == urgent
    wait_until(lambda: listener.listening.is_set(), 10)
    assert all(watch.listens() for watch in kept)  # both channels listened on again


def test_without_a_listener_every_message_reads_the_store_and_the_next_one_follows_a_reload(
    worker: Runtime, database_url: str
) -> None:
    pin = ConfigPin(worker)  # an embedded desk: no process boot, no listener
    first = _message(pin, worker)
    statements = _statements(worker)
    assert _message(pin, worker) == first
    assert any("config_changes" in s for s in statements)
    urgent = _apply_urgent(database_url)
    assert _message(pin, worker) == urgent  # the very next message
