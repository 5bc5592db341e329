"""Queue names: one ingest queue per inbound channel, one outbound queue per sender."""

from __future__ import annotations

from router.vocabulary import Channel
from workers.channels.registry import ChannelRegistry

ROUTE = "route"
SLA = "sla"  # firing the SLA steps the scheduler found due
WEBHOOKS = "outbound.webhook"  # webhook deliveries (workers.runtime.webhook_actor)
SIMULATE = "simulate"  # simulations asked through the staff API (workers.runtime.simulation_actor)


def ingest_queue(channel: Channel) -> str:
    return f"ingest.{channel.value}"


def outbound_queue(channel: Channel) -> str:
    return f"outbound.{channel.value}"


def all_queues(channels: ChannelRegistry) -> tuple[str, ...]:
    """Every queue of a runtime with these channels (its registry's)."""
    return (
        *(ingest_queue(c) for c in channels.inbound()),
        ROUTE,
        SLA,
        *(outbound_queue(c) for c in channels.outbound()),
        WEBHOOKS,
        SIMULATE,
    )
