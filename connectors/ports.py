"""The seams between connectors and the runtime: what a connector needs of the desk.

A connector never touches the store or the broker itself; ``workers`` hands
it an implementation of these protocols.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from connectors.macro_ports import MacroDesk
from connectors.page_ports import PageDesk
from connectors.saved_search_ports import SavedSearchDesk
from connectors.simulation_ports import SimulationDesk
from connectors.ticket_move_ports import MergeDesk, SplitDesk
from connectors.ticket_ports import TicketActions, TicketDesk
from connectors.version_ports import VersionDesk
from router.access import TicketScope
from router.board import Board
from router.customer_records import (
    AttributeValue,
    CustomerChanges,
    CustomerView,
    OrganisationChanges,
    OrganisationView,
)
from router.envelopes import DeliveryResult, InboundMessage, OutboundMessage
from router.export_format import ExportFilters
from router.ratings import RatedVia, RatingOutcome, RatingView
from router.report import Report
from router.report_figures import ReportFilters
from router.report_period import Period
from router.staff_views import AgentLoad, Caller, NewToken, SignedIn, TokenView
from router.ticket_views import TicketView
from router.vocabulary import AgentStatus, Channel, Role, RowState
from router.webhook_views import DeliveryView, NewWebhook, WebhookView


@dataclass(frozen=True)
class Receipt:
    """What intake says about an accepted message.

    ``inbox_id`` identifies the durable row; ``duplicate`` is True when the same
    idempotency key was accepted before; ``ticket_number`` is known once the
    message has been ingested (intake may wait a little for it).
    """

    inbox_id: int
    duplicate: bool
    ticket_number: int | None = None
    state: str = "pending"
    error: str | None = None
    access_key: str | None = None  # as given in the message: guards the status and ticket
    conflict: bool = False  # duplicate key, different content: not the same request
    behind: bool = False  # older submissions are still waiting: do not wait for this one


class Intake(Protocol):
    def accept(self, message: InboundMessage, *, raw: bytes | None = None) -> Receipt:
        """Make ``message`` durable (committed) and start its processing.

        Raises ``TransientError`` when the store is unavailable: the caller must
        then report failure to the outside world (HTTP 503, SMTP 451, ...).
        """
        ...

    def receipt(self, inbox_id: int) -> Receipt | None:
        """The current state of an accepted message, or None if unknown."""
        ...

    async def wait_settled(self, inbox_id: int, timeout: float) -> None:
        """Return once ``inbox_id`` may have been processed, or after ``timeout`` seconds
        (without a signal to wait for, simply after a while); then read its ``receipt``."""
        ...


class TicketQueries(Protocol):
    def ticket(self, number: int) -> TicketView | None: ...


class RequesterDesk(Protocol):
    """What a requester does on their ticket's page besides writing to it (a message goes
    through ``Intake`` with the ticket's number, like any other)."""

    def confirm_solved(self, number: int, *, address: str | None) -> bool:
        """Close a resolved ticket at its requester's word ("this solved it"), audited
        with the client's ``address``; False when the ticket is not resolved (any more)."""
        ...

    def rate(
        self, number: int, *, good: bool, comment: str, via: RatedVia, address: str | None
    ) -> RatingOutcome:
        """Keep the requester's rating of the ticket's latest resolution (or change it)."""
        ...

    def rating(self, number: int) -> RatingView:
        """Their rating of the latest resolution, and whether they may give it now."""
        ...

    def send_sign_in_link(self, address: str, *, link_base: str, language: str) -> None:
        """Mail a one-time link to "my requests" when a requester is known by ``address``."""
        ...

    def sign_in(self, link_secret: str) -> str | None:
        """A session's secret for the link's first use; None when it is used or expired."""
        ...

    def my_tickets(self, session_secret: str) -> list[TicketView] | None:
        """Their tickets on every channel, newest first; None: no such session."""
        ...

    def requester_language(self, secret: str) -> str | None:
        """The language kept for the requester of a session or of a sign-in link not used
        yet (asking does not use it up); None when not known, or for no such secret."""
        ...

    def keep_file(self, data: bytes) -> str:
        """Keep an uploaded file's bytes (content-addressed); returns their SHA-256.
        Raises ``TransientError`` when they cannot be kept."""
        ...

    def file(self, sha256: str) -> bytes | None:
        """The bytes kept under ``sha256``; None when they are not (any more)."""
        ...

    def count_submission(self, address: str | None) -> int:
        """Count a submission (a form, a sign-in link asked) of the client ``address``,
        shared by every web process; the seconds it must wait, 0 when it may now."""
        ...


class WebhookHealth(Protocol):
    """Where the Telegram webhook tells how it does, as the poller does: the process's
    connector health (``relaydesk status``) and metrics (``/metrics``)."""

    def taken(self) -> None:
        """An update was kept (committed to the inbox), or was one kept before."""
        ...

    def failed(self, outcome: str, error: str) -> None:
        """A post was answered ``outcome`` (forbidden, invalid, unavailable): ``error``."""
        ...


class Sender(Protocol):
    """An outbound channel: deliver one rendered message or raise.

    Raises ``TransientError`` (retried with backoff) or ``PermanentError``
    (recorded on the outbox row, never retried). ``timeout_s`` (a send here): SMTP bounds
    each socket wait by it (not the total); Telegram only its in-place 429 wait. None:
    the channel's own timeouts.
    """

    def send(
        self, message: OutboundMessage, *, timeout_s: float | None = None
    ) -> DeliveryResult: ...

    def close(self) -> None: ...


class MailboxState(Protocol):
    """Where each mailbox's progress and health are kept (thread-safe: pollers share it)."""

    def load(self, mailbox: str) -> tuple[int, int] | None:
        """``(uidvalidity, last_uid)``, or None when the mailbox was never polled."""
        ...

    def save(self, mailbox: str, uidvalidity: int, last_uid: int) -> None: ...

    def report(self, mailbox: str, error: str | None) -> None:
        """The last error (None = healthy), shown by the CLI."""
        ...


class MessageSink(Protocol):
    """Where raw messages go (thread-safe: pollers share it)."""

    def deliver(self, mailbox: str, uidvalidity: int, uid: int, raw: bytes) -> None:
        """Commit the message durably (idempotent: a redelivery is a no-op).

        Raises ``router.errors.TransientError`` when it cannot: the poller then
        leaves the message untouched on the server and retries later. Anything
        else raised is treated as a bug: logged with its traceback, retried too.
        """
        ...

    def deliver_many(
        self, mailbox: str, uidvalidity: int, messages: Sequence[tuple[int, bytes]]
    ) -> None:
        """Commit ``(uid, raw)`` messages durably in one go: all of them, or none.

        Raises as ``deliver`` does; the poller then delivers them one by one.
        """
        ...

    def keep_refused(
        self, mailbox: str, uidvalidity: int, uid: int, headers: bytes, reason: str
    ) -> None:
        """Keep, with ``reason``, a message that is not delivered (too large): its header
        section only, for a person to find it in the mailbox. Raises as ``deliver``."""
        ...


class StaffAuth(Protocol):
    """Who a staff request comes from: sign-in, sessions, tokens, sign-out."""

    def sign_in(
        self, name: str, password: str, *, address: str | None, user_agent: str
    ) -> SignedIn:
        """Open a session; raises ``SignInRefused`` (401) or ``SignInThrottled`` (429)."""
        ...

    def session_caller(self, secret: str, *, address: str | None) -> Caller | None:
        """The caller of a session cookie; None when unknown, ended or expired."""
        ...

    def token_caller(self, secret: str, *, address: str | None) -> Caller | None:
        """The caller of an API token; None when unknown, expired or revoked."""
        ...

    def remembered_caller(self, secret: str, *, token: bool, address: str | None) -> Caller | None:
        """The caller of a token (``token``) or a session cookie as this process remembers it,
        answered at once without IO; None: ask ``token_caller`` or ``session_caller``."""
        ...

    def sign_out(self, caller: Caller) -> None: ...


class StaffDesk(Protocol):
    """What the staff API does that is not administration."""

    def ticket_scope(self, number: int) -> TicketScope | None:
        """The facts scope is decided on, or None: no such ticket."""
        ...

    def agents(self) -> list[AgentLoad]: ...

    def set_own_status(self, caller: Caller, status: AgentStatus) -> str:
        """Set the caller's routing status (as the CLI and Telegram do); the previous one."""
        ...


class BoardDesk(Protocol):
    """The supervisor's board (the caller's role already checked: ``Ability.VIEW_BOARD``)."""

    def board(self, caller: Caller) -> Board:
        """The board of the teams the caller supervises (an admin: every team)."""
        ...


class QueueDesk(Protocol):
    """The pages' clock and the header's own status (the views: ``PageDesk.queue_facts``)."""

    def now(self) -> datetime:
        """The desk's clock: what pages measure "42 min ago" and "due in 5 min" from."""
        ...

    def own_status(self, caller: Caller) -> str | None:
        """The caller's routing status (the header's switch shows it); None: no agent."""
        ...


class TokenAdmin(Protocol):
    """API tokens over HTTP (the caller is an admin: the connector checked)."""

    def create_token(
        self,
        caller: Caller,
        *,
        agent: str,
        role: Role | None,
        lifetime: timedelta | None,
        name: str,
    ) -> NewToken:
        """``NotFound`` for no such agent, ``ValueError`` for a role wider than theirs."""
        ...

    def tokens(self) -> list[TokenView]: ...

    def revoke_token(self, caller: Caller, token_id: int) -> TokenView:
        """``NotFound`` for no such token."""
        ...


class ReportDesk(VersionDesk, Protocol):
    """The figures and the export (the caller's teams already decided: ``report_teams``)."""

    def report_period(self, *, since: str | None, first: date | None, last: date | None) -> Period:
        """The period asked, in the desk's report time zone; ``ValueError`` says why not."""
        ...

    def report(self, period: Period, filters: ReportFilters) -> Report: ...

    def export_tickets(
        self, filters: ExportFilters, *, fmt: str, messages: bool, after: int, bom: bool
    ) -> Iterator[str]:
        """The export's text, a page at a time (``workers.desk.export``)."""
        ...


class CustomerDesk(Protocol):
    """Customers and organisations (the caller's role already checked). Raises ``NotFound``
    for no such record, ``AlreadyTaken`` for an address, name or domain another record has,
    ``ValueError`` for a change refused (attributes, domains, a merge), saying why."""

    def customers(
        self, *, text: str, organisation_id: int | None, after: int, limit: int
    ) -> list[CustomerView]: ...

    def customer(self, caller: Caller, customer_id: int) -> CustomerView:
        """The profile, with the caller's tickets of the customer only."""
        ...

    def create_customer(
        self,
        caller: Caller,
        *,
        name: str,
        addresses: list[tuple[Channel, str]],
        tier: str | None,
        organisation_id: int | None,
        attributes: dict[str, AttributeValue],
    ) -> CustomerView: ...

    def update_customer(
        self, caller: Caller, customer_id: int, changes: CustomerChanges
    ) -> CustomerView: ...

    def merge_customers(self, caller: Caller, merged_id: int, into_id: int) -> CustomerView: ...

    def organisations(self, *, after: int, limit: int) -> list[OrganisationView]: ...

    def organisation(self, organisation_id: int) -> OrganisationView: ...

    def create_organisation(
        self,
        caller: Caller,
        *,
        name: str,
        tier: str | None,
        domains: tuple[str, ...],
        attributes: dict[str, AttributeValue],
    ) -> OrganisationView: ...

    def update_organisation(
        self, caller: Caller, organisation_id: int, changes: OrganisationChanges
    ) -> OrganisationView: ...


class WebhookAdmin(Protocol):
    """Webhook subscriptions over HTTP (the caller is an admin: the connector checked).
    ``NotFound`` for an unknown subscription or delivery; ``ValueError`` for what cannot
    be done (a refused URL, an unknown event, a bad secret, a delivery under way)."""

    def add_webhook(
        self, caller: Caller, *, url: str, events: list[str], secret: str | None, description: str
    ) -> NewWebhook: ...

    def webhooks(self) -> list[WebhookView]: ...

    def webhook(self, webhook_id: int) -> WebhookView: ...

    def pause_webhook(self, caller: Caller, webhook_id: int, reason: str) -> WebhookView: ...

    def resume_webhook(self, caller: Caller, webhook_id: int) -> WebhookView: ...

    def remove_webhook(self, caller: Caller, webhook_id: int) -> None: ...

    def send_test_event(self, caller: Caller, webhook_id: int) -> DeliveryView: ...

    def webhook_deliveries(
        self, webhook_id: int, *, states: list[RowState], limit: int
    ) -> list[DeliveryView]: ...

    def redeliver(self, caller: Caller, webhook_id: int, delivery_id: int) -> DeliveryView: ...


class Staff(
    StaffAuth,
    StaffDesk,
    BoardDesk,
    TicketDesk,
    TicketActions,
    QueueDesk,
    SplitDesk,
    MergeDesk,
    MacroDesk,
    PageDesk,
    SavedSearchDesk,
    TokenAdmin,
    ReportDesk,
    CustomerDesk,
    WebhookAdmin,
    SimulationDesk,
    Protocol,
):
    """Everything the staff API needs from the desk, handed over at start-up."""
