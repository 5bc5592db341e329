"""A process's heartbeat: a row in the store, written every ``heartbeat_s`` by a thread.

Other processes read it to know who is alive: a worker whose beat stopped
``dead_after_s`` ago is dead, and the deliveries it held are taken over at once
(``store.outbox_leases``). A process that stops cleanly removes its row.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterable

from store.process_beats import Beating
from workers.runtime.config_follow import follow_store
from workers.runtime.context import Runtime

log = logging.getLogger(__name__)


class Heartbeat:
    def __init__(self, runtime: Runtime, kind: str, queues: Iterable[str] = ()) -> None:
        self.runtime = runtime
        self.me = Beating(
            holder=runtime.holder,
            kind=kind,
            host=socket.gethostname(),
            pid=os.getpid(),
            queues=tuple(queues),
        )
        self.started_at = runtime.now()
        self._stop = threading.Event()
        # held by a beat and by the leaving: a beat still running when ``stop`` gave up
        # waiting for it could otherwise write the row again after it was removed
        self._writing = threading.Lock()
        self._thread: threading.Thread | None = None

    def beat(self) -> None:
        with self.runtime.db.unit_of_work() as uow:
            uow.process_beats.beat(
                self.me,
                started_at=self.started_at,
                now=self.runtime.now(),
                health=self.runtime.connector_health.snapshot(),
            )

    def start(self) -> Heartbeat:
        """The first beat now (a store that cannot be reached is said, not fatal), then
        one every ``heartbeat_s`` on a daemon thread."""
        self._beat_quietly()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self._thread.start()
        return self

    def stop(self, *, leave: bool = True, wait_s: float = 5.0) -> None:
        """Stop beating and leave the list of running processes (with ``leave`` False,
        stay in it, to go quiet: what the process held is then taken as a dead one's).
        A beat under way is waited for, ``wait_s`` and again ``wait_s`` at most, so that
        it cannot write the row again after the leaving removed it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=wait_s)
        if not leave:
            return
        if not self._writing.acquire(timeout=wait_s):  # no beat begins once _stop is set
            log.warning("heartbeat of %s stuck: its row is left to go quiet", self.me.holder)
            return
        try:
            with self.runtime.db.unit_of_work() as uow:
                uow.process_beats.forget(self.me.holder)
        except Exception:  # the store is gone: the row goes quiet, as a dead one does
            log.warning("heartbeat of %s not removed", self.me.holder, exc_info=True)
        finally:
            self._writing.release()

    def _run(self) -> None:
        interval = self.runtime.settings.scheduler.heartbeat_s
        while not self._stop.wait(interval):
            self._beat_quietly()

    def _beat_quietly(self) -> None:
        with self._writing:
            if self._stop.is_set():
                return  # leaving: a beat now would bring the row back
            try:
                self.beat()
            except Exception:  # a database restart: the next beat tries again
                log.warning("heartbeat of %s failed", self.me.holder, exc_info=True)
        follow_store(self.runtime)  # a process without messages follows the version here
