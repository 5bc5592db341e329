"""Group commit: items from many threads share a commit, each caller gets its own outcome."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future

import pytest

from workers.channels.commit_groups import CommitGroups


class Store:
    """``commit_many`` that holds its first call until released, so others queue behind."""

    def __init__(self, refuse: frozenset[int] = frozenset(), interrupt: int | None = None) -> None:
        self.calls: list[list[int]] = []
        self.refuse = refuse
        self.interrupt = interrupt  # the call (1: the first) interrupted: KeyboardInterrupt
        self.first_started = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()

    def commit_many(self, items: Sequence[int]) -> list[str]:
        with self._lock:
            self.calls.append(list(items))
            first = len(self.calls) == 1
            interrupted = len(self.calls) == self.interrupt
        if interrupted:
            raise KeyboardInterrupt
        if first:
            self.first_started.set()
            assert self.release.wait(10)
        if self.refuse & set(items):
            raise ValueError(f"refused {sorted(self.refuse & set(items))}")
        return [f"r{item}" for item in items]


def test_a_lone_caller_pays_one_commit_of_its_own_item() -> None:
    store = Store()
    store.release.set()
    groups = CommitGroups(store.commit_many)
    assert groups.submit(1) == "r1"
    assert groups.submit(2) == "r2"
    assert store.calls == [[1], [2]]


def _in_a_thread(submit: Callable[[int, int], str], item: int, size: int) -> Future[str]:
    """``submit(item, size)`` on a daemon thread: one that never returns (a waiter nobody
    wakes) fails the test at its deadline instead of holding the run at exit."""
    future: Future[str] = Future()

    def run() -> None:
        try:
            future.set_result(submit(item, size))
        except BaseException as error:  # an interruption too: the outcome under test
            future.set_exception(error)

    threading.Thread(target=run, daemon=True).start()
    return future


def _submit_behind_a_held_commit(
    store: Store, groups: CommitGroups[int, str], later: int, size: int = 0
) -> list:
    """Item 0 is being committed; ``later`` more (of ``size`` bytes each) are submitted
    meanwhile, one after another in the order of their numbers (each queued before the
    next is submitted), then it ends. Each caller's result or error, within 10 s."""
    first = _in_a_thread(groups.submit, 0, size)
    assert store.first_started.wait(10)
    rest = []
    deadline = time.monotonic() + 10
    for n in range(1, later + 1):
        rest.append(_in_a_thread(groups.submit, n, size))
        while len(groups._waiting) < n:  # queued behind the first, after n - 1
            assert time.monotonic() < deadline, "the later items never queued"
            threading.Event().wait(0.001)
    store.release.set()
    futures = [first, *rest]
    return [f.exception(10) or f.result(10) for f in futures]


def test_items_arriving_during_a_commit_share_the_next_one_and_get_their_own_results() -> None:
    store = Store()
    groups = CommitGroups(store.commit_many)
    outcomes = _submit_behind_a_held_commit(store, groups, 20)
    assert outcomes == [f"r{n}" for n in range(21)]
    assert store.calls[0] == [0]
    assert len(store.calls) == 2  # the twenty that waited: one commit
    assert sorted(store.calls[1]) == list(range(1, 21))


def test_a_group_is_bounded_by_items_and_bytes() -> None:
    store = Store()
    groups = CommitGroups(store.commit_many, max_items=8)
    outcomes = _submit_behind_a_held_commit(store, groups, 20)
    assert outcomes == [f"r{n}" for n in range(21)]
    assert [len(call) for call in store.calls] == [1, 8, 8, 4]
    store = Store()
    groups = CommitGroups(store.commit_many, max_bytes=10)
    outcomes = _submit_behind_a_held_commit(store, groups, 20, size=4)
    assert outcomes == [f"r{n}" for n in range(21)]
    assert [len(call) for call in store.calls] == [1] + [2] * 10  # 8 bytes fit, 12 do not
    store = Store()
    store.release.set()
    groups = CommitGroups(store.commit_many, max_bytes=10)
    assert groups.submit(5, size=50) == "r5"  # larger than a group: a group of its own


def test_an_item_the_store_refuses_fails_alone_and_the_rest_of_its_group_is_committed() -> None:
    store = Store(refuse=frozenset({7}))
    groups = CommitGroups(store.commit_many)
    outcomes = _submit_behind_a_held_commit(store, groups, 12)
    refused = outcomes[7]
    assert isinstance(refused, ValueError) and "refused [7]" in str(refused)
    assert [o for n, o in enumerate(outcomes) if n != 7] == [f"r{n}" for n in range(13) if n != 7]
    assert [7] in store.calls  # tried alone after its group failed


def test_an_interruption_wakes_everyone_waiting_and_the_next_caller_leads_again() -> None:
    # item 0 is committed while 1..5 wait; 1, 2, 3 are the next group, whose commit is
    # interrupted; 4 and 5, queued behind it, are the group after
    store = Store(interrupt=2)
    groups = CommitGroups(store.commit_many, max_items=3)
    outcomes = _submit_behind_a_held_commit(store, groups, 5)
    assert store.calls == [[0], [1, 2, 3], [4, 5]]
    assert outcomes[0] == "r0"
    # each of the interrupted group is woken with the interruption (its leader raises it),
    # not left waiting; those behind it are led on and committed
    assert [type(o) for o in outcomes[1:4]] == [KeyboardInterrupt] * 3
    assert outcomes[4:] == ["r4", "r5"]
    assert not groups._waiting
    # nobody leads now: the next caller commits its own item at once
    assert groups.submit(6) == "r6"
    assert store.calls[-1] == [6]
    # and an interruption of a lone caller's commit leaves no one leading either
    lone = Store(interrupt=1)
    groups = CommitGroups(lone.commit_many)
    with pytest.raises(KeyboardInterrupt):
        groups.submit(1)
    lone.release.set()
    assert groups.submit(2) == "r2"


def _when_waiting(groups: CommitGroups[int, str], count: int) -> None:
    deadline = time.monotonic() + 10
    while len(groups._waiting) < count:
        assert time.monotonic() < deadline, "the items never queued"
        threading.Event().wait(0.001)


def test_a_leader_waits_for_the_expected_items_and_commits_them_together() -> None:
    # three open SMTP sessions: the first message's commit waits for the other two
    store = Store()
    store.release.set()
    groups = CommitGroups(store.commit_many, gather_s=60)
    groups.expect(3)
    first = _in_a_thread(groups.submit, 0, 0)
    _when_waiting(groups, 1)
    second = _in_a_thread(groups.submit, 1, 0)
    _when_waiting(groups, 2)
    assert store.calls == []  # still gathering
    assert groups.submit(2) == "r2"
    assert [first.result(10), second.result(10)] == ["r0", "r1"]
    assert store.calls == [[0, 1, 2]]


def test_a_leader_gathers_no_longer_than_its_wait_nor_past_a_full_group() -> None:
    store = Store()
    store.release.set()
    groups = CommitGroups(store.commit_many, gather_s=0.01)
    groups.expect(5)  # sessions open, but only one sends
    assert groups.submit(0) == "r0"
    assert store.calls == [[0]]
    # a group bounded at two items is full with two: no wait for the other three
    groups = CommitGroups(store.commit_many, max_items=2, gather_s=60)
    groups.expect(5)
    first = _in_a_thread(groups.submit, 1, 0)
    _when_waiting(groups, 1)
    assert groups.submit(2) == "r2"
    assert first.result(10) == "r1"
    assert store.calls[-1] == [1, 2]


def test_an_expectation_that_drops_lets_the_gathering_leader_commit() -> None:
    # a session closes (its client is done): the leader stops waiting for its message
    store = Store()
    store.release.set()
    groups = CommitGroups(store.commit_many, gather_s=60)
    groups.expect(2)
    first = _in_a_thread(groups.submit, 0, 0)
    _when_waiting(groups, 1)
    groups.expect(1)
    assert first.result(10) == "r0"
    assert store.calls == [[0]]


def test_a_wait_in_vain_lowers_the_expectation_and_a_fuller_group_raises_it() -> None:
    # two sessions open, one of them idle (connected, sends nothing): only the first
    # message waits for it; the next ones are committed as they come
    store = Store()
    store.release.set()
    groups = CommitGroups(store.commit_many, gather_s=0.01)
    groups.expect(2)
    assert groups.submit(0) == "r0"
    assert groups.waits_for == 1
    groups = CommitGroups(store.commit_many, gather_s=60)
    groups.expect(2)
    groups._likely = 1  # (as lowered by a wait in vain: a 60 s wait would hang the test)
    assert _in_a_thread(groups.submit, 1, 0).result(10) == "r1"  # alone, at once
    # the quiet session sends again: a leader that finds two waiting waits for two again
    held = Store()
    groups = CommitGroups(held.commit_many, gather_s=60)
    groups.expect(3)
    groups._likely = 1
    first = _in_a_thread(groups.submit, 2, 0)
    assert held.first_started.wait(10)  # committing [2]; 3 and 4 queue behind it
    second = _in_a_thread(groups.submit, 3, 0)
    _when_waiting(groups, 1)
    third = _in_a_thread(groups.submit, 4, 0)
    _when_waiting(groups, 2)
    held.release.set()
    assert [first.result(10), second.result(10), third.result(10)] == ["r2", "r3", "r4"]
    assert held.calls == [[2], [3, 4]] and groups.waits_for == 2
    groups.expect(3)  # a session opened or closed: start over from the count
    assert groups.waits_for == 3
