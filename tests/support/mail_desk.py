"""An embedded desk that takes raw mail as the SMTP server and the IMAP poller hand it over."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.conftest import make_settings
from tests.support.desk import Desk, desk_for
from workers.channels.mail_intake import InboundMail


class MailDesk(Desk):
    def mail(self, raw: bytes, *, recipients: tuple[str, ...] = (), source: str = "smtp") -> int:
        """Hand ``raw`` over as a connector would; the ticket it ended on (0 if none)."""
        inbox_id = InboundMail(self.runtime).accept(raw, recipients=recipients, source=source)
        self.settle()
        receipt = self.intake.receipt(inbox_id)
        assert receipt is not None
        return receipt.ticket_number or 0

    def inbox_row(self, source_bytes: bytes):  # type: ignore[no-untyped-def]
        inbox_id = InboundMail(self.runtime).accept(source_bytes, recipients=(), source="smtp")
        self.settle()
        with self.runtime.db.unit_of_work() as uow:
            return uow.inbox.get(inbox_id)

    def actions(self, number: int) -> list[str]:
        with self.runtime.db.unit_of_work() as uow:
            return [e.action for e in uow.audit.for_ticket(number)]


def mail_desk(database_url: str, tmp_path: Path, **env: Any) -> Iterator[MailDesk]:
    """A running ``MailDesk`` on ``database_url``; ``env``: settings as environment strings."""
    settings = make_settings(
        database_url,
        relaydesk_email__attachments_dir=str(tmp_path / "files"),
        relaydesk_retries__ingest__min_backoff_ms="10",
        relaydesk_retries__ingest__max_backoff_ms="20",
        **env,
    )
    for plain in desk_for(settings):
        yield MailDesk(runtime=plain.runtime, intake=plain.intake, sender=plain.sender)
