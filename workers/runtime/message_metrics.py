"""A dramatiq middleware counting each actor's messages for Prometheus: processed,
failed, retried (a message back for another attempt) and how long each took, by
actor and queue. In a process that forks (or spawns) workers the figures are kept
in ``PROMETHEUS_MULTIPROC_DIR`` when it is set (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from dramatiq import Broker
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware
from prometheus_client import Counter, Histogram

LABELS = ("actor", "queue")
PROCESSED = Counter(
    "relaydesk_messages_processed_total", "Messages an actor finished without error", LABELS
)
FAILED = Counter("relaydesk_messages_failed_total", "Messages an actor raised on", LABELS)
RETRIED = Counter(
    "relaydesk_messages_retried_total", "Messages taken again after a failed attempt", LABELS
)
DURATION = Histogram(
    "relaydesk_message_duration_seconds",
    "Time an actor took on one message",
    LABELS,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)


class MessageMetrics(Middleware):
    def __init__(self) -> None:
        self._started: dict[str, float] = {}
        self._lock = threading.Lock()

    def before_process_message(self, broker: Broker, message: MessageProxy) -> None:
        if message.options.get("retries", 0):
            RETRIED.labels(message.actor_name, message.queue_name).inc()
        with self._lock:
            self._started[message.message_id] = time.perf_counter()

    def after_process_message(
        self,
        broker: Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        with self._lock:
            started = self._started.pop(message.message_id, None)
        labels = (message.actor_name, message.queue_name)
        if started is not None:
            DURATION.labels(*labels).observe(time.perf_counter() - started)
        (FAILED if exception is not None else PROCESSED).labels(*labels).inc()

    def after_skip_message(self, broker: Broker, message: MessageProxy) -> None:
        self.after_process_message(broker, message)


def install(broker: Broker) -> MessageMetrics:
    """Add the middleware to ``broker`` (once)."""
    for middleware in broker.middleware:
        if isinstance(middleware, MessageMetrics):
            return middleware
    metrics = MessageMetrics()
    broker.add_middleware(metrics)
    return metrics
