"""Tickets as staff see them: a list's rows and a ticket in full, handed to the edges.

Frozen views, no IO. Unlike ``router.ticket_views`` (the requester's view), these
carry internal notes, the audit log and the SLA clocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from router.vocabulary import AuditAction


@dataclass(frozen=True)
class TicketSummary:
    """One row of a ticket list."""

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
    tags: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    next_due_at: datetime | None  # the earliest deadline of a running clock
    breached: bool  # a clock is breached and still running


@dataclass(frozen=True)
class TicketPage:
    tickets: tuple[TicketSummary, ...]
    next_cursor: str | None  # None: this was the last page


class ClockState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"  # waiting on the customer
    MET = "met"  # stopped in time
    BREACHED = "breached"  # past its deadline (running or stopped since)
    UNTIMED = "untimed"  # recorded, no target


def clock_state(
    *, target_s: float | None, paused: bool, stopped: bool, breached: bool
) -> ClockState:
    if breached:
        return ClockState.BREACHED
    if stopped:
        return ClockState.MET
    if target_s is None:
        return ClockState.UNTIMED
    return ClockState.PAUSED if paused else ClockState.RUNNING


@dataclass(frozen=True)
class ClockView:
    kind: str  # first_response, next_response, resolution
    policy: str
    calendar: str
    state: ClockState
    target_s: float | None
    consumed_s: float
    started_at: datetime
    warn_at: datetime | None
    due_at: datetime | None
    warned_at: datetime | None
    breached_at: datetime | None
    stopped_at: datetime | None


@dataclass(frozen=True)
class StaffAttachment:
    id: int
    filename: str
    content_type: str
    size: int
    kept: bool  # False: listed, its bytes not kept (``note`` says why)
    note: str = ""


@dataclass(frozen=True)
class StaffMessage:
    id: int
    direction: str  # inbound, outbound, internal
    internal: bool  # an internal note: never shown to the requester
    channel: str
    author: str
    body_text: str
    created_at: datetime
    attachments: tuple[StaffAttachment, ...] = ()
    quoted: str = ""  # the quoted history ingest cut from ``body_text`` (shown folded)
    merged_from: int | None = None  # moved here when that ticket was merged into this one


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    detail: str
    data: dict[str, Any]


ASSIGNMENT_ACTIONS = frozenset(
    {
        AuditAction.TICKET_ASSIGNED,  # by routing (its reasons in words) or by a person
        AuditAction.TICKET_TRANSFERRED,
        AuditAction.TICKET_CLAIMED,
        AuditAction.TICKET_UNASSIGNED,
        AuditAction.TICKET_OFFERED,  # claim mode: offered to these agents
        AuditAction.TICKET_WAITING,  # no agent could take it: why
        AuditAction.TICKET_RELAXED,  # routing relaxed a requirement to find one
    }
)


@dataclass(frozen=True)
class StaffTicket:
    """A ticket in full for staff; ``version`` is its ETag (changes with every change)."""

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
    tags: tuple[str, ...]
    custom_fields: dict[str, Any]
    parent: int | None
    created_at: datetime
    updated_at: datetime
    assigned_at: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    messages: tuple[StaffMessage, ...]
    clocks: tuple[ClockView, ...]
    audit: tuple[AuditEntry, ...]
    version: str
    merged_into: int | None = None  # closed as merged into that ticket
    form: str | None = None  # the slug of the form the requester filled in, if any

    @property
    def assignment_reasons(self) -> tuple[AuditEntry, ...]:
        """Why it is (or is not) with whom: the audit log's assignments, oldest first."""
        return tuple(e for e in self.audit if e.action in ASSIGNMENT_ACTIONS)


def quoted_history(full_text: str | None, shown: str) -> str:
    """What ``full_text`` (a message as it came) has beyond ``shown`` (what its writer
    added, history cut at ingest): the quoted history, "" when nothing was cut."""
    if not full_text or not full_text.strip() or full_text.strip() == shown.strip():
        return ""
    full = full_text.replace("\r\n", "\n").replace("\r", "\n")
    start = full.find(shown.strip()) if shown.strip() else -1
    if start < 0:
        return full.strip("\n")
    return (full[:start] + full[start + len(shown.strip()) :]).strip("\n")
