"""A long-running process's collector after start-up (``workers.runtime.boot_heap``)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from workers.runtime.boot_heap import YOUNG_THRESHOLD, collect_young_less_often, freeze_boot_heap


@pytest.fixture
def collector_restored() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


@pytest.mark.usefixtures("collector_restored")
def test_the_boot_heap_is_frozen_and_young_collections_come_less_often() -> None:
    freeze_boot_heap()
    collect_young_less_often()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] == YOUNG_THRESHOLD
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_restored")
def test_what_is_made_after_the_freeze_is_still_collected() -> None:
    freeze_boot_heap()
    cycle: list[object] = []
    cycle.append(cycle)
    del cycle
    assert gc.collect() >= 1
