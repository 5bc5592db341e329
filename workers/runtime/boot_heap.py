"""A long-running process's heap after start-up, kept out of the garbage collector's way.

What a process builds to boot (every module, the ORM's mappers, the configuration,
the compiled statements) lives as long as the process. Python's full (oldest
generation) collection walks all of it each time, and in a worker process that was
tens of milliseconds, every thread of the process stopped meanwhile, several times
a thousand tickets. Frozen after boot (``gc.freeze``) those objects are never
walked again; what the work allocates is collected as before. The boot's own
garbage is collected first, so none of it is frozen for good.

A web process (``web_processes.make_served_app``) also collects its youngest generation
less often (``collect_young_less_often``): a ticket page of 200 messages makes thousands
of short-lived objects (rows, template values), which at CPython's threshold of 700 set
off a young collection eight times a request, each walking the request's live objects
again; at ``YOUNG_THRESHOLD`` it is one every few requests. Reference counting still
frees what it frees at once; only cycles wait a little longer.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000  # CPython's default is 700


def freeze_boot_heap() -> None:
    """Call once, after boot and before the work starts."""
    gc.collect()
    gc.freeze()


def collect_young_less_often() -> None:
    """Collect the youngest generation at ``YOUNG_THRESHOLD`` objects (the older ones'
    thresholds kept); once, at start-up."""
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, oldest)


__all__ = ["YOUNG_THRESHOLD", "collect_young_less_often", "freeze_boot_heap"]
