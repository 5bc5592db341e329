"""What the worker supervisor does when one of its processes dies (kill -9, a crash).

The others would learn of the death only when its heartbeat has been quiet for
``scheduler.dead_after_s``; its supervisor knows at once. So it puts the dead process's
beat back by that much (it counts as dead now: the deliveries it held are taken by the
next claim or sweep, ``store/outbox_leases.py``), and makes due at once the pending
outbox rows written since shortly before its last beat (it may have committed them and
died before their broker message went out): the scheduler's next sweep sends them on,
instead of after ``scheduler.redrive_after_s``. Rows another process wrote meanwhile may
be sent on twice; every step is idempotent, so that costs a no-op.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from config.settings import Settings
from store.db import Database

log = logging.getLogger(__name__)

MARGIN = timedelta(seconds=10)  # a send window under load, before its last beat


def bury(
    db: Database, settings: Settings, *, host: str, pid: int, now: Callable[[], datetime]
) -> None:
    """Record that worker process ``pid`` on ``host`` died; never raises."""
    scheduler = settings.scheduler
    at = now()
    try:
        with db.unit_of_work() as uow:
            marked = uow.process_beats.mark_dead(
                host=host, pid=pid, quiet_since=at - timedelta(seconds=scheduler.dead_after_s)
            )
            due = uow.outbox.make_recent_due(
                since=at - timedelta(seconds=scheduler.heartbeat_s) - MARGIN,
                now=at,
                redrive_after=timedelta(seconds=scheduler.redrive_after_s),
            )
    except Exception:  # the store is away: its heartbeat goes quiet on its own
        log.warning("could not record the death of worker %s", pid, exc_info=True)
        return
    log.info("worker %s died: %d beats marked dead, %d outbox rows due now", pid, len(marked), due)
