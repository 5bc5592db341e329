"""The staff API's ticket bodies (pydantic): a list's rows and a ticket in full."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from router.staff_ticket_views import (
    AuditEntry,
    ClockState,
    ClockView,
    StaffAttachment,
    StaffMessage,
    StaffTicket,
    TicketPage,
    TicketSummary,
)


class TicketRowOut(BaseModel):
    number: int
    subject: str
    status: str
    priority: str
    category: str
    channel: str
    team: str | None
    assignee: str | None
    requester_name: str
    requester_address: str
    customer_id: int
    organisation: str | None
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    next_due_at: datetime | None = Field(description="The earliest deadline of a running clock.")
    breached: bool = Field(description="An SLA clock is breached and still running.")

    @classmethod
    def of(cls, row: TicketSummary) -> TicketRowOut:
        return cls(**{**row.__dict__, "tags": list(row.tags)})


class TicketListOut(BaseModel):
    tickets: list[TicketRowOut]
    next_cursor: str | None = Field(
        description="Pass it as `cursor` (with the same filters and sort) for the next page; "
        "null on the last page."
    )

    @classmethod
    def of(cls, page: TicketPage) -> TicketListOut:
        return cls(tickets=[TicketRowOut.of(t) for t in page.tickets], next_cursor=page.next_cursor)


class AttachmentOut(BaseModel):
    id: int = Field(description="Download it at `/api/v1/desk/attachments/{id}`.")
    filename: str
    content_type: str
    size: int
    kept: bool = Field(description="False: listed, but its bytes were not kept (see note).")
    note: str

    @classmethod
    def of(cls, a: StaffAttachment) -> AttachmentOut:
        return cls(**a.__dict__)


class MessageOut(BaseModel):
    id: int
    direction: str = Field(description="inbound, outbound or internal.")
    internal: bool = Field(description="An internal note: never shown to the requester.")
    channel: str
    author: str
    body_text: str
    created_at: datetime
    attachments: list[AttachmentOut]
    merged_from: int | None = Field(
        None, description="Moved here from this ticket when it was merged into this one."
    )

    @classmethod
    def of(cls, m: StaffMessage) -> MessageOut:
        return cls(**{**m.__dict__, "attachments": [AttachmentOut.of(a) for a in m.attachments]})


class ClockOut(BaseModel):
    kind: str = Field(description="first_response, next_response or resolution.")
    policy: str
    calendar: str
    state: ClockState
    target_s: float | None = Field(description="Business seconds allowed; null: no target.")
    consumed_s: float = Field(description="Business seconds used when it last changed.")
    started_at: datetime
    warn_at: datetime | None
    due_at: datetime | None
    warned_at: datetime | None
    breached_at: datetime | None
    stopped_at: datetime | None

    @classmethod
    def of(cls, c: ClockView) -> ClockOut:
        return cls(**c.__dict__)


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str = Field(description="agent:NAME, cli, system:route, ...")
    action: str
    detail: str = Field(description="What and why, in words.")
    data: dict[str, Any] = Field(
        description="Details; `origin` says how the actor was identified and from where."
    )

    @classmethod
    def of(cls, e: AuditEntry) -> AuditOut:
        return cls(**e.__dict__)


class StaffTicketOut(BaseModel):
    """A ticket in full for staff; `version` is the ETag a write sends back as If-Match."""

    number: int
    subject: str
    status: str
    priority: str
    category: str
    channel: str
    team: str | None
    assignee: str | None
    requester_name: str
    requester_address: str
    customer_id: int
    organisation: str | None
    tier: str | None
    tags: list[str]
    form: str | None = Field(
        None, description="The slug of the form the requester filled in; null: no form."
    )
    form_title: str | None = Field(
        None,
        description="The form's title in the reader's language (the agent's configured "
        "language, else Accept-Language, else the desk's); its slug when the form is no "
        "longer configured; null: no form.",
    )
    custom_fields: dict[str, Any] = Field(description="The fields the form asked, by name.")
    parent: int | None = Field(description="The closed ticket this one follows up.")
    created_at: datetime
    updated_at: datetime
    assigned_at: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    messages: list[MessageOut] = Field(description="The conversation, notes included, in order.")
    clocks: list[ClockOut] = Field(description="The SLA clocks.")
    assignment_reasons: list[AuditOut] = Field(
        description="Why it is (or is not) with whom: the assignments of the audit log."
    )
    audit: list[AuditOut] = Field(description="Every event, oldest first.")
    version: str
    merged_into: int | None = Field(
        None,
        description="Closed as merged into this ticket: its messages and what comes later "
        "on its thread are there.",
    )

    @classmethod
    def of(cls, t: StaffTicket, form_title: str | None = None) -> StaffTicketOut:
        return cls(
            **{
                **t.__dict__,
                "form_title": form_title,
                "tags": list(t.tags),
                "messages": [MessageOut.of(m) for m in t.messages],
                "clocks": [ClockOut.of(c) for c in t.clocks],
                "assignment_reasons": [AuditOut.of(e) for e in t.assignment_reasons],
                "audit": [AuditOut.of(e) for e in t.audit],
            }
        )
