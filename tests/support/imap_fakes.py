"""In-memory stand-ins for the IMAP poller's state and sink, recording what it did."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from router.errors import TransientError


class MemoryState:
    """``MailboxState`` in memory, thread-safe, keeping every report."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.positions: dict[str, tuple[int, int]] = {}
        self.reports: dict[str, list[str | None]] = {}

    def load(self, mailbox: str) -> tuple[int, int] | None:
        with self.lock:
            return self.positions.get(mailbox)

    def save(self, mailbox: str, uidvalidity: int, last_uid: int) -> None:
        with self.lock:
            self.positions[mailbox] = (uidvalidity, last_uid)

    def report(self, mailbox: str, error: str | None) -> None:
        with self.lock:
            self.reports.setdefault(mailbox, []).append(error)

    def last_report(self, mailbox: str) -> str | None:
        with self.lock:
            return self.reports.get(mailbox, ["never reported"])[-1]


class RecordingSink:
    """``MessageSink`` recording deliveries, as a store commits them (a batch all or none);
    a message whose UID is in ``failing`` cannot be committed (``TransientError``)."""

    def __init__(
        self,
        failing: tuple[int, ...] = (),
        before: Callable[[str, int, int, bytes], None] | None = None,
    ) -> None:
        self.lock = threading.Lock()
        self.failing = set(failing)
        self.before = before
        self.delivered: list[tuple[str, int, int, bytes]] = []
        self.commits: list[list[int]] = []  # the UIDs of each successful call
        self.refused: list[tuple[int, bytes, str]] = []  # (UID, headers, why) kept, not delivered

    def deliver(self, mailbox: str, uidvalidity: int, uid: int, raw: bytes) -> None:
        self.deliver_many(mailbox, uidvalidity, [(uid, raw)])

    def deliver_many(
        self, mailbox: str, uidvalidity: int, messages: Sequence[tuple[int, bytes]]
    ) -> None:
        with self.lock:
            refused = [uid for uid, _raw in messages if uid in self.failing]
            if refused:
                raise TransientError(f"store unavailable (UID {refused[0]})")
        for uid, raw in messages:
            if self.before is not None:
                self.before(mailbox, uidvalidity, uid, raw)
        with self.lock:
            self.delivered.extend((mailbox, uidvalidity, uid, raw) for uid, raw in messages)
            self.commits.append([uid for uid, _raw in messages])

    def keep_refused(
        self, mailbox: str, uidvalidity: int, uid: int, headers: bytes, reason: str
    ) -> None:
        with self.lock:
            if uid in self.failing:
                raise TransientError(f"store unavailable (UID {uid})")
            self.refused.append((uid, headers, reason))

    def uids(self, mailbox: str | None = None) -> list[int]:
        with self.lock:
            return [uid for name, _v, uid, _r in self.delivered if mailbox in (None, name)]

    def subjects(self) -> list[str]:
        with self.lock:
            return [subject_of(raw) for *_rest, raw in self.delivered]


def subject_of(raw: bytes) -> str:
    for line in raw.split(b"\r\n"):
        if line.startswith(b"Subject: "):
            return line[len(b"Subject: ") :].decode()
    return ""
