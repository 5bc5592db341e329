"""The unit of work: a transaction as a context manager, with the repositories bound to
it; commit on clean exit, roll back on error. Callbacks registered with ``after_commit``
(enqueueing the next step) run only once the commit has succeeded: write, commit, then
enqueue. ``store.db.Database.unit_of_work`` makes one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from types import TracebackType
from typing import Any, TypeVar, cast

from sqlalchemy.orm import Session

from store import inbox_signals
from store.agents import AgentRepository
from store.api_tokens import ApiTokenRepository
from store.audit import AuditLog
from store.chats import ChatRepository, KeptChats
from store.config_versions import ConfigVersions
from store.customer_directory import CustomerDirectory
from store.customers import CustomerRepository, KnownCustomers, KnownDomains
from store.inbox import InboxRepository
from store.inbox_signals import InboxSignals
from store.kept_reads import AGENTS, KeptReads
from store.macros import MacroRepository
from store.mailboxes import MailboxCursorRepository
from store.messages import KnownInbound, MessageRepository
from store.organisations import OrganisationRepository
from store.outbox import OutboxRepository
from store.process_beats import ProcessBeatRepository
from store.ratings import RatingRepository
from store.requester_access import RequesterAccessRepository
from store.saved_searches import SavedSearchRepository
from store.sign_in_failures import SignInFailureRepository
from store.sla import SlaRepository
from store.staff_directory import StaffDirectory
from store.staff_sessions import StaffSessionRepository
from store.team_layout import TeamLayoutRepository
from store.tickets import TicketRepository
from store.webhook_capture import WebhookOutlet, capture
from store.webhook_deliveries import WebhookDeliveries
from store.webhooks import WebhookRepository

T = TypeVar("T")


class UnitOfWork:
    """A transaction as a context manager, with the repositories bound to it."""

    def __init__(
        self,
        session: Session,
        signals: InboxSignals | None = None,
        webhook_outlet: WebhookOutlet | None = None,
        config_version: Callable[[], str | None] | str | None = None,
        kept_reads: KeptReads | None = None,
    ) -> None:
        """``config_version``: the version each audit event records, asked as the event is
        recorded (a pilot's ticket is decided by another version than the next one's)."""
        self.session = session
        self.config_version: Callable[[], str | None] = (
            config_version if callable(config_version) else lambda: config_version
        )
        self._signals = signals
        self._kept_reads = kept_reads
        self._webhook_outlet = webhook_outlet
        self._web_rows: list[int] = []  # web inbox rows this transaction claimed or failed
        self._web_rows_told: set[int] | None = None  # (PostgreSQL) those its claims told of
        self._after_commit: list[Callable[[], object]] = []
        self._audit_events: list[dict[str, Any]] = []
        self._audit_written: list[dict[str, Any]] = []  # by the statements of the change
        self._memo: dict[str, Any] = {}
        self._inbox_finishes: list[dict[str, Any]] = []
        self._claimed_raws: dict[int, bytes | None] = {}  # the raw bytes of rows claimed here
        self._known_customers: KnownCustomers = {}
        self._known_domains: KnownDomains = {}
        self._known_inbound = KnownInbound()
        self._kept_chats = KeptChats()

    @property
    def inbox(self) -> InboxRepository:
        if self._web_rows_told is None and self.session.get_bind().dialect.name == "postgresql":
            self._web_rows_told = set()
        return InboxRepository(
            self.session,
            self._inbox_finishes,
            self._web_rows,
            self._claimed_raws,
            told=self._web_rows_told,
        )

    @property
    def outbox(self) -> OutboxRepository:
        return OutboxRepository(self.session)

    @property
    def messages(self) -> MessageRepository:
        return MessageRepository(self.session, self._known_inbound)

    @property
    def mailboxes(self) -> MailboxCursorRepository:
        return MailboxCursorRepository(self.session)

    @property
    def sla(self) -> SlaRepository:
        return SlaRepository(self.session)

    @property
    def tickets(self) -> TicketRepository:
        return TicketRepository(self.session)

    @property
    def agents(self) -> AgentRepository:
        return AgentRepository(self.session)

    def agent_emails(self) -> frozenset[str]:
        """Every agent's address, lowercased (kept in the process while it hears of no
        change, see ``store.kept_reads``)."""
        if self._kept_reads is None:
            return self.agents.emails()
        return self._kept_reads.get(AGENTS, self.session, _agent_emails)

    @property
    def teams(self) -> TeamLayoutRepository:
        return TeamLayoutRepository(self.session)

    @property
    def chats(self) -> ChatRepository:
        return ChatRepository(self.session, self._kept_chats)

    @property
    def customers(self) -> CustomerRepository:
        return CustomerRepository(self.session, self._known_customers, self._known_domains)

    @property
    def customer_directory(self) -> CustomerDirectory:
        return CustomerDirectory(self.session)

    @property
    def organisations(self) -> OrganisationRepository:
        return OrganisationRepository(self.session)

    @property
    def staff(self) -> StaffDirectory:
        return StaffDirectory(self.session)

    @property
    def staff_sessions(self) -> StaffSessionRepository:
        return StaffSessionRepository(self.session)

    @property
    def api_tokens(self) -> ApiTokenRepository:
        return ApiTokenRepository(self.session)

    @property
    def sign_in_failures(self) -> SignInFailureRepository:
        return SignInFailureRepository(self.session)

    @property
    def webhooks(self) -> WebhookRepository:
        return WebhookRepository(self.session)

    @property
    def webhook_deliveries(self) -> WebhookDeliveries:
        return WebhookDeliveries(self.session)

    @property
    def requester_access(self) -> RequesterAccessRepository:
        return RequesterAccessRepository(self.session)

    @property
    def process_beats(self) -> ProcessBeatRepository:
        return ProcessBeatRepository(self.session)

    @property
    def macros(self) -> MacroRepository:
        return MacroRepository(self.session)

    @property
    def saved_searches(self) -> SavedSearchRepository:
        return SavedSearchRepository(self.session)

    @property
    def ratings(self) -> RatingRepository:
        return RatingRepository(self.session)

    @property
    def audit(self) -> AuditLog:
        return AuditLog(
            self.session,
            self._audit_events,
            self._tell_webhooks,
            self.config_version,
            self._audit_written,
        )

    @property
    def config_versions(self) -> ConfigVersions:
        return ConfigVersions(self.session)

    def _tell_webhooks(
        self, audit_events: list[dict[str, Any]], subscribed: frozenset[str] | None
    ) -> None:
        """The webhook events among ``audit_events``, written in this transaction and
        enqueued once it commits (``subscribed``: the event types subscriptions want, if the
        audit INSERT said)."""
        outlet = self._webhook_outlet
        redrive_after = outlet.redrive_after() if outlet is not None else timedelta(0)
        delivery_ids = capture(
            self.session,
            audit_events,
            redrive_after=redrive_after,
            link_base=outlet.link_base() if outlet is not None else "",
            subscribed=subscribed,
        )
        if delivery_ids and outlet is not None:
            self.after_commit(lambda: outlet.enqueue(delivery_ids))

    def memo(self, key: str, load: Callable[[], T]) -> T:
        """``load()`` once per unit of work (a batch reads what every row of it asks)."""
        if key not in self._memo:
            self._memo[key] = load()
        return cast(T, self._memo[key])

    def after_commit(self, callback: Callable[[], object]) -> None:
        """Run ``callback`` once this unit of work has committed (never on rollback)."""
        self._after_commit.append(callback)

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                if self._inbox_finishes:  # (no repository made for nothing to write)
                    self.inbox.flush()
                if self._audit_events or self._audit_written:
                    self.audit.flush()
                if self._web_rows and self.session.get_bind().dialect.name == "postgresql":
                    told = self._web_rows_told or set()
                    untold = [i for i in self._web_rows if i not in told]
                    if untold:  # (rows failed here; a claim told of those it claimed)
                        inbox_signals.notify(self.session, untold)
                self.session.commit()
            else:
                self.session.rollback()
        finally:
            self.session.close()
        if exc_type is None:
            if self._web_rows and self._signals is not None:
                self._signals.publish(self._web_rows)
            for callback in self._after_commit:
                callback()


def _agent_emails(session: Session) -> frozenset[str]:
    return AgentRepository(session).emails()


__all__ = ["UnitOfWork"]
