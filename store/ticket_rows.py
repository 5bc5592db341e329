"""A new ticket as a row, and many written in one statement (an ingest batch's)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from router.vocabulary import Channel, Priority, Status
from store.dialect import insert_rows
from store.models import Ticket


def new_access_key() -> str:
    """A new ticket's secret for its requester's link."""
    return secrets.token_urlsafe(18)


def ticket_row(
    *,
    subject: str,
    channel: Channel,
    requester_id: int,
    requester_address: str,
    priority: Priority,
    category: str,
    team_id: int | None,
    now: datetime,
    custom_fields: dict[str, Any] | None = None,
    parent_id: int | None = None,
    access_key: str | None = None,
    required_skills: dict[str, int] | None = None,
    optional_skills: dict[str, int] | None = None,
    tags: list[str] | None = None,
    reply_address: str | None = None,
    form: str | None = None,
) -> dict[str, Any]:
    """A new ticket, waiting for an agent from ``now`` (``TicketRepository.create``)."""
    return {
        "access_key": access_key or new_access_key(),
        "subject": subject[:998],
        "status": Status.NEW.value,
        "priority": priority.value,
        "priority_rank": priority.rank,
        "category": category,
        "channel": channel.value,
        "requester_id": requester_id,
        "requester_address": requester_address,
        "reply_address": reply_address,
        "team_id": team_id,
        "parent_id": parent_id,
        "custom_fields": custom_fields or {},
        "required_skills": required_skills or {},
        "optional_skills": optional_skills or {},
        "tags": tags or [],
        "form": form,
        "queued_at": now,
        "created_at": now,
        "updated_at": now,
    }


def insert_tickets(session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Write ``rows`` (made by ``ticket_row``): their numbers, in the order given (many in
    one statement, matched back by access key: random, so one a row)."""
    return insert_rows(session, Ticket, rows, match_on="access_key")
