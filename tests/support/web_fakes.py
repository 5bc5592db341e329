"""A web helpdesk in memory, behind the same ports as the real one: for the web app's tests."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from config.settings import HelpdeskSettings, Settings, TeamSettings, WebSettings
from connectors.ports import Receipt
from connectors.web.app import create_app
from router.envelopes import InboundMessage
from router.errors import PermanentError, TransientError
from router.ticket_views import MessageView, TicketView
from router.vocabulary import Priority

NOW = datetime(2024, 5, 6, 9, 30, tzinfo=UTC)


@dataclass
class _Row:
    inbox_id: int
    message: InboundMessage
    ticket_number: int | None = None
    state: str = "pending"
    error: str | None = None
    polls: int = 0


@dataclass
class FakeHelpdesk:
    """Intake and ticket queries in memory.

    ``ingest_after`` is how many status polls it takes for a message to become
    a ticket (0: at once, None: never); ``fail_with`` fails ingestion instead.
    """

    ingest_after: int | None = 0
    fail_with: str | None = None
    accept_down: bool = False
    accept_refuses: str | None = None  # the store refuses a value: this reason
    receipt_down: bool = False
    accepted: dict[str, _Row] = field(default_factory=dict)
    tickets: dict[int, TicketView] = field(default_factory=dict)

    def accept(self, message: InboundMessage, *, raw: bytes | None = None) -> Receipt:
        if self.accept_down:
            raise TransientError("database is locked")
        if self.accept_refuses:
            raise PermanentError(self.accept_refuses)
        row = self.accepted.get(message.idempotency_key)
        if row is not None:
            first = row.message
            if (first.sender_address, first.subject, first.body_text) != (
                message.sender_address,
                message.subject,
                message.body_text,
            ):
                return Receipt(row.inbox_id, duplicate=True, conflict=True)
            return self._receipt(row, duplicate=True)
        row = _Row(inbox_id=len(self.accepted) + 1, message=message)
        self.accepted[message.idempotency_key] = row
        self._progress(row)
        return self._receipt(row, duplicate=False)

    async def wait_settled(self, inbox_id: int, timeout: float) -> None:
        await asyncio.sleep(min(timeout, 0.01))  # no signal here: each look is a "poll"

    def receipt(self, inbox_id: int) -> Receipt | None:
        if self.receipt_down:
            raise TransientError("database is locked")
        row = next((r for r in self.accepted.values() if r.inbox_id == inbox_id), None)
        if row is None:
            return None
        row.polls += 1
        self._progress(row)
        return self._receipt(row, duplicate=False)

    def ticket(self, number: int) -> TicketView | None:
        return self.tickets.get(number)

    def _progress(self, row: _Row) -> None:
        if row.state != "pending" or self.ingest_after is None or row.polls < self.ingest_after:
            return
        if self.fail_with:
            row.state, row.error = "failed", self.fail_with
            return
        row.ticket_number, row.state = 100 + len(self.tickets) + 1, "done"
        message = row.message
        self.tickets[row.ticket_number] = TicketView(
            number=row.ticket_number,
            subject=message.subject,
            status="new",
            priority=(message.priority_hint or Priority.NORMAL).value,
            category=message.category_hint or "general",
            channel=message.channel.value,
            requester_name=message.sender_name,
            requester_address=message.sender_address,
            assignee=None,
            team="support",
            created_at=NOW,
            first_response_at=None,
            resolved_at=None,
            closed_at=None,
            messages=(
                MessageView("inbound", "web", message.sender_name, message.body_text, NOW),
                MessageView("internal", "web", "ana", "VIP, handle with care", NOW),
            ),
            access_key=message.access_key or "",
        )

    @staticmethod
    def _receipt(row: _Row, *, duplicate: bool) -> Receipt:
        return Receipt(
            row.inbox_id,
            duplicate,
            row.ticket_number,
            row.state,
            row.error,
            access_key=row.message.access_key,
        )

    @property
    def messages(self) -> list[InboundMessage]:
        return [row.message for row in self.accepted.values()]


SETTINGS = Settings(
    helpdesk=HelpdeskSettings(name="Acme <Support>"),
    web=WebSettings(intake_wait_s=0.1, max_body_bytes=4096, max_subject_chars=120),
    teams=(TeamSettings(name="support"),),
    categories={"billing": "support", "tech-support": "support"},
)


def client_for(desk: FakeHelpdesk, settings: Settings = SETTINGS) -> TestClient:
    return TestClient(create_app(intake=desk, tickets=desk, settings=settings))


def ticket_json(**changes: Any) -> dict[str, Any]:
    ticket: dict[str, Any] = {
        "requester": {"name": "Ana Souza", "email": "ana@example.com"},
        "subject": "Charged twice",
        "body": "My card was charged twice for invoice 113.",
    }
    ticket.update(changes)
    return ticket


def problem_fields(response: Any) -> set[str]:
    return {problem["field"] for problem in response.json()["detail"]}


def form_fields(page: str) -> dict[str, str]:
    """The hidden fields a form page prints (its nonce, its CSRF token), as a browser
    sends them back."""
    return dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', page))


def post_form(
    client: TestClient, data: dict[str, Any], headers: dict[str, str] | None = None
) -> Any:
    """Posts ``data`` through the form at ``/`` as a browser does: the page first (its
    cookie and hidden fields), then the form with them; ``data`` may replace a field."""
    page = client.get("/", headers=headers)
    assert page.status_code == 200, page.status_code
    return client.post("/", data={**form_fields(page.text), **data}, headers=headers)
