"""How a web process's garbage collector is set: the start-up heap frozen, young
collections less often.

CPython's cyclic collector walks every object it tracks in a full (oldest generation)
collection. A web process holds about 300,000 of them once started (the app, its
routes and models, SQLAlchemy's mappers, the catalogs), and a page of a long
conversation makes thousands of short-lived ones (ORM rows, template values), enough to
set off a young collection eight times a request and a full one every fifty or so: each
full one stopped the request it fell in for 100 to 300 ms, the ticket page's p99
(benchmarks/pages.py). Frozen after start-up (``gc.freeze``), those objects are left out
of every collection (they live as long as the process anyway), and a young generation
of ``YOUNG_THRESHOLD`` objects is collected once per several requests instead of
several times per request. Reference counting still frees what it frees at once; only
cycles wait a little longer.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000  # CPython's default is 700


def settle_start_up_heap() -> None:
    """Collect once, freeze what is left (the process's start-up objects) and raise the
    youngest generation's threshold; call once, after the app is made."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, oldest)
