"""Prometheus counters of what the desk takes in and sends out: messages accepted per
channel (new or a duplicate), deliveries per channel, and failed delivery attempts by
channel and reason (the error's class) and whether a retry follows."""

from __future__ import annotations

from prometheus_client import Counter

INTAKE = Counter(
    "relaydesk_intake_total", "Messages accepted into the inbox", ("channel", "outcome")
)
DELIVERED = Counter("relaydesk_deliveries_total", "Messages delivered", ("channel",))
DELIVERY_FAILURES = Counter(
    "relaydesk_delivery_failures_total",
    "Failed delivery attempts",
    ("channel", "reason", "outcome"),  # outcome: pending (retried) or failed (for good)
)


def accepted(channel: str, *, created: bool) -> None:
    INTAKE.labels(channel, "new" if created else "duplicate").inc()


def delivered(channel: str) -> None:
    DELIVERED.labels(channel).inc()


def delivery_failed(channel: str, reason: BaseException, outcome: str) -> None:
    DELIVERY_FAILURES.labels(channel, type(reason).__name__, outcome).inc()
