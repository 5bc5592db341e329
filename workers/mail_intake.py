"""The email connectors' sinks: commit raw mail to the inbox, then enqueue its ingest.

The IMAP poller and the inbound SMTP server only receive bytes; these adapters
make them durable through the same intake every channel uses, and keep the
IMAP cursors in the store.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError

from connectors.email.normalize import envelope_message
from router.errors import TransientError
from workers.intake import StoreIntake
from workers.runtime import Runtime

log = logging.getLogger(__name__)


class InboundMail:
    """Raw mail -> one committed inbox row (a redelivery is a no-op)."""

    def __init__(self, runtime: Runtime) -> None:
        self.intake = StoreIntake(runtime)

    def accept(self, raw: bytes, *, recipients: tuple[str, ...], source: str) -> int:
        message = envelope_message(raw, recipients=recipients, source=source)
        receipt = self.intake.accept(message, raw=raw)  # TransientError when it cannot commit
        if receipt.duplicate:
            log.info("email %s via %s was accepted before", message.idempotency_key, source)
        return receipt.inbox_id


class SmtpMailSink:
    """``connectors.email.smtp_inbound.MailSink`` over the inbox."""

    def __init__(self, runtime: Runtime) -> None:
        self.mail = InboundMail(runtime)

    def deliver(self, raw: bytes, *, mail_from: str, recipients: tuple[str, ...]) -> None:
        self.mail.accept(raw, recipients=recipients, source="smtp")


class ImapMessageSink:
    """``connectors.email.imap.MessageSink`` over the inbox."""

    def __init__(self, runtime: Runtime) -> None:
        self.mail = InboundMail(runtime)

    def deliver(self, mailbox: str, uidvalidity: int, uid: int, raw: bytes) -> None:
        self.mail.accept(raw, recipients=(), source=f"imap:{mailbox}")


class StoreMailboxState:
    """``connectors.email.imap.MailboxState``: the IMAP cursors, kept in the store."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def load(self, mailbox: str) -> tuple[int, int] | None:
        try:
            with self.runtime.db.unit_of_work() as uow:
                return uow.mailboxes.load(mailbox)
        except SQLAlchemyError as exc:
            raise TransientError(f"the store is unavailable: {exc}") from None

    def save(self, mailbox: str, uidvalidity: int, last_uid: int) -> None:
        try:
            with self.runtime.db.unit_of_work() as uow:
                uow.mailboxes.save(mailbox, uidvalidity, last_uid, self.runtime.now())
        except SQLAlchemyError as exc:
            raise TransientError(f"the store is unavailable: {exc}") from None

    def report(self, mailbox: str, error: str | None) -> None:
        try:
            with self.runtime.db.unit_of_work() as uow:
                uow.mailboxes.report(mailbox, error, self.runtime.now())
        except SQLAlchemyError:
            log.warning("could not record the state of mailbox %s", mailbox)
