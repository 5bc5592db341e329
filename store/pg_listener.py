"""One PostgreSQL ``LISTEN`` connection in a thread, for every channel a process listens
on, handing each notification's payload to the handler of its channel.

A channel is added with its handler and its ``on_listening``, before the thread starts
or while it runs (the thread listens on it at its next look, within ``_WAKE_S``).
Notifications sent while the connection is down are lost: each channel's
``on_listening`` is called each time the connection listens on it again (first
included), so its owner can look for what it may have missed, and with False when the
connection is lost. ``listening`` is set only while the connection listens on every
channel added.

``unheard`` says whether a notification may have reached the connection's socket without
being handed over yet: the thread reads the socket and calls the handlers under one lock,
so a caller that sees neither bytes waiting nor a handler's call has missed nothing sent
before (a change committed just before the caller looked, its notification in the socket
while this thread waits for the GIL). While the thread runs ``LISTEN`` statements (psycopg
reads the socket then, and hands what it reads to the handlers) it says True at once: the
caller reads, and never waits for a round trip to the database. The socket is the
connection's, for all its channels: a notification of any of them waiting there makes it
True. An owner's handler or ``on_listening`` that raises is logged; the connection and the
other channels go on.
"""

from __future__ import annotations

import logging
import select
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import URL

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

_WAKE_S = 0.25  # how often the thread looks up from the socket: how fast ``stop`` returns
APPLICATION_NAME = "relaydesk listener"  # how the connection shows in pg_stat_activity


@dataclass(frozen=True)
class _Channel:
    handler: Callable[[str], None]
    on_listening: Callable[[bool], None]


class PgListener:
    def __init__(self, url: URL, *, name: str) -> None:
        self._dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._channels: dict[str, _Channel] = {}
        self._lock = threading.Lock()  # the channels, and ``listening`` against them
        self._stop = threading.Event()
        self.listening = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._handing = threading.Lock()  # held while the socket is read and handed over
        self._socket: int | None = None  # while connected
        self._busy = False  # (under ``_handing``) LISTEN statements under way: unheard
        self.handed = 0  # notifications handed over so far
        self.backend_pid: int | None = None  # the connection's server process, while connected

    def add(
        self,
        channel: str,
        handler: Callable[[str], None],
        on_listening: Callable[[bool], None] = lambda _on: None,
    ) -> None:
        """Listen on ``channel`` too (once: a channel added again keeps its first handler)."""
        with self._lock:
            if channel in self._channels:
                return
            self._channels[channel] = _Channel(handler, on_listening)
            self.listening.clear()  # until the connection listens on it too

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            heard: list[str] = []  # the channels this connection listens on
            try:
                with psycopg.connect(
                    self._dsn,
                    autocommit=True,
                    connect_timeout=5,
                    application_name=APPLICATION_NAME,
                ) as conn:
                    # a notification read while a statement runs (a LISTEN) comes here
                    conn.add_notify_handler(lambda note: self._hand(note.channel, note.payload))
                    self.backend_pid = conn.info.backend_pid
                    self._socket = conn.pgconn.socket
                    try:
                        self._hand_over(conn, heard)
                    finally:  # not listening before the socket goes: the owners read
                        self._lost(heard)
                        with self._handing:
                            self._socket = None
                        self.backend_pid = None
            except Exception as exc:  # the database went away: listen again shortly
                log.warning("not listening for %s: %s", ", ".join(self._names()), exc)
                self._stop.wait(1.0)
        self._lost(self._names())

    def _hand_over(self, conn: psycopg.Connection[Any], heard: list[str]) -> None:
        """Listen on each channel added, wait for the socket, and hand over each
        notification read from it."""
        pgconn = conn.pgconn
        while not self._stop.is_set():
            self._listen_on_new(conn, heard)
            readable, _, _ = select.select([pgconn.socket], [], [], _WAKE_S)
            if not readable:
                continue
            with self._handing:
                pgconn.consume_input()  # (raises once the connection is gone)
                while (note := pgconn.notifies()) is not None:
                    self._hand(note.relname.decode(), note.extra.decode())

    def _listen_on_new(self, conn: psycopg.Connection[Any], heard: list[str]) -> None:
        with self._lock:
            new = [channel for channel in self._channels if channel not in heard]
            owners = [self._channels[channel] for channel in new]
        if not new:
            return
        with self._handing:  # from now on ``unheard`` says True without waiting
            self._busy = True
        try:  # (what psycopg reads meanwhile is handed over by the notify handler)
            for channel in new:
                conn.execute(f"LISTEN {channel}")
        finally:
            with self._handing:  # each notification psycopg read was handed over
                self._busy = False
        heard.extend(new)
        # its owner is told first: once ``listening`` is set, it acts on it (a kept read is
        # kept from then on, as its tests expect)
        for owner in owners:
            _tell(owner.on_listening, True)
        with self._lock:
            if all(channel in heard for channel in self._channels):
                self.listening.set()

    def _hand(self, channel: str, payload: str) -> None:
        """(In the thread, under ``_handing``.)"""
        with self._lock:
            owner = self._channels.get(channel)
        if owner is not None:
            _tell(owner.handler, payload)
        self.handed += 1

    def _names(self) -> list[str]:
        with self._lock:
            return list(self._channels)

    def _lost(self, channels: list[str]) -> None:
        self.listening.clear()
        with self._lock:
            owners = [self._channels[channel] for channel in channels]
        for owner in owners:
            _tell(owner.on_listening, False)

    def unheard(self) -> bool:
        """Whether the socket holds bytes not read yet (a notification, maybe), or LISTEN
        statements are under way; False while not connected (the owner reads anyway then:
        it is not listening)."""
        with self._handing:
            sock = self._socket
            if sock is None:
                return False
            if self._busy:
                return True
            try:
                return bool(select.select([sock], [], [], 0)[0])
            except (OSError, ValueError):  # closed meanwhile
                return True


def _tell(call: Callable[[Any], None], value: Any) -> None:
    """An owner's handler or ``on_listening``: one that raises is logged, and the others
    are still told (the connection stays: it is not the connection's fault)."""
    try:
        call(value)
    except Exception:
        log.exception("a listener's owner failed on %r", value)
