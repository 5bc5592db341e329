"""One PostgreSQL ``LISTEN`` connection in a thread, handing each notification's payload
to the handler of its channel.

Notifications sent while the connection is down are lost: ``on_listening`` is called
each time the connection listens again (first included), so its owner can look for
what it may have missed; ``listening`` is set only while it listens.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping

from sqlalchemy.engine import URL

log = logging.getLogger(__name__)

_WAKE_S = 0.25  # how often the thread looks up from the socket: how fast ``stop`` returns


class PgListener:
    def __init__(
        self,
        url: URL,
        handlers: Mapping[str, Callable[[str], None]],
        *,
        name: str,
        on_listening: Callable[[bool], None] = lambda _on: None,
    ) -> None:
        self._dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._handlers = dict(handlers)
        self._on_listening = on_listening
        self._stop = threading.Event()
        self.listening = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self._dsn, autocommit=True, connect_timeout=5) as conn:
                    for channel in self._handlers:
                        conn.execute(f"LISTEN {channel}")
                    self._listen(True)
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=_WAKE_S):
                            self._handlers[note.channel](note.payload)
            except Exception as exc:  # the database went away: listen again shortly
                self._listen(False)
                log.warning("not listening for %s: %s", ", ".join(self._handlers), exc)
                self._stop.wait(1.0)
        self._listen(False)

    def _listen(self, on: bool) -> None:
        if on:
            self.listening.set()
        else:
            self.listening.clear()
        self._on_listening(on)
