"""Deliver a lone outbox row in the thread that queued it (``InlineDeliveries``), or send
rows to their outbound queues merged, as a process that does not consume them does."""

from __future__ import annotations

import logging

from dramatiq.middleware import TimeLimitExceeded

from router.vocabulary import Channel
from workers.runtime.context import Runtime
from workers.runtime.inline_deliveries import DELIVERED_HERE, Row
from workers.runtime.time_limits import StepLimit
from workers.steps.deliver import DeliverBatch

log = logging.getLogger(__name__)


def deliver_here(runtime: Runtime, outbox_id: int, channel: Channel) -> bool:
    """Deliver the row as an outbound message carrying it would (``DeliverBatch``: the
    same claim, fence, send and record, so an outbound consumer that got the row too
    finds it taken or done). The committed work that queued it is never failed for it:
    a failed attempt (recorded on the row) goes back to the queue as a batch's row does,
    after the first backoff; a row the far side asked to wait goes to the queue after the
    wait; a failure of the step itself (the store away, a bug), a time limit or a stop
    sends the row to the queue now. The send waits for the far side at most the deliver
    step's time limit (``Sender.send``'s ``timeout_s``: a silent server's connection
    times out, since an interrupt cannot reach a thread blocked in a socket's read), and
    the step keeps that limit (``StepLimit``) for the rest; the message's own limit is
    raised on. True when the row was sent or failed for good here (counted in
    DELIVERED_HERE), or taken by another attempt; False: it went to the queue.
    """
    if runtime.stopping.is_set():
        send_to_outbound(runtime, [(outbox_id, channel)])
        return True  # (not the channel's fault)
    limit_ms = runtime.settings.retries.deliver.time_limit_ms
    step = DeliverBatch(runtime, timeout_s=limit_ms / 1000)
    again: list[int] | None = None
    limit = StepLimit(limit_ms)
    try:
        with limit:
            again = step.run([outbox_id])
    except TimeLimitExceeded:
        if not limit.fired:
            raise
        log.warning(
            "delivering outbox %s here ran past its time limit: sent to its queue", outbox_id
        )
    except Exception:
        log.exception("delivering outbox %s here failed; it is sent to its queue", outbox_id)
    finally:  # (a time limit or a stop, too: sent, then raised)
        if again is None:
            send_to_outbound(runtime, [(outbox_id, channel)])
        elif again:
            step.resend(again)
    if step.settled:
        DELIVERED_HERE.labels(channel.value).inc(len(step.settled))
    return again == [] and not step.waiting


def send_to_outbound(runtime: Runtime, rows: list[Row]) -> None:
    """Send rows to their channels' outbound queues merged, one message per channel
    carrying its rows, as the sends of the unit of work that queued them were."""
    with runtime.gathering.block():
        for outbox_id, channel in rows:
            runtime.send_delivery(outbox_id, channel)


__all__ = ["deliver_here", "send_to_outbound"]
