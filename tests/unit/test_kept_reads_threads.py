"""A kept read is only used when it was read since the last change heard: a thread that
finds the change's read counted but its value not kept yet reads for itself."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from store.kept_reads import AGENTS, KeptReads


@contextmanager
def _no_session() -> Iterator[Any]:
    yield None


class _Table:
    def __init__(self) -> None:
        self.value = "old"
        self.reads = 0

    def load(self, _session: object) -> str:
        self.reads += 1
        return self.value


def test_a_thread_between_anothers_read_and_its_keeping_reads_for_itself() -> None:
    kept = KeptReads(_no_session, tables=(AGENTS,))
    kept._signalled = lambda: True  # type: ignore[method-assign]  # (no database here)
    kept.listening(True)
    table = _Table()
    assert kept.get(AGENTS, None, table.load) == "old"  # type: ignore[arg-type]
    assert kept.get(AGENTS, None, table.load) == "old" and table.reads == 1  # type: ignore[arg-type]
    table.value = "new"
    kept.heard(AGENTS)  # the change is heard
    watch = kept._watches[AGENTS]
    counted = watch.read
    in_the_gap: list[str] = []

    def read_then_another_thread_looks(mark: int) -> None:
        watch.read = counted  # type: ignore[method-assign]
        counted(mark)  # this read of the change is counted; its value is not kept yet
        in_the_gap.append(kept.get(AGENTS, None, table.load))  # type: ignore[arg-type]

    watch.read = read_then_another_thread_looks  # type: ignore[method-assign]
    assert kept.get(AGENTS, None, table.load) == "new"  # type: ignore[arg-type]
    assert in_the_gap == ["new"]  # the old value kept before the change: not used
    assert kept.get(AGENTS, None, table.load) == "new" and table.reads == 3  # type: ignore[arg-type]
