"""Notice a broker that lost its messages: wiped, or restarted with nothing kept on disk.

The store is the source of truth and the scheduler re-drives what is unfinished, but
only ``redrive_after_s`` (60 s) after a row was last sent on: a broker that comes back
empty would hold up every queued row for that long. So the scheduler keeps a mark in
the broker, a key that never expires; on each sweep it sets the mark if it is missing.
Finding it missing means the broker lost whatever was queued in it (or is new), and
every pending row is re-driven at once. Rows a live worker is sending are left to their
lease. Only Redis is looked at: a RabbitMQ broker keeps durable queues across restarts.
"""

from __future__ import annotations

import logging
from typing import Any

from dramatiq import Broker

log = logging.getLogger(__name__)

MARK = "relaydesk.epoch"


class BrokerEpoch:
    def __init__(self, broker: Broker, namespace: str) -> None:
        self.client: Any = getattr(broker, "client", None)  # a RedisBroker's redis client
        self.key = f"{namespace}:{MARK}"

    def lost_messages(self) -> bool:
        """True when the mark was missing (it is there again now); False when it was
        there, for a broker without marks, and while the broker cannot be reached."""
        if self.client is None:
            return False
        try:
            return bool(self.client.set(self.key, "1", nx=True))
        except Exception as exc:  # the broker is down: asked again on the next sweep
            log.warning("broker not reachable for its epoch mark: %s", exc)
            return False
