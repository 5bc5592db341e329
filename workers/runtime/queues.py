"""Queue names: one ingest queue per inbound channel, one outbound queue per sender."""

from __future__ import annotations

from router.vocabulary import Channel

INBOUND_CHANNELS = (Channel.WEB, Channel.EMAIL, Channel.TELEGRAM)
OUTBOUND_CHANNELS = (Channel.EMAIL, Channel.TELEGRAM)
ROUTE = "route"
SLA = "sla"  # firing the SLA steps the scheduler found due
WEBHOOKS = "outbound.webhook"  # webhook deliveries (workers.runtime.webhook_actor)


def ingest_queue(channel: Channel) -> str:
    return f"ingest.{channel.value}"


def outbound_queue(channel: Channel) -> str:
    return f"outbound.{channel.value}"


def all_queues() -> tuple[str, ...]:
    return (
        *(ingest_queue(c) for c in INBOUND_CHANNELS),
        ROUTE,
        SLA,
        *(outbound_queue(c) for c in OUTBOUND_CHANNELS),
        WEBHOOKS,
    )
