"""Is this process ready to work? The store answers, its schema is current, the broker
answers. Each check says ``None`` when it passes, else what is wrong: what ``/readyz``
and ``relaydesk health`` report."""

from __future__ import annotations

from typing import Any

from store.migrate import current_revision, head_revision, ping
from workers.runtime.broker import broker_kind
from workers.runtime.context import Runtime


def readiness(runtime: Runtime) -> dict[str, str | None]:
    checks: dict[str, str | None] = {"store": None, "migrations": None, "broker": None}
    try:
        ping(runtime.db)
        current, head = current_revision(runtime.db), head_revision()
        if current != head:
            checks["migrations"] = f"at {current or 'nothing'}, code needs {head}"
    except Exception as exc:  # any failure to reach the store is the answer
        checks["store"] = _said(exc)
        checks["migrations"] = "unknown: the store cannot be read"
    try:
        _ping(runtime.broker)
    except Exception as exc:
        checks["broker"] = _said(exc)
    return checks


def _ping(broker: Any) -> None:
    kind = broker_kind(broker)
    if kind == "RedisBroker":
        broker.client.ping()
    elif kind == "RabbitmqBroker":
        broker.channel.queue_declare(queue="relaydesk.health", passive=False, auto_delete=True)


def _said(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]
