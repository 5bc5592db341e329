"""IMAP cursors: how far the poller has read each mailbox (UIDVALIDITY and last UID)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import MailboxCursor


class MailboxCursorRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def load(self, mailbox: str) -> tuple[int, int] | None:
        row = self.session.execute(
            select(MailboxCursor.uidvalidity, MailboxCursor.last_uid).where(
                MailboxCursor.mailbox == mailbox
            )
        ).first()
        return None if row is None else (int(row[0]), int(row[1]))

    def save(self, mailbox: str, uidvalidity: int, last_uid: int, now: datetime) -> None:
        """Move the cursor; never backwards within one UIDVALIDITY."""
        cursor = self.session.get(MailboxCursor, mailbox, with_for_update=True)
        if cursor is None:
            self.session.add(
                MailboxCursor(
                    mailbox=mailbox, uidvalidity=uidvalidity, last_uid=last_uid, updated_at=now
                )
            )
            return
        if cursor.uidvalidity == uidvalidity and cursor.last_uid > last_uid:
            return
        cursor.uidvalidity = uidvalidity
        cursor.last_uid = last_uid
        cursor.updated_at = now

    def report(self, mailbox: str, error: str | None, now: datetime) -> None:
        cursor = self.session.get(MailboxCursor, mailbox)
        if cursor is None:
            self.session.add(
                MailboxCursor(
                    mailbox=mailbox, uidvalidity=0, last_uid=0, last_error=error, updated_at=now
                )
            )
        elif cursor.last_error != error:
            cursor.last_error = error
            cursor.updated_at = now

    def all(self) -> list[MailboxCursor]:
        return list(self.session.scalars(select(MailboxCursor).order_by(MailboxCursor.mailbox)))
