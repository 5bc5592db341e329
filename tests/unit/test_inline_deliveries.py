"""InlineDeliveries: which rows a block delivers in its thread, which it sends, and the
budget that bounds what a thread spends delivering here."""

from __future__ import annotations

import threading
from contextlib import nullcontext

import pytest
from dramatiq.middleware import TimeLimitExceeded

from router.vocabulary import Channel
from workers.runtime.inline_deliveries import HereBudget, InlineDeliveries, Row


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class _Here:
    """What a block did: rows delivered here, rows sent; a delivery may fail or raise."""

    def __init__(self, budget: HereBudget) -> None:
        self.delivered: list[Row] = []
        self.sent: list[list[Row]] = []
        self.ok = True
        self.raises: BaseException | None = None
        self.inline = InlineDeliveries(
            self._deliver, self.sent.append, frozenset({Channel.EMAIL}), budget
        )

    def _deliver(self, outbox_id: int, channel: Channel) -> bool:
        if self.raises is not None:
            raise self.raises
        self.delivered.append((outbox_id, channel))
        return self.ok

    def unit(self, *rows: Row) -> list[bool]:
        with self.inline.block(nullcontext):
            return [self.inline.hold(*row) for row in rows]


def test_a_lone_row_is_delivered_here_and_several_are_sent_together() -> None:
    here = _Here(HereBudget(1))
    assert here.unit((1, Channel.EMAIL)) == [True]
    assert here.unit((2, Channel.EMAIL), (3, Channel.EMAIL)) == [True, True]
    assert here.delivered == [(1, Channel.EMAIL)]
    assert here.sent == [[(2, Channel.EMAIL), (3, Channel.EMAIL)]]


def test_a_channel_not_consumed_here_and_a_send_outside_a_block_are_not_held() -> None:
    here = _Here(HereBudget(1))
    assert here.unit((1, Channel.TELEGRAM)) == [False]
    assert here.inline.hold(2, Channel.EMAIL) is False
    assert here.delivered == [] and here.sent == []


def test_a_nested_block_leaves_its_rows_to_the_outer_one() -> None:
    here = _Here(HereBudget(1))
    with here.inline.block(nullcontext):
        here.unit((1, Channel.EMAIL))
        here.inline.hold(2, Channel.EMAIL)
        assert here.delivered == [] and here.sent == []
    assert here.sent == [[(1, Channel.EMAIL), (2, Channel.EMAIL)]]


def test_a_failed_delivery_here_sends_the_channels_rows_for_the_pause() -> None:
    clock = _Clock()
    here = _Here(HereBudget(2, slow_s=0.5, pause_s=30, clock=clock))
    here.ok = False
    here.unit((1, Channel.EMAIL))
    here.ok = True
    here.unit((2, Channel.EMAIL))
    clock.now += 29
    here.unit((3, Channel.EMAIL))
    clock.now += 2
    here.unit((4, Channel.EMAIL))
    assert here.delivered == [(1, Channel.EMAIL), (4, Channel.EMAIL)]
    assert here.sent == [[(2, Channel.EMAIL)], [(3, Channel.EMAIL)]]


def test_a_slow_delivery_here_pauses_its_channel_and_a_raise_gives_the_permit_back() -> None:
    clock = _Clock()
    budget = HereBudget(1, slow_s=0.5, pause_s=30, clock=clock)
    assert budget.take(Channel.EMAIL)
    assert not budget.take(Channel.EMAIL)  # one thread at a time: the others send
    clock.now += 0.6
    budget.give(Channel.EMAIL, ok=True)
    assert not budget.take(Channel.EMAIL)  # paused
    here = _Here(HereBudget(1))
    here.raises = KeyboardInterrupt()  # a time limit, a stop: the permit comes back
    with pytest.raises(KeyboardInterrupt):
        here.unit((1, Channel.EMAIL))
    assert not here.inline.budget.take(Channel.EMAIL)  # paused after it, not held
    assert here.inline.budget._running[Channel.EMAIL] == {}


def _take_in_a_thread(budget: HereBudget) -> bool:
    taken: list[bool] = []
    thread = threading.Thread(target=lambda: taken.append(budget.take(Channel.EMAIL)))
    thread.start()
    thread.join()
    return taken[0]


def test_a_delivery_here_running_long_sends_the_channels_rows_before_it_ends() -> None:
    """A hung server: the other threads do not wait for its timeout to find out."""
    clock = _Clock()
    budget = HereBudget(3, slow_s=0.5, pause_s=30, clock=clock)
    assert _take_in_a_thread(budget)  # (its thread is still at it)
    clock.now += 0.4
    assert budget.take(Channel.EMAIL)  # not long yet
    budget.give(Channel.EMAIL, ok=True)
    clock.now += 0.2  # 0.6 s: running long
    assert not budget.take(Channel.EMAIL)
    assert budget.take(Channel.TELEGRAM)  # another channel's are its own


def test_a_block_ending_with_an_exception_sends_its_rows_and_raises() -> None:
    """A time limit or a stop: the thread spends no more time here."""
    here = _Here(HereBudget(1))
    with pytest.raises(TimeLimitExceeded), here.inline.block(nullcontext):
        here.inline.hold(1, Channel.EMAIL)
        raise TimeLimitExceeded()
    assert here.delivered == []
    assert here.sent == [[(1, Channel.EMAIL)]]
    assert here.inline.hold(2, Channel.EMAIL) is False  # the block is closed


class _InterruptedAfterTaking(HereBudget):
    """An interrupt landing as ``take`` returns its permit."""

    def take(self, channel: Channel) -> bool:
        assert super().take(channel)
        raise TimeLimitExceeded


def test_an_interrupt_just_after_taking_the_permit_gives_it_back() -> None:
    clock = _Clock()
    budget = _InterruptedAfterTaking(1, slow_s=0.5, pause_s=30, clock=clock)
    here = _Here(budget)
    with pytest.raises(TimeLimitExceeded):
        here.unit((1, Channel.EMAIL))
    assert budget._running[Channel.EMAIL] == {}  # (left held, it refused the channel for good)
