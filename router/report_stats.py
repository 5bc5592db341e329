"""Durations summed up: count, mean, median and 90th percentile, defined once.

The store does not hand over every duration (a year of a large desk is a
million of them): it counts them per *step*, a duration rounded down to a
width that grows with it, so the rounding is never more than 1 %:

===================  ==========
a duration under     counted to
===================  ==========
10 minutes           the second
100 minutes          10 seconds
1,000 minutes        the minute
10,000 minutes       10 minutes
longer               the hour
===================  ==========

``STEPS`` is that table; the store builds its SQL from it, so both sides round
alike. The mean is exact (the store sums the durations themselves); the median
and the 90th percentile are read from the steps by nearest rank: the p-th
percentile is the smallest counted value with at least p % of the durations at
or below it (of an even count, the median is the lower of the two middle
values). A negative duration (clocks out of step) counts as zero.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# (below this many seconds, round down to a multiple of this many seconds); the last
# step has no bound
STEPS: tuple[tuple[float | None, int], ...] = (
    (600.0, 1),
    (6_000.0, 10),
    (60_000.0, 60),
    (600_000.0, 600),
    (None, 3600),
)


def step_of(seconds: float) -> int:
    """``seconds`` rounded down to its step (see the module's table)."""
    seconds = max(seconds, 0.0)
    for below, width in STEPS:
        if below is None or seconds < below:
            return math.floor(seconds / width) * width
    raise AssertionError("the last step has no bound")  # pragma: no cover


@dataclass(frozen=True)
class Durations:
    """How many durations, their exact total, and how many fell on each step."""

    count: int = 0
    total_s: float = 0.0
    steps: Mapping[int, int] = field(default_factory=dict)

    @classmethod
    def of(cls, seconds: Iterable[float]) -> Durations:
        values = [max(s, 0.0) for s in seconds]
        return cls(len(values), float(sum(values)), dict(Counter(step_of(s) for s in values)))

    def __add__(self, other: Durations) -> Durations:
        steps = Counter(self.steps)
        steps.update(other.steps)
        return Durations(self.count + other.count, self.total_s + other.total_s, dict(steps))


@dataclass(frozen=True)
class Summary:
    """Of a set of durations, in seconds; ``None`` when there were none."""

    count: int
    mean_s: float | None
    median_s: float | None
    p90_s: float | None


def summarise(durations: Durations) -> Summary:
    if durations.count == 0:
        return Summary(0, None, None, None)
    return Summary(
        count=durations.count,
        mean_s=durations.total_s / durations.count,
        median_s=percentile(durations, 50),
        p90_s=percentile(durations, 90),
    )


def percentile(durations: Durations, p: float) -> float | None:
    """The nearest-rank ``p``-th percentile of the counted steps."""
    if not 0 < p <= 100:
        raise ValueError(f"a percentile is in (0, 100], got {p}")
    counted = sum(durations.steps.values())
    if counted == 0:
        return None
    rank = max(math.ceil(p / 100 * counted), 1)
    seen = 0
    for value in sorted(durations.steps):
        seen += durations.steps[value]
        if seen >= rank:
            return float(value)
    raise AssertionError("the rank lies within the count")  # pragma: no cover


def share(part: int, whole: int) -> float | None:
    """``part / whole``, or ``None`` (no data) when ``whole`` is zero."""
    return part / whole if whole else None
