"""A web process's collector after start-up (``workers.runtime.garbage_collection``)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from workers.runtime.garbage_collection import YOUNG_THRESHOLD, settle_start_up_heap


@pytest.fixture
def collector_restored() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


@pytest.mark.usefixtures("collector_restored")
def test_the_start_up_heap_is_frozen_and_young_collections_come_less_often() -> None:
    settle_start_up_heap()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] == YOUNG_THRESHOLD
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_restored")
def test_what_is_made_after_the_freeze_is_still_collected() -> None:
    settle_start_up_heap()
    cycle: list[object] = []
    cycle.append(cycle)
    del cycle
    assert gc.collect() >= 1
