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
import time
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


class TextFormatter(logging.Formatter):
    """``asctime pid level logger: message``, the time's text up to its second made once
    a second (``time.localtime`` and ``strftime`` were a third of a line's formatting:
    delivery writes a line a row sent, several a ticket when the desk is busy)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
        self._second: tuple[int, str] = (-1, "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        kept = self._second  # (one read: another thread may set it meanwhile)
        if kept[0] != second:
            kept = (second, time.strftime("%Y-%m-%d %H:%M:%S", self.converter(second)))
            self._second = kept
        return f"{kept[1]},{int(record.msecs):03d}"  # (as the stdlib's "%s,%03d")


def configure(log_format: str, level: int) -> None:
    """The root logger writes text (the default) or JSON lines to stderr.

    Neither format names the caller's file, line or function, nor the process's name
    (the pid only), so records are made without them: the logging HOWTO's
    "Optimization" switches (``logging._srcfile`` None: no walk of the stack for the
    caller; ``logMultiprocessing`` off: no look-up of multiprocessing's process name)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    logging._srcfile = None
    logging.logMultiprocessing = False
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
