"""``ImapConnector``: one ``ImapPoller`` thread per mailbox."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from config.email_settings import MailboxSettings
from connectors.email.imap import ImapPoller
from connectors.ports import MailboxState, MessageSink


class ImapConnector:
    """One ``ImapPoller`` thread per mailbox; a failing mailbox never stops another."""

    def __init__(
        self,
        mailboxes: Iterable[MailboxSettings],
        sink: MessageSink,
        state: MailboxState,
        *,
        poller: Callable[[MailboxSettings, MessageSink, MailboxState], ImapPoller] = ImapPoller,
    ) -> None:
        self.pollers = tuple(poller(m, sink, state) for m in mailboxes)
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for poller in self.pollers:
            thread = threading.Thread(target=poller.run, name=f"imap-{poller.name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        for poller in self.pollers:
            poller.stop()

    def join(self, timeout: float | None = None) -> None:
        for thread in self._threads:
            thread.join(timeout)
