"""One PostgreSQL ``LISTEN`` connection in a thread, handing each notification's payload
to the handler of its channel.

Notifications sent while the connection is down are lost: ``on_listening`` is called
each time the connection listens again (first included), so its owner can look for
what it may have missed; ``listening`` is set only while it listens.

``unheard`` says whether a notification may have reached the connection's socket without
being handed over yet: the thread reads the socket and calls the handlers under one lock,
so a caller that sees neither bytes waiting nor a handler's call has missed nothing sent
before (a change committed just before the caller looked, its notification in the socket
while this thread waits for the GIL).
"""

from __future__ import annotations

import logging
import select
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import URL

if TYPE_CHECKING:
    import psycopg

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
        self._handing = threading.Lock()  # held while the socket is read and handed over
        self._socket: int | None = None  # while connected
        self.handed = 0  # notifications handed over so far

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
                    self._socket = conn.pgconn.socket
                    try:
                        self._listen(True)
                        self._hand_over(conn)
                    finally:  # not listening before the socket goes: the owner reads
                        self._listen(False)
                        with self._handing:
                            self._socket = None
            except Exception as exc:  # the database went away: listen again shortly
                self._listen(False)
                log.warning("not listening for %s: %s", ", ".join(self._handlers), exc)
                self._stop.wait(1.0)
        self._listen(False)

    def _hand_over(self, conn: psycopg.Connection[Any]) -> None:
        """Wait for the socket, and hand over each notification read from it."""
        pgconn = conn.pgconn
        while not self._stop.is_set():
            readable, _, _ = select.select([pgconn.socket], [], [], _WAKE_S)
            if not readable:
                continue
            with self._handing:
                pgconn.consume_input()  # (raises once the connection is gone)
                while (note := pgconn.notifies()) is not None:
                    self._handlers[note.relname.decode()](note.extra.decode())
                    self.handed += 1

    def unheard(self) -> bool:
        """Whether the socket holds bytes not read yet (a notification, maybe); False
        while not connected (the owner reads anyway then: it is not listening)."""
        with self._handing:
            sock = self._socket
            if sock is None:
                return False
            try:
                return bool(select.select([sock], [], [], 0)[0])
            except (OSError, ValueError):  # closed meanwhile
                return True

    def _listen(self, on: bool) -> None:
        # the owner is told first: once ``listening`` is set, it acts on it (a kept read
        # is kept from then on, as its tests expect)
        if not on:
            self.listening.clear()
        self._on_listening(on)
        if on:
            self.listening.set()
