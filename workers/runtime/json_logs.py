"""Logs as JSON (``--log-format json`` or ``log_format = "json"``): one event per line,
with the actor and the rows its message is about (inbox, outbox or ticket ids) where
known, so a ticket's life can be followed with grep across processes.

``MessageContext`` (a dramatiq middleware on every broker) keeps the message a worker
thread is processing in a context variable; the formatter adds it to each event. A
log call may name its rows itself: ``log.info(..., extra={"ticket": 12, "outbox_id": 3})``.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from dramatiq import Broker
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware

_current: ContextVar[dict[str, Any] | None] = ContextVar("relaydesk_message", default=None)
FIELDS = ("ticket", "ticket_id", "inbox_id", "outbox_id", "actor")
# what the first argument of an actor's message names, by the actor's name
_ROWS = (("ingest_", "inbox_id"), ("deliver_", "outbox_id"), ("route", "ticket_id"))


def about(actor: str, args: tuple[Any, ...]) -> dict[str, Any]:
    """The actor and the rows a message with ``args`` is about."""
    found: dict[str, Any] = {"actor": actor}
    if args:
        for prefix, key in _ROWS:
            if actor.startswith(prefix) and isinstance(args[0], int | list):
                found[key] = args[0]
    return found


class MessageContext(Middleware):
    def before_process_message(self, broker: Broker, message: MessageProxy) -> None:
        _current.set(about(message.actor_name, tuple(message.args)))

    def after_process_message(
        self,
        broker: Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        _current.set(None)

    def after_skip_message(self, broker: Broker, message: MessageProxy) -> None:
        _current.set(None)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,
            "thread": record.threadName,
            "message": record.getMessage(),
        }
        event.update(_current.get() or {})
        for name in FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                event[name] = value
        if record.exc_info:
            event["exception"] = self.formatException(record.exc_info)
        return json.dumps(event, default=str, ensure_ascii=False)


def configure(log_format: str, level: int) -> None:
    """The root logger writes text (the default) or JSON lines to stderr."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
