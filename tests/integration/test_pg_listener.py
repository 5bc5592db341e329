"""A process listens on one PostgreSQL connection for all its channels (the configuration's
and the kept reads' in a worker): each channel hears its own notifications whether it was
added before the connection was made or while it ran, each is told when the connection is
lost and when it listens again, and a notification read while a channel's ``LISTEN`` runs
is handed over, not lost."""

from __future__ import annotations

import select
import time
from collections.abc import Iterator

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
    assert _sql(postgres_url, f"SELECT count(*) FROM pg_stat_activity WHERE {_OURS}") == [(1,)]


def test_a_cut_connection_tells_every_channel_and_listens_on_all_of_them_again(
    listener: PgListener, postgres_url: str
) -> None:
    heard = _Heard()
    heard.add(listener, ONE)
    heard.add(listener, TWO)
    listener.start()
    assert listener.listening.wait(10)
    cut = _sql(
        postgres_url, f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE {_OURS}"
    )
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
