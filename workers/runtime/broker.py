"""Build the dramatiq broker named by ``broker_url``: in-process, Redis or RabbitMQ.

On Redis an idle consumer blocks until its queue holds a message
(``workers.runtime.waking_broker``) instead of polling it. Each broker calls its
middleware's hooks only where a middleware defines one (``workers.runtime.hook_dispatch``).
The Redis settings are not dramatiq's defaults on purpose: with a 60 s heartbeat and
maintenance on 0.1 % of commands, the messages of a worker killed with SIGKILL came back
after minutes or not at all; with a 15 s heartbeat and maintenance on 10 % of commands
they come back in under half a minute on a busy fleet. An idle consumer fetches about
twice a second (``waking_broker``: its heartbeat), so on an idle fleet with a single
other consumer the 10 % chances come about every 5 s, and a dead worker's messages may
take a little longer than that.
"""

from __future__ import annotations

from dramatiq import Broker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import CurrentMessage, Middleware

from config.redact import redact_url
from config.settings import Settings
from workers.runtime.hook_dispatch import defined_hooks
from workers.runtime.json_logs import MessageContext
from workers.runtime.message_metrics import MessageMetrics
from workers.runtime.time_limits import broker_middleware


def _middleware() -> list[Middleware]:
    """dramatiq's defaults (time limits sharing a watchdog), our metrics and log context,
    and the current message (which a claim names: ``store.outbox_leases``)."""
    return [*broker_middleware(), MessageMetrics(), MessageContext(), CurrentMessage()]


def make_broker(settings: Settings) -> Broker:
    url = settings.broker_url
    if url.startswith("stub:"):
        broker = defined_hooks(StubBroker)(middleware=_middleware())
        broker.emit_after("process_boot")  # an embedded process is its own worker: time limits
        return broker
    if url.startswith(("redis://", "rediss://")):
        from workers.runtime.waking_broker import WakingRedisBroker

        return WakingRedisBroker(
            middleware=_middleware(),
            url=url,
            namespace=settings.broker.namespace,
            heartbeat_timeout=settings.broker.heartbeat_timeout_ms,
            maintenance_chance=settings.broker.maintenance_chance,
        )
    from dramatiq.brokers.rabbitmq import RabbitmqBroker

    return defined_hooks(RabbitmqBroker)(
        url=url,
        confirm_delivery=True,
        middleware=_middleware(),
    )


def broker_kind(broker: Broker) -> str:
    """``RedisBroker``, ``RabbitmqBroker``, ``StubBroker``: the dramatiq broker ``broker``
    is or extends (its own class's name for any other)."""
    for cls in type(broker).__mro__:
        if cls.__name__ in ("RedisBroker", "RabbitmqBroker", "StubBroker"):
            return cls.__name__
    return type(broker).__name__


def describe(settings: Settings) -> str:
    """The broker for humans, without credentials."""
    url = settings.broker_url
    if url.startswith("stub:"):
        return "in-process (embedded)"
    return redact_url(url)
