"""Durations summed up: count, mean, median and 90th percentile, defined once.

The store does not hand over every duration (a year of a large desk is a
million of them): it counts them in *bins* that grow with the duration, each
``BIN_RATIO`` (2^(1/16), about 4.4 %) times as wide as the one before: bin 0
holds what is under a second, bin ``k`` the durations in
``[2^((k-1)/16), 2^(k/16))`` seconds (a year falls in bin 399). Each bin keeps how
many durations fell in it and their exact total, so bins of days, teams or agents
add up into the bins of a period (that is how the daily and monthly rollups keep
them, ``store.report_rollups``).

The mean is exact (the totals are). The median and the 90th percentile are read
by nearest rank: the p-th percentile is the duration at rank ``ceil(p % of the
count)`` (of an even count, the median is the lower of the two middle values),
given as the mean of its bin. The true value lies in the same bin, so the figure
is off by less than ``BIN_RATIO - 1`` (4.4 %) of it, or under a second for
durations under a second; where a bin holds one value (or the same one), it is
exact. A negative duration (clocks out of step) counts as zero.

``bin_of`` is the one definition; the store computes the same ``1 + floor(ln(s) *
BIN_SCALE)`` in SQL (PostgreSQL) or calls this function (SQLite).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

BINS_PER_DOUBLING = 16
BIN_RATIO = 2 ** (1 / BINS_PER_DOUBLING)
BIN_SCALE = BINS_PER_DOUBLING / math.log(2)  # bins per unit of ln(seconds)
BIN_ERROR = BIN_RATIO - 1  # the most a median or percentile is off, relatively


def bin_of(seconds: float) -> int:
    """The bin ``seconds`` falls in (see the module's text)."""
    if seconds < 1.0:
        return 0
    return 1 + math.floor(math.log(seconds) * BIN_SCALE)


@dataclass(frozen=True)
class Durations:
    """How many durations, their exact total, and per bin: (how many, their total)."""

    count: int = 0
    total_s: float = 0.0
    bins: Mapping[int, tuple[int, float]] = field(default_factory=dict)

    @classmethod
    def of(cls, seconds: Iterable[float]) -> Durations:
        values = [max(s, 0.0) for s in seconds]
        bins: dict[int, tuple[int, float]] = {}
        for s in values:
            n, total = bins.get(bin_of(s), (0, 0.0))
            bins[bin_of(s)] = (n + 1, total + s)
        return cls(len(values), float(sum(values)), bins)

    def __add__(self, other: Durations) -> Durations:
        bins = dict(self.bins)
        for key, (n, total) in other.bins.items():
            was_n, was_total = bins.get(key, (0, 0.0))
            bins[key] = (was_n + n, was_total + total)
        return Durations(self.count + other.count, self.total_s + other.total_s, bins)


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
    """The nearest-rank ``p``-th percentile, as the mean of the bin it falls in."""
    if not 0 < p <= 100:
        raise ValueError(f"a percentile is in (0, 100], got {p}")
    counted = sum(n for n, _ in durations.bins.values())
    if counted == 0:
        return None
    rank = max(math.ceil(p / 100 * counted), 1)
    seen = 0
    for key in sorted(durations.bins):
        n, total = durations.bins[key]
        seen += n
        if seen >= rank:
            return total / n
    raise AssertionError("the rank lies within the count")  # pragma: no cover


def share(part: int, whole: int) -> float | None:
    """``part / whole``, or ``None`` (no data) when ``whole`` is zero."""
    return part / whole if whole else None
