"""A process listens on one PostgreSQL connection for all its channels (the configuration's
and the kept reads' in a worker): each channel hears its own notifications whether it was
added before the connection was made or while it ran, each is told when the connection is
lost and when it listens again, and a notification read while a channel's ``LISTEN`` runs
is handed over, not lost."""

from __future__ import annotations

import select
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, make_url, text

from store.pg_listener import PgListener
from tests.support.processes import wait_until

pytestmark = pytest.mark.integration

ONE, TWO = "relaydesk_test_one", "relaydesk_test_two"
_OURS = "query LIKE 'LISTEN relaydesk_test_%' AND datname = current_database()"


class _Heard:
    def __init__(self) -> None:
        self.payloads: dict[str, list[str]] = {ONE: [], TWO: []}
        self.told: dict[str, list[bool]] = {ONE: [], TWO: []}

    def add(self, listener: PgListener, channel: str) -> None:
        listener.add(channel, self.payloads[channel].append, self.told[channel].append)


@pytest.fixture
def listener(postgres_url: str) -> Iterator[PgListener]:
    listening = PgListener(make_url(postgres_url), name="test-listener")
    yield listening
    listening.stop()


def _sql(postgres_url: str, statement: str) -> list[tuple[object, ...]]:
    engine = create_engine(postgres_url)
    try:
        with engine.begin() as conn:
            return [tuple(row) for row in conn.execute(text(statement)).all()]
    finally:
        engine.dispose()


def test_one_connection_hears_each_channel_added_before_or_after_it_connects(
    listener: PgListener, postgres_url: str
) -> None:
    heard = _Heard()
    heard.add(listener, ONE)
    listener.start()
    assert listener.listening.wait(10)
    heard.add(listener, TWO)  # while it runs: listened on at its next look
    wait_until(listener.listening.is_set, 10)
    _sql(postgres_url, f"SELECT pg_notify('{ONE}', 'a'), pg_notify('{TWO}', 'b')")
    wait_until(lambda: heard.payloads == {ONE: ["a"], TWO: ["b"]}, 10)
    assert heard.told == {ONE: [True], TWO: [True]}
    ours = f"SELECT count(*) FROM pg_stat_activity WHERE {_OURS}"  # (an earlier test's may
    wait_until(lambda: _sql(postgres_url, ours) == [(1,)], 10)  # still be on its way out)


def test_a_cut_connection_tells_every_channel_and_listens_on_all_of_them_again(
    listener: PgListener, postgres_url: str
) -> None:
    heard = _Heard()
    heard.add(listener, ONE)
    heard.add(listener, TWO)
    listener.start()
    assert listener.listening.wait(10)
    cut = _sql(postgres_url, f"SELECT pg_terminate_backend({listener.backend_pid})")
    assert cut == [(True,)]
    wait_until(lambda: heard.told == {ONE: [True, False, True], TWO: [True, False, True]}, 10)
    wait_until(listener.listening.is_set, 10)
    _sql(postgres_url, f"SELECT pg_notify('{ONE}', 'c'), pg_notify('{TWO}', 'd')")
    wait_until(lambda: heard.payloads == {ONE: ["c"], TWO: ["d"]}, 10)


def test_a_notification_read_while_a_new_channel_is_listened_on_is_handed_over(
    listener: PgListener, postgres_url: str
) -> None:
    """The thread runs a new channel's ``LISTEN`` on the live connection; psycopg reads
    what came for the others meanwhile and hands it to the connection's notify handler
    (not to ``pgconn.notifies()``): it must reach its channel, or a change is missed."""
    heard = _Heard()
    heard.add(listener, ONE)
    listener.start()
    assert listener.listening.wait(10)
    with listener._handing:  # the thread may neither read the socket nor listen meanwhile
        heard.add(listener, TWO)
        time.sleep(1.0)  # past its next looks (every 0.25 s): it waits to run the LISTEN
        _sql(postgres_url, f"SELECT pg_notify('{ONE}', 'e')")
        sock = listener._socket
        assert sock is not None
        assert select.select([sock], [], [], 10)[0]  # in the socket before the LISTEN runs
    wait_until(listener.listening.is_set, 10)
    wait_until(lambda: heard.payloads[ONE] == ["e"], 10)
    assert heard.told == {ONE: [True], TWO: [True]}


def test_while_a_listen_is_under_way_unheard_answers_at_once(
    listener: PgListener, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker thread asks ``unheard`` before each message: a LISTEN held up on the network
    (a channel added, a reconnect) must not hold the thread up; it is told to read."""
    import psycopg

    heard = _Heard()
    heard.add(listener, ONE)
    listener.start()
    assert listener.listening.wait(10)
    in_listen, let_go = threading.Event(), threading.Event()
    execute = psycopg.Connection.execute

    def slow(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        if str(query) == f"LISTEN {TWO}":  # the database's answer is slow to come
            in_listen.set()
            let_go.wait(10)
        return execute(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "execute", slow)
    heard.add(listener, TWO)
    assert in_listen.wait(10)
    asked = time.monotonic()
    assert listener.unheard()  # read: the LISTEN's answer may bring a notification
    assert time.monotonic() - asked < 0.5
    let_go.set()
    wait_until(listener.listening.is_set, 10)
    _sql(postgres_url, f"SELECT pg_notify('{ONE}', 'f'), pg_notify('{TWO}', 'g')")
    wait_until(lambda: heard.payloads == {ONE: ["f"], TWO: ["g"]}, 10)


def test_an_owner_that_raises_leaves_the_connection_and_the_others_alone(
    listener: PgListener, postgres_url: str
) -> None:
    heard = _Heard()
    failing: list[str] = []

    def fails(payload: str) -> None:
        failing.append(payload)
        raise RuntimeError("an owner's bug")

    listener.add(ONE, fails, heard.told[ONE].append)
    heard.add(listener, TWO)
    listener.start()
    assert listener.listening.wait(10)
    pid = listener.backend_pid
    _sql(postgres_url, f"SELECT pg_notify('{ONE}', 'h'), pg_notify('{TWO}', 'i')")
    _sql(postgres_url, f"SELECT pg_notify('{ONE}', 'j'), pg_notify('{TWO}', 'k')")
    wait_until(lambda: heard.payloads[TWO] == ["i", "k"], 10)
    assert failing == ["h", "j"]
    assert heard.told == {ONE: [True], TWO: [True]}  # never lost: not reconnected
    assert listener.backend_pid == pid
