"""A long-running process's heap after start-up, kept out of the garbage collector's way.

What a process builds to boot (every module, the ORM's mappers, the configuration,
the compiled statements) lives as long as the process. Python's full (oldest
generation) collection walks all of it each time, and in a worker process that was
tens of milliseconds, every thread of the process stopped meanwhile, several times
a thousand tickets. Frozen after boot (``gc.freeze``) those objects are never
walked again; what the work allocates is collected as before. The boot's own
garbage is collected first, so none of it is frozen for good.
"""

from __future__ import annotations

import gc


def freeze_boot_heap() -> None:
    """Call once, after boot and before the work starts."""
    gc.collect()
    gc.freeze()


__all__ = ["freeze_boot_heap"]
