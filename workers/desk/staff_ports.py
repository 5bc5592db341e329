"""The desk behind the staff API: ``connectors.ports.Staff`` over the desk's use cases.

Handed to the web app at start-up. Each method is one use case of
``workers.desk`` (the same the command line and Telegram call); an outage of
the store becomes ``TransientError`` (the app answers 503 with Retry-After).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import ParamSpec, TypeVar

from router.access import Ability, TicketScope, Verdict
from router.board import Board
from router.customer_records import (
    AttributeValue,
    CustomerChanges,
    CustomerView,
    OrganisationChanges,
    OrganisationView,
)
from router.export_format import ExportFilters
from router.report import Report
from router.report_figures import ReportFilters
from router.report_period import Period
from router.staff_ticket_views import StaffAttachment, StaffTicket, TicketPage
from router.staff_views import AgentLoad, Caller, NewToken, SignedIn, TokenView
from router.ticket_edits import TicketEdit
from router.ticket_list import TicketFilters, TicketOrder
from router.vocabulary import AgentStatus, Channel, Role, Status
from store.errors import store_errors
from store.ticket_scope import scope_of
from workers.desk import api_tokens, assignments, customers, organisations, sign_in, ticket_reads
from workers.desk.agents import set_agent_status
from workers.desk.board import supervisor_board
from workers.desk.export import Export
from workers.desk.macro_ports import MacroPorts
from workers.desk.page_ports import PagePorts
from workers.desk.replies import answer_ticket
from workers.desk.reply_files import keep_file, kept_file
from workers.desk.reports import make_report, report_period
from workers.desk.saved_search_ports import SavedSearchPorts
from workers.desk.simulation_ports import SimulationPorts
from workers.desk.ticket_fields import edit_ticket
from workers.desk.ticket_move_ports import TicketMovePorts
from workers.desk.ticket_status import set_ticket_status
from workers.desk.version_ports import VersionPorts
from workers.desk.webhook_ports import WebhookPorts
from workers.desk.workload import agent_loads
from workers.runtime.context import Runtime

P = ParamSpec("P")
T = TypeVar("T")


def _store_outage_is_transient(fn: Callable[P, T]) -> Callable[P, T]:
    """The store's failures in the project's terms (``store.errors``): an outage is a
    ``TransientError`` (503), a refused value a ``RefusedValue``."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        with store_errors(fn.__name__.replace("_", " ")):
            return fn(*args, **kwargs)

    return wrapper


class StaffPorts(
    MacroPorts,
    PagePorts,
    SavedSearchPorts,
    WebhookPorts,
    TicketMovePorts,
    SimulationPorts,
    VersionPorts,
):
    """Implements ``connectors.ports.Staff``."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    # -- who is asking ---------------------------------------------------
    @_store_outage_is_transient
    def sign_in(
        self, name: str, password: str, *, address: str | None, user_agent: str
    ) -> SignedIn:
        return sign_in.sign_in(self.runtime, name, password, address=address, user_agent=user_agent)

    @_store_outage_is_transient
    def session_caller(self, secret: str, *, address: str | None) -> Caller | None:
        return sign_in.session_caller(self.runtime, secret, address=address)

    @_store_outage_is_transient
    def token_caller(self, secret: str, *, address: str | None) -> Caller | None:
        return api_tokens.token_caller(self.runtime, secret, address=address)

    def remembered_caller(self, secret: str, *, token: bool, address: str | None) -> Caller | None:
        remember = (
            api_tokens.remembered_token_caller if token else sign_in.remembered_session_caller
        )
        return remember(self.runtime, secret, address=address)

    @_store_outage_is_transient
    def sign_out(self, caller: Caller) -> None:
        sign_in.sign_out(self.runtime, caller)

    # -- the desk --------------------------------------------------------
    @_store_outage_is_transient
    def ticket_scope(self, number: int) -> TicketScope | None:
        with self.runtime.db.reading() as session:
            return scope_of(session, number)

    @_store_outage_is_transient
    def agents(self) -> list[AgentLoad]:
        return agent_loads(self.runtime)

    @_store_outage_is_transient
    def set_own_status(self, caller: Caller, status: AgentStatus) -> str:
        return set_agent_status(self.runtime, caller.principal.name, status, actor=caller.origin)

    @_store_outage_is_transient
    def board(self, caller: Caller) -> Board:
        return supervisor_board(self.runtime, caller)

    # -- tickets ----------------------------------------------------------
    @_store_outage_is_transient
    def ticket_page(
        self,
        caller: Caller,
        filters: TicketFilters,
        *,
        order: TicketOrder,
        cursor: str | None,
        limit: int,
    ) -> TicketPage:
        return ticket_reads.ticket_page(
            self.runtime, caller.principal, filters, order=order, cursor=cursor, limit=limit
        )

    @_store_outage_is_transient
    def staff_ticket(self, number: int) -> StaffTicket | None:
        return ticket_reads.staff_ticket(self.runtime, number)

    @_store_outage_is_transient
    def staff_ticket_for(
        self, caller: Caller, number: int, ability: Ability
    ) -> tuple[Verdict, StaffTicket | None]:
        return ticket_reads.staff_ticket_for(self.runtime, caller.principal, number, ability)

    def now(self) -> datetime:
        return self.runtime.now()

    @_store_outage_is_transient
    def own_status(self, caller: Caller) -> str | None:
        with self.runtime.db.unit_of_work() as uow:
            agent = uow.agents.by_name(caller.principal.name)
            return agent.status if agent is not None else None

    @_store_outage_is_transient
    def attachment_file(
        self, number: int, attachment_id: int
    ) -> tuple[StaffAttachment, bytes] | None:
        return ticket_reads.attachment_file(self.runtime, number, attachment_id)

    # -- ticket actions: the desk's use cases, recorded with the caller's origin ---
    @_store_outage_is_transient
    def reply(
        self,
        caller: Caller,
        number: int,
        text: str,
        *,
        status: Status | None,
        if_match: str | None,
        files: tuple[tuple[str, str], ...] = (),
    ) -> str | None:
        return answer_ticket(
            self.runtime,
            number,
            caller.principal.name,
            text,
            status=status,
            via="api",
            actor=caller.origin,
            if_match=if_match,
            files=tuple(kept_file(self.runtime, sha256, name) for sha256, name in files),
            principal=caller.principal,
        )

    def keep_file(self, data: bytes) -> str:
        return keep_file(self.runtime, data)

    @_store_outage_is_transient
    def note(self, caller: Caller, number: int, text: str, *, if_match: str | None) -> str | None:
        return answer_ticket(
            self.runtime,
            number,
            caller.principal.name,
            text,
            internal=True,
            via="api",
            actor=caller.origin,
            if_match=if_match,
            principal=caller.principal,
        )

    @_store_outage_is_transient
    def set_status(
        self, caller: Caller, number: int, status: Status, *, reason: str, if_match: str | None
    ) -> None:
        set_ticket_status(
            self.runtime, number, status, actor=caller.origin, reason=reason, if_match=if_match
        )

    @_store_outage_is_transient
    def assign(
        self,
        caller: Caller,
        number: int,
        agent: str,
        *,
        reason: str,
        force: bool,
        if_match: str | None,
    ) -> None:
        assignments.assign_ticket(
            self.runtime,
            number,
            agent,
            reason=reason,
            force=force,
            actor=caller.origin,
            if_match=if_match,
        )

    @_store_outage_is_transient
    def transfer(
        self,
        caller: Caller,
        number: int,
        *,
        agent: str | None,
        team: str | None,
        reason: str,
        if_match: str | None,
    ) -> None:
        assignments.transfer_ticket(
            self.runtime,
            number,
            reason=reason,
            to_agent=agent,
            to_team=team,
            actor=caller.origin,
            if_match=if_match,
        )

    @_store_outage_is_transient
    def claim(self, caller: Caller, number: int, *, if_match: str | None) -> None:
        assignments.claim_ticket(
            self.runtime, number, caller.principal.name, actor=caller.origin, if_match=if_match
        )

    @_store_outage_is_transient
    def unassign(self, caller: Caller, number: int, *, reason: str, if_match: str | None) -> None:
        assignments.unassign_ticket(
            self.runtime, number, reason=reason, actor=caller.origin, if_match=if_match
        )

    @_store_outage_is_transient
    def edit_fields(
        self, caller: Caller, number: int, edit: TicketEdit, *, reason: str, if_match: str | None
    ) -> tuple[str, ...]:
        return edit_ticket(
            self.runtime, number, edit, actor=caller.origin, reason=reason, if_match=if_match
        )

    @_store_outage_is_transient
    def version_for(self, caller: Caller, number: int) -> str | None:
        return ticket_reads.version_for(self.runtime, caller.principal, number)

    # -- tokens (admin) --------------------------------------------------
    @_store_outage_is_transient
    def create_token(
        self,
        caller: Caller,
        *,
        agent: str,
        role: Role | None,
        lifetime: timedelta | None,
        name: str,
    ) -> NewToken:
        return api_tokens.create_token(
            self.runtime, agent, role=role, lifetime=lifetime, name=name, actor=caller.origin
        )

    @_store_outage_is_transient
    def tokens(self) -> list[TokenView]:
        return api_tokens.list_tokens(self.runtime)

    @_store_outage_is_transient
    def revoke_token(self, caller: Caller, token_id: int) -> TokenView:
        return api_tokens.revoke_token(self.runtime, token_id, actor=caller.origin)

    # -- reports (the caller's teams decided by the connector) -----------
    def report_period(self, *, since: str | None, first: date | None, last: date | None) -> Period:
        return report_period(self.runtime, since=since, first=first, last=last)

    @_store_outage_is_transient
    def report(self, period: Period, filters: ReportFilters) -> Report:
        return make_report(self.runtime, period, filters)

    def export_tickets(
        self, filters: ExportFilters, *, fmt: str, messages: bool, after: int, bom: bool
    ) -> Iterator[str]:
        export = Export(self.runtime, filters, fmt=fmt, messages=messages, after=after, bom=bom)  # type: ignore[arg-type]
        return iter(export)

    # -- customers and organisations (the role checked by the connector) --
    @_store_outage_is_transient
    def customers(
        self, *, text: str, organisation_id: int | None, after: int, limit: int
    ) -> list[CustomerView]:
        return customers.find_customers(
            self.runtime, text=text, organisation_id=organisation_id, after=after, limit=limit
        )

    @_store_outage_is_transient
    def customer(self, caller: Caller, customer_id: int) -> CustomerView:
        return customers.customer_profile(self.runtime, customer_id, reader=caller.principal)

    @_store_outage_is_transient
    def create_customer(
        self,
        caller: Caller,
        *,
        name: str,
        addresses: list[tuple[Channel, str]],
        tier: str | None,
        organisation_id: int | None,
        attributes: dict[str, AttributeValue],
    ) -> CustomerView:
        made = customers.create_customer(
            self.runtime,
            name=name,
            addresses=addresses,
            tier=tier,
            organisation_id=organisation_id,
            attributes=attributes,
            actor=caller.origin,
        )
        return customers.customer_profile(self.runtime, made.id, reader=caller.principal)

    @_store_outage_is_transient
    def update_customer(
        self, caller: Caller, customer_id: int, changes: CustomerChanges
    ) -> CustomerView:
        customers.update_customer(self.runtime, customer_id, changes, actor=caller.origin)
        return customers.customer_profile(self.runtime, customer_id, reader=caller.principal)

    @_store_outage_is_transient
    def merge_customers(self, caller: Caller, merged_id: int, into_id: int) -> CustomerView:
        customers.merge_customers(self.runtime, merged_id, into_id, actor=caller.origin)
        return customers.customer_profile(self.runtime, into_id, reader=caller.principal)

    @_store_outage_is_transient
    def organisations(self, *, after: int, limit: int) -> list[OrganisationView]:
        return organisations.list_organisations(self.runtime, after=after, limit=limit)

    @_store_outage_is_transient
    def organisation(self, organisation_id: int) -> OrganisationView:
        return organisations.organisation(self.runtime, organisation_id)

    @_store_outage_is_transient
    def create_organisation(
        self,
        caller: Caller,
        *,
        name: str,
        tier: str | None,
        domains: tuple[str, ...],
        attributes: dict[str, AttributeValue],
    ) -> OrganisationView:
        return organisations.create_organisation(
            self.runtime,
            name=name,
            tier=tier,
            domains=domains,
            attributes=attributes,
            actor=caller.origin,
        )

    @_store_outage_is_transient
    def update_organisation(
        self, caller: Caller, organisation_id: int, changes: OrganisationChanges
    ) -> OrganisationView:
        return organisations.update_organisation(
            self.runtime, organisation_id, changes, actor=caller.origin
        )
