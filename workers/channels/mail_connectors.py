"""Running the email connectors: the IMAP pollers and the inbound SMTP server.

``relaydesk serve`` starts whatever is configured next to the web intake;
``relaydesk connector imap|smtp`` runs one kind on its own (distributed mode).
"""

from __future__ import annotations

import logging
import threading

from config.email_settings import unread_reply_address
from connectors.email.imap_connector import ImapConnector
from connectors.email.smtp_inbound import SmtpInboundServer
from workers.channels.mail_intake import ImapMessageSink, SmtpMailSink, StoreMailboxState
from workers.runtime.connector_metrics import CountedMailboxState, CountedMailSink
from workers.runtime.context import Runtime

log = logging.getLogger(__name__)


class MailConnectors:
    """The email connectors of one process, started and stopped together."""

    def __init__(self, runtime: Runtime, *, imap: bool = True, smtp: bool = True) -> None:
        self.runtime = runtime
        email = runtime.settings.email
        self.imap = imap and bool(email.mailboxes)
        self.smtp = smtp
        self._pollers: ImapConnector | None = None
        self._server: SmtpInboundServer | None = None

    def start(self) -> list[str]:
        """Start them; one line per connector saying where it listens or what it reads.

        If one cannot start, those already started are stopped before the error
        propagates.
        """
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> list[str]:
        lines = []
        email = self.runtime.settings.email
        unread = unread_reply_address(self.runtime.settings.helpdesk.address, email)
        if unread and (self.smtp or self.imap):
            log.warning("%s", unread)
            lines.append(f"warning: {unread}")
        if self.smtp:
            sink = CountedMailSink(SmtpMailSink(self.runtime), self.runtime.connector_health)
            server = SmtpInboundServer(email.inbound_smtp, sink, on_sessions=sink.sessions)
            server.start()
            self._server = server
            host, port = server.address
            accepts = ", ".join((*email.inbound_smtp.addresses, *email.inbound_smtp.domains))
            lines.append(f"inbound SMTP on {host}:{port} for {accepts}")
        if self.imap:
            state = CountedMailboxState(
                StoreMailboxState(self.runtime), self.runtime.connector_health
            )
            pollers = ImapConnector(email.mailboxes, ImapMessageSink(self.runtime), state)
            pollers.start()
            self._pollers = pollers
            for mailbox in email.mailboxes:
                lines.append(
                    f"IMAP {mailbox.name}: {mailbox.username}@{mailbox.host}:{mailbox.port}"
                    f"/{mailbox.folder}, then {mailbox.after}"
                )
        return lines

    @property
    def smtp_address(self) -> tuple[str, int] | None:
        """Where the inbound SMTP server listens, once started."""
        return self._server.address if self._server is not None else None

    def stop(self) -> None:
        if self._pollers is not None:
            self._pollers.stop()
            self._pollers.join()
            self._pollers = None
        if self._server is not None:
            self._server.stop()
            self._server = None


def run_mail_connectors(runtime: Runtime, *, imap: bool, smtp: bool, stop: threading.Event) -> None:
    """Run until ``stop`` is set (the caller sets it on SIGINT/SIGTERM)."""
    connectors = MailConnectors(runtime, imap=imap, smtp=smtp)
    for line in connectors.start():
        print(f"relaydesk connector: {line}", flush=True)
    try:
        stop.wait()
    finally:
        connectors.stop()
