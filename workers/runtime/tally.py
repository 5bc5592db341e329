"""Count what a worker process did: messages per actor and the rows they carried.

Logged when the process stops ("worker 123 processed 40 messages carrying 1000
rows: ingest_web 20/500, ..."), so ops see how much batching happens under their
load, and the pipeline benchmark counts broker hops from it.
"""

from __future__ import annotations

import threading
from collections import Counter

import dramatiq
from dramatiq import Broker
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware


class MessageTally(Middleware):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.messages: Counter[str] = Counter()
        self.rows: Counter[str] = Counter()

    def after_process_message(
        self,
        broker: Broker,
        message: MessageProxy,
        *,
        result: object = None,
        exception: BaseException | None = None,
    ) -> None:
        first = message.args[0] if message.args else None
        rows = len(first) if isinstance(first, list) else 1
        with self._lock:
            self.messages[message.actor_name] += 1
            self.rows[message.actor_name] += rows

    def summary(self) -> str:
        with self._lock:
            total, rows = sum(self.messages.values()), sum(self.rows.values())
            each = ", ".join(
                f"{name} {count}/{self.rows[name]}" for name, count in sorted(self.messages.items())
            )
        return f"processed {total} messages carrying {rows} rows" + (f": {each}" if each else "")


def install(broker: dramatiq.Broker) -> MessageTally:
    tally = MessageTally()
    broker.add_middleware(tally)
    return tally


__all__ = ["MessageTally", "install"]
