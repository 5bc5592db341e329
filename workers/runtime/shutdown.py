"""Stopping a process's dramatiq worker on SIGTERM within its grace period.

The runtime is marked ``stopping`` first, so a batch step tries no further row after
the one in hand: the rest of its batch is given back and sent again for another worker
(``batch_step.py``). dramatiq's ``Worker.stop`` then lets the threads finish that row,
puts the messages it had fetched but not started back on their queues, and waits at
most ``STOP_GRACE_MS``. Whatever outbox row this process still holds after that (a
send that outlasted the grace period) is released and sent again before the process
exits, instead of waiting for the broker's redelivery or the lease. In ``serve`` the
connectors have stopped taking input before this.
"""

from __future__ import annotations

import logging

import dramatiq

from router.vocabulary import Channel
from workers.runtime.context import Runtime

log = logging.getLogger(__name__)

STOP_GRACE_MS = 10_000  # the worker supervisor waits this and 5 s more, then kills


def stop_worker(runtime: Runtime, worker: dramatiq.Worker, grace_ms: int = STOP_GRACE_MS) -> bool:
    """Stop ``worker`` within ``grace_ms``; True when nothing is left held by this
    process (its heartbeat may go), False when what it held could not be given back
    (the store is unreachable: let its heartbeat go quiet, so others take it as dead)."""
    runtime.stopping.set()
    worker.stop(timeout=grace_ms)
    return give_back_held(runtime)


def give_back_held(runtime: Runtime) -> bool:
    """Release the outbox rows this process still holds and send them again."""
    try:
        with runtime.db.unit_of_work() as uow:
            held = uow.outbox.release_holder(runtime.holder, now=runtime.now())
    except Exception:  # the store is gone: the rows are taken when our beat is quiet
        log.warning("could not give back the deliveries of %s", runtime.holder, exc_info=True)
        return False
    if held:
        log.info("gave back %d deliveries still held at stop", len(held))
    for outbox_id, channel in held:
        try:
            runtime.enqueue_delivery(outbox_id, Channel(channel))
        except Exception:  # the row is pending in the store: the scheduler re-drives it
            log.warning("could not enqueue delivery %s; the scheduler will", outbox_id)
    return True
