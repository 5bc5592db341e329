"""Many row ids in one broker message: gathered per block, or within a short window."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from dramatiq import Message

from workers.runtime.batching import Gathering, SendWindow, chunks, ids_of
from workers.runtime.tally import MessageTally


@dataclass(frozen=True)
class FakeActor:
    actor_name: str


class Sent:
    def __init__(self) -> None:
        self.messages: list[tuple[str, int | list[int]]] = []
        self.lock = threading.Lock()

    def __call__(self, actor: FakeActor, ids: int | list[int]) -> None:
        with self.lock:
            self.messages.append((actor.actor_name, ids))


INGEST, ROUTE = FakeActor("ingest_web"), FakeActor("route_ticket")


def test_ids_of_takes_one_id_or_a_list_in_order_each_once() -> None:
    assert ids_of(7) == [7]
    assert ids_of([3, 1, 3, 2]) == [3, 1, 2]
    assert list(chunks([1, 2, 3, 4, 5], 2)) == [[1, 2], [3, 4], [5]]


def test_sends_in_a_block_go_out_at_its_end_one_message_per_actor() -> None:
    sent = Sent()
    gathering = Gathering(sent, max_ids=3)  # type: ignore[arg-type]
    assert not gathering.hold(INGEST, 1)  # type: ignore[arg-type]  # no block: not held
    with gathering.block():
        for i in (1, 2, 2, 3, 4):
            assert gathering.hold(ROUTE, i)  # type: ignore[arg-type]
        with gathering.block():  # nested: the outer block sends
            assert gathering.hold(INGEST, 9)  # type: ignore[arg-type]
        assert sent.messages == []
    assert sent.messages == [("route_ticket", [1, 2, 3]), ("route_ticket", 4), ("ingest_web", 9)]


def test_a_block_is_per_thread() -> None:
    sent = Sent()
    gathering = Gathering(sent, max_ids=50)  # type: ignore[arg-type]
    other: list[bool] = []
    with gathering.block():
        thread = threading.Thread(target=lambda: other.append(gathering.hold(ROUTE, 1)))  # type: ignore[arg-type]
        thread.start()
        thread.join()
    assert other == [False]


def test_a_block_that_raises_still_sends_what_was_committed_before() -> None:
    sent = Sent()
    gathering = Gathering(sent, max_ids=50)  # type: ignore[arg-type]
    try:
        with gathering.block():
            gathering.hold(ROUTE, 5)  # type: ignore[arg-type]
            raise RuntimeError("later work failed")
    except RuntimeError:
        pass
    assert sent.messages == [("route_ticket", 5)]


def test_ids_sent_from_many_threads_within_the_window_share_a_message() -> None:
    sent = Sent()
    window = SendWindow(sent, window_s=0.2, max_ids=100)  # type: ignore[arg-type]
    threads = [threading.Thread(target=window.add, args=(INGEST, i)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    deadline = time.monotonic() + 5
    while not sent.messages and time.monotonic() < deadline:
        time.sleep(0.01)
    window.close()
    assert len(sent.messages) == 1
    name, ids = sent.messages[0]
    assert name == "ingest_web" and sorted(ids) == list(range(10))  # type: ignore[arg-type]


def test_a_full_window_goes_at_once_and_close_sends_the_rest() -> None:
    sent = Sent()
    window = SendWindow(sent, window_s=60, max_ids=3)  # type: ignore[arg-type]
    for i in range(4):
        window.add(INGEST, i)  # type: ignore[arg-type]
    assert sent.messages == [("ingest_web", [0, 1, 2])]  # without waiting a minute
    window.close()
    assert sent.messages[-1] == ("ingest_web", 3)
    window.add(ROUTE, 8)  # type: ignore[arg-type]  # closed: sent at once
    assert sent.messages[-1] == ("route_ticket", 8)


def _sent_after(sent: Sent, count: int) -> None:
    """Wait (5 s at most) until ``count`` messages went out."""
    deadline = time.monotonic() + 5
    while len(sent.messages) < count and time.monotonic() < deadline:
        time.sleep(0.005)
    assert len(sent.messages) == count


def test_windows_that_gather_many_ids_widen_the_next_up_to_four_times() -> None:
    sent = Sent()
    window = SendWindow(sent, window_s=0.02, max_ids=100)  # type: ignore[arg-type]
    waits = [window.waiting_s]
    for burst in range(4):
        window.add(INGEST, 2 * burst)  # type: ignore[arg-type]
        window.add(INGEST, 2 * burst + 1)  # type: ignore[arg-type]
        _sent_after(sent, burst + 1)
        waits.append(window.waiting_s)
    window.close()

    assert waits == [0.02, 0.04, 0.08, 0.08, 0.08]
    assert sent.messages[0] == ("ingest_web", [0, 1])


def test_an_id_that_comes_alone_brings_the_window_back_to_its_width() -> None:
    sent = Sent()
    window = SendWindow(sent, window_s=0.02, max_ids=100)  # type: ignore[arg-type]
    window.add(INGEST, 1)  # type: ignore[arg-type]
    window.add(INGEST, 2)  # type: ignore[arg-type]
    _sent_after(sent, 1)
    widened = window.waiting_s
    window.add(INGEST, 3)  # type: ignore[arg-type]
    _sent_after(sent, 2)
    window.close()

    assert (widened, window.waiting_s) == (0.04, 0.02)
    assert sent.messages == [("ingest_web", [1, 2]), ("ingest_web", 3)]


def test_a_full_window_widens_the_next() -> None:
    sent = Sent()
    window = SendWindow(sent, window_s=10, max_ids=2, widest_s=15)  # type: ignore[arg-type]
    window.add(INGEST, 1)  # type: ignore[arg-type]
    window.add(INGEST, 2)  # type: ignore[arg-type]

    assert sent.messages == [("ingest_web", [1, 2])]  # full: at once
    assert window.waiting_s == 15  # doubled, up to the widest
    window.close()


def test_the_id_after_a_full_window_waits_for_the_widened_window() -> None:
    sent = Sent()
    window = SendWindow(sent, window_s=0.1, max_ids=2)  # type: ignore[arg-type]
    window.add(INGEST, 1)  # type: ignore[arg-type]
    time.sleep(0.03)  # the window's thread is waiting out 1's window
    window.add(INGEST, 2)  # type: ignore[arg-type]  # full: at once; the window doubles
    began = time.monotonic()
    window.add(INGEST, 3)  # type: ignore[arg-type]
    window.add(INGEST, 4)  # type: ignore[arg-type]  # full again, before the window ends
    window.add(INGEST, 5)  # type: ignore[arg-type]
    _sent_after(sent, 3)
    waited = time.monotonic() - began
    window.close()

    assert sent.messages == [("ingest_web", [1, 2]), ("ingest_web", [3, 4]), ("ingest_web", 5)]
    assert waited >= 0.35  # 5 waited out its window (0.4 s), not sent when it came


def test_a_pause_brings_the_window_back_to_its_width() -> None:
    sent = Sent()
    window = SendWindow(sent, window_s=0.02, max_ids=100)  # type: ignore[arg-type]
    window.add(INGEST, 1)  # type: ignore[arg-type]
    window.add(INGEST, 2)  # type: ignore[arg-type]
    _sent_after(sent, 1)
    assert window.waiting_s == 0.04
    time.sleep(0.1)  # longer than the window: the desk went quiet
    window.add(INGEST, 3)  # type: ignore[arg-type]
    assert window.waiting_s == 0.02  # its window is the narrow one
    _sent_after(sent, 2)
    window.close()


def test_the_tally_counts_messages_and_the_rows_they_carry() -> None:
    tally = MessageTally()
    for args in ((1,), ([2, 3, 4],), ([5, 6],)):
        tally.after_process_message(None, Message("q", "ingest_web", args, {}, {}))  # type: ignore[arg-type]
    tally.after_process_message(None, Message("q", "route_ticket", (7, 1), {}, {}))  # type: ignore[arg-type]
    assert tally.summary() == (
        "processed 4 messages carrying 7 rows: ingest_web 3/6, route_ticket 1/1"
    )
