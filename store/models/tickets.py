"""Tickets, their messages and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.models.base import Base, JSONType, UTCDateTime
from store.models.people import Agent, Customer, Team

if TYPE_CHECKING:
    from store.models.mail import Attachment

# the tickets the requester follow-ups look at (a partial index's condition)
WAITING_ON_REQUESTERS = "status IN ('pending', 'resolved')"


class Ticket(Base):
    """``id`` is the human-friendly ticket number shown as ``#id``."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_backlog", "team_id", "assignee_id", "status", "priority_rank", "id"),
        Index("ix_tickets_requester", "requester_id", "status"),
        Index("ix_tickets_assignee", "assignee_id", "status", "channel"),
        # the reports' raw queries: by period of creation, first response and resolution
        Index("ix_tickets_created", "created_at"),
        # the reports' top requesters and organisations: an index-only scan of a period
        Index("ix_tickets_created_requester", "created_at", "requester_id", "team_id"),
        # a long period's top requesters: counted per requester in this order, streamed
        Index("ix_tickets_requester_created", "requester_id", "created_at", "team_id"),
        Index("ix_tickets_first_response", "first_response_at"),
        Index("ix_tickets_done", "done_at"),
        Index("ix_tickets_updated", "updated_at"),  # what the rollups refresh
        # the staff list's orders walked in an index: most urgent first, a team's latest
        Index("ix_tickets_priority_order", "priority_rank", "created_at", "id"),
        Index("ix_tickets_team_updated", "team_id", "updated_at", "id"),
        # the requester follow-ups' tickets, oldest first (``waiting_on_requesters``: its
        # statuses written as literals, so a generic plan can use it): without it the
        # follow-ups walked the primary key past every closed ticket (280 ms at 300,000)
        Index(
            "ix_tickets_waiting_on_requesters",
            "id",
            postgresql_where=text(WAITING_ON_REQUESTERS),
            sqlite_where=text(WAITING_ON_REQUESTERS),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(998), default="")
    status: Mapped[str] = mapped_column(String(16), index=True)
    priority: Mapped[str] = mapped_column(String(16))
    priority_rank: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(64), default="general")
    channel: Mapped[str] = mapped_column(String(16))
    requester_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    requester_address: Mapped[str] = mapped_column(String(320))  # where answers go
    # the address of ours the requester wrote to: From and Reply-To of our mail to them
    # (None: helpdesk.address)
    reply_address: Mapped[str | None] = mapped_column(String(320), nullable=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    # closed as merged into this ticket: its messages moved there, and what still comes
    # in on its thread (mail, chat, its requester's page) goes there (workers.desk.merges)
    merged_into_id: Mapped[int | None] = mapped_column(Integer)  # a ticket number
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    required_skills: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict)
    optional_skills: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict)
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # waiting for an agent since
    access_key: Mapped[str] = mapped_column(String(64))  # lets the requester read the ticket
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # for the reports (router.report_facts): when it was last resolved, or closed without
    # a resolution (None while not done), and that instant before its last reopen
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    prior_done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reply_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # public
    first_responder_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL")
    )
    # business time as the SLA clocks counted it, once stopped (None: no clock, or running)
    first_response_business_s: Mapped[float | None] = mapped_column(Float)
    resolution_business_s: Mapped[float | None] = mapped_column(Float)
    form: Mapped[str | None] = mapped_column(String(64))  # the web form's slug, if any
    # pending since when (None: not pending), and when its requester was reminded of it
    pending_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    requester: Mapped[Customer] = relationship()
    assignee: Mapped[Agent | None] = relationship(foreign_keys=[assignee_id])
    team: Mapped[Team | None] = relationship()
    messages: Mapped[list[Message]] = relationship(
        back_populates="ticket", order_by="Message.id", cascade="all, delete-orphan"
    )

    @property
    def number(self) -> int:
        return self.id


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_created", "created_at"),)  # replies in a period

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    author: Mapped[str] = mapped_column(String(320))  # "Jo <jo@x>", "agent:ana", "system"
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str | None] = mapped_column(Text)
    full_text: Mapped[str | None] = mapped_column(Text)  # with quoted history, when trimmed
    headers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    external_id: Mapped[str | None] = mapped_column(String(998), index=True)  # Message-ID
    merged_from_id: Mapped[int | None] = mapped_column(Integer)  # moved here by a merge of it
    inbox_id: Mapped[int | None] = mapped_column(ForeignKey("inbox.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    ticket: Mapped[Ticket] = relationship(back_populates="messages")
    attachments: Mapped[list[Attachment]] = relationship(
        order_by="Attachment.id", lazy="selectin", viewonly=True
    )


class AuditEvent(Base):
    """Who did what to which ticket, when, and why."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    actor: Mapped[str] = mapped_column(String(320))  # "system:route", "agent:ana", "cli"
    action: Mapped[str] = mapped_column(String(64))  # router.vocabulary.AuditAction's values
    detail: Mapped[str] = mapped_column(Text, default="")  # the why, in words
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # the configuration version in force where it was written (config/versions.py):
    # which rules, roster and SLA policies made a decision
    config_version: Mapped[str | None] = mapped_column(String(16), index=True)
