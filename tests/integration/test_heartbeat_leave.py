"""A process that stops leaves the list of running processes for good: a beat still under
way when the stop gave up waiting for its thread (a slow store) finishes before the row is
removed, and no beat begins after, so the row is not written again after its removal."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from tests.conftest import make_settings
from tests.support.desk import Desk, desk_for
from workers.runtime.heartbeat import Heartbeat


@pytest.fixture
def desk(database_url: str) -> Iterator[Desk]:
    yield from desk_for(make_settings(database_url, RELAYDESK_SCHEDULER__HEARTBEAT_S="0.05"))


def _rows(desk: Desk) -> list[str]:
    with desk.runtime.db.unit_of_work() as uow:
        return [b.holder for b in uow.process_beats.all()]


def test_a_beat_under_way_at_the_stop_does_not_bring_the_row_back(desk: Desk) -> None:
    heartbeat = Heartbeat(desk.runtime, "worker", ["ingest.web"])
    real_beat = heartbeat.beat
    in_beat, let_go = threading.Event(), threading.Event()

    def slow_beat() -> None:  # the thread's beats hang, as on a store that does not answer
        if threading.current_thread().name == "heartbeat":
            in_beat.set()
            let_go.wait(10)
        real_beat()

    heartbeat.beat = slow_beat  # type: ignore[method-assign]
    heartbeat.start()  # the first beat, on this thread: the row is made
    assert _rows(desk) == [heartbeat.me.holder]
    assert in_beat.wait(10)  # the thread's next beat is under way
    stopping = threading.Thread(target=lambda: heartbeat.stop(wait_s=1.0))
    stopping.start()
    stopping.join(1.5)  # past the wait for the thread: the leaving waits for its beat
    assert stopping.is_alive()
    let_go.set()  # the beat writes its row; then the leaving removes it
    stopping.join(10)
    assert not stopping.is_alive()
    assert heartbeat._thread is not None
    heartbeat._thread.join(10)
    assert _rows(desk) == []


def test_a_beat_stuck_past_the_wait_leaves_the_row_to_go_quiet(desk: Desk) -> None:
    heartbeat = Heartbeat(desk.runtime, "worker", ["ingest.web"])
    real_beat = heartbeat.beat
    in_beat, let_go = threading.Event(), threading.Event()

    def stuck_beat() -> None:
        if threading.current_thread().name == "heartbeat":
            in_beat.set()
            let_go.wait(10)
        real_beat()

    heartbeat.beat = stuck_beat  # type: ignore[method-assign]
    heartbeat.start()
    assert in_beat.wait(10)
    heartbeat.stop(wait_s=0.2)  # gives up: the stuck beat holds the row
    let_go.set()
    assert heartbeat._thread is not None
    heartbeat._thread.join(10)
    assert _rows(desk) == [heartbeat.me.holder]  # quiet soon: taken as a dead one's
