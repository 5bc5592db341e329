"""Read-only views of tickets handed to the edges (web API, command line)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class AttachmentView:
    filename: str
    content_type: str
    size: int
    kept: bool  # False when it was over a size limit: listed, bytes not kept
    note: str = ""  # why it was not kept
    sha256: str | None = None  # the name its bytes are kept by (store.files), when kept


@dataclass(frozen=True)
class MessageView:
    direction: str
    channel: str
    author: str
    body_text: str
    created_at: datetime
    attachments: tuple[AttachmentView, ...] = ()


@dataclass(frozen=True)
class TicketView:
    number: int
    subject: str
    status: str
    priority: str
    category: str
    channel: str
    requester_name: str
    requester_address: str
    assignee: str | None
    team: str | None
    created_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    messages: tuple[MessageView, ...] = ()
    parent: int | None = None  # the closed ticket this one follows up
    access_key: str = ""  # the requester's secret: never shown to anyone else
    assignee_display_name: str = ""  # the assignee's full name, as configured
    organisation: str | None = None  # the requester's organisation
    merged_into: int | None = None  # closed as merged into that ticket (the same requester's)
    requester_language: str | None = None  # the language the desk writes to them in
