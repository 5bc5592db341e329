"""The email connectors' sinks: commit raw mail to the inbox, then enqueue its ingest.

The IMAP poller and the inbound SMTP server only receive bytes; these adapters
make them durable through the same intake every channel uses, and keep the
IMAP cursors in the store.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from connectors.email.normalize import envelope_message
from connectors.ports import Receipt
from router.envelopes import InboundMessage
from store.errors import store_errors
from workers.channels.intake import StoreIntake
from workers.runtime.context import Runtime

log = logging.getLogger(__name__)


class InboundMail:
    """Raw mail -> one committed inbox row (a redelivery is a no-op)."""

    def __init__(self, runtime: Runtime, *, gather_s: float = 0.0) -> None:
        self.intake = StoreIntake(runtime, gather_s=gather_s)

    def accept(self, raw: bytes, *, recipients: tuple[str, ...], source: str) -> int:
        """Commit one message (with those other threads accept meanwhile); its inbox id."""
        message = envelope_message(raw, recipients=recipients, source=source)
        receipt = self.intake.accept(message, raw=raw)  # TransientError when it cannot commit
        _log(message, receipt, source)
        return receipt.inbox_id

    def accept_many(
        self, raws: Sequence[bytes], *, recipients: tuple[str, ...], source: str
    ) -> list[int]:
        """Commit every message in one transaction (all or none); their inbox ids."""
        messages = [envelope_message(raw, recipients=recipients, source=source) for raw in raws]
        # TransientError when it cannot commit
        receipts = self.intake.accept_many(list(zip(messages, raws, strict=True)))
        for message, receipt in zip(messages, receipts, strict=True):
            _log(message, receipt, source)
        return [receipt.inbox_id for receipt in receipts]

    def keep_refused(self, headers: bytes, *, source: str, reason: str) -> int:
        """A message that is not ingested (too large), kept by its header section as a
        failed inbox row with ``reason``."""
        message = envelope_message(headers, source=source)
        # a key of its own: the whole message, fetched one day (a higher limit and a
        # resynchronisation), is then not taken for a copy of this stand-in
        stand_in = replace(message, idempotency_key=f"refused {message.idempotency_key}"[:512])
        receipt = self.intake.keep_failed(stand_in, raw=headers, reason=reason)
        return receipt.inbox_id


def _log(message: InboundMessage, receipt: Receipt, source: str) -> None:
    if receipt.conflict:
        log.warning(
            "email %s via %s reuses the Message-ID of another message from the same "
            "sender with other content; kept the first (inbox %d)",
            message.idempotency_key,
            source,
            receipt.inbox_id,
        )
    elif receipt.duplicate:
        log.info("email %s via %s was accepted before", message.idempotency_key, source)


class SmtpMailSink:
    """``connectors.email.smtp_inbound.MailSink`` over the inbox."""

    def __init__(self, runtime: Runtime) -> None:
        wait_ms = runtime.settings.email.inbound_smtp.commit_wait_ms
        self.mail = InboundMail(runtime, gather_s=wait_ms / 1000)

    def sessions(self, open_now: int) -> None:
        """The server's open sessions (its ``on_sessions``): a client waits for its 250
        before it sends its next message, so each open session's is the one to wait for."""
        self.mail.intake.expect(open_now)

    def deliver(self, raw: bytes, *, mail_from: str, recipients: tuple[str, ...]) -> None:
        # the envelope sender is what marks a bounce or an auto-reply (MAIL FROM:<>):
        # keep it, as a delivering MTA does, in a Return-Path header
        stamped = b"Return-Path: <" + _header_safe(mail_from).encode() + b">\r\n" + raw
        self.mail.accept(stamped, recipients=recipients, source="smtp")


def _header_safe(address: str) -> str:
    return "".join(c for c in address if c.isprintable() and c not in "<>\r\n")


class ImapMessageSink:
    """``connectors.ports.MessageSink`` over the inbox."""

    def __init__(self, runtime: Runtime) -> None:
        self.mail = InboundMail(runtime)

    def deliver(self, mailbox: str, uidvalidity: int, uid: int, raw: bytes) -> None:
        self.mail.accept(raw, recipients=(), source=f"imap:{mailbox}")

    def deliver_many(
        self, mailbox: str, uidvalidity: int, messages: Sequence[tuple[int, bytes]]
    ) -> None:
        self.mail.accept_many(
            [raw for _uid, raw in messages], recipients=(), source=f"imap:{mailbox}"
        )

    def keep_refused(
        self, mailbox: str, uidvalidity: int, uid: int, headers: bytes, reason: str
    ) -> None:
        self.mail.keep_refused(headers, source=f"imap:{mailbox}", reason=reason)


class StoreMailboxState:
    """``connectors.ports.MailboxState``: the IMAP cursors, kept in the store."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def load(self, mailbox: str) -> tuple[int, int] | None:
        with (
            store_errors(f"reading mailbox {mailbox}'s cursor"),
            self.runtime.db.unit_of_work() as uow,
        ):
            return uow.mailboxes.load(mailbox)

    def save(self, mailbox: str, uidvalidity: int, last_uid: int) -> None:
        with (
            store_errors(f"saving mailbox {mailbox}'s cursor"),
            self.runtime.db.unit_of_work() as uow,
        ):
            uow.mailboxes.save(mailbox, uidvalidity, last_uid, self.runtime.now())

    def report(self, mailbox: str, error: str | None) -> None:
        """The poller logs it when this cannot be recorded, and goes on."""
        with (
            store_errors(f"recording mailbox {mailbox}'s state"),
            self.runtime.db.unit_of_work() as uow,
        ):
            uow.mailboxes.report(mailbox, error, self.runtime.now())
