"""A message as a row, and many written in one statement (an ingest batch's)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Executable, insert
from sqlalchemy.orm import Session

from router.envelopes import AttachmentRef
from router.vocabulary import Channel, Direction
from store.dialect import insert_rows, table
from store.models import Attachment, Message


@dataclass(frozen=True)
class NewMessage:
    """A message to write: its row (``message_row``) and its files."""

    values: dict[str, Any]
    attachments: Sequence[AttachmentRef] = ()


def message_row(
    ticket_id: int,
    *,
    direction: Direction,
    channel: Channel,
    author: str,
    body_text: str,
    now: datetime,
    body_html: str | None = None,
    full_text: str | None = None,
    headers: dict[str, str] | None = None,
    external_id: str | None = None,
    customer_id: int | None = None,
    agent_id: int | None = None,
    inbox_id: int | None = None,
) -> dict[str, Any]:
    return {
        "ticket_id": ticket_id,
        "direction": direction.value,
        "channel": channel.value,
        "author": author[:320],
        "body_text": body_text,
        "body_html": body_html,
        "full_text": full_text if full_text != body_text else None,
        "headers": headers or {},
        "external_id": external_id,
        "customer_id": customer_id,
        "agent_id": agent_id,
        "inbox_id": inbox_id,
        "created_at": now,
    }


def insert_messages(session: Session, new: Sequence[NewMessage]) -> list[int]:
    """Write ``new``: their ids, in the order given; then every file of theirs in one
    statement.

    Many in one statement, matched back by inbox id (each of an ingest batch's messages
    comes from its own inbox row); a statement a message when one has none (the desk's
    replies and notes, on SQLite)."""
    ids: list[int] = insert_rows(session, Message, [n.values for n in new], match_on="inbox_id")
    files = [
        {
            "message_id": message_id,
            "filename": a.filename[:255],
            "content_type": a.content_type[:255],
            "size": a.size,
            "sha256": a.sha256,
            "inline": a.inline,
            "content_id": (a.content_id or None) and a.content_id[:255],
            "skipped": a.skipped,
        }
        for message_id, one in zip(ids, new, strict=True)
        for a in one.attachments
    ]
    if files:
        session.execute(_insert_files(), files)
    return ids


@cache
def _insert_files() -> Executable:
    return insert(table(Attachment))
