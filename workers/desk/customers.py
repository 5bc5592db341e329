"""Customers for staff: read a profile, find, create, update, merge two records into one.

One entry point each, called alike from the command line and the staff API;
each change is an audit event (who, from where, what changed) in its
transaction. A customer's tier and organisation are what the rules and SLA
policies read for the tickets they open from then on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from router.access import Principal
from router.audit_origin import ActorRef
from router.customer_records import CustomerChanges, CustomerView
from router.errors import NotFound
from router.vocabulary import AuditAction, Channel, SystemActor
from store.models import Customer, Ticket
from store.ticket_scope import visible_to
from workers.runtime.context import Runtime


def customer_profile(
    runtime: Runtime, customer_id: int, *, reader: Principal | None = None
) -> CustomerView:
    """A customer's profile with their newest tickets that ``reader`` may see (None: the
    command line, which sees all); ``NotFound`` for no such customer."""
    with runtime.db.unit_of_work() as uow:
        scope = visible_to(reader) if reader is not None else Ticket.id.is_not(None)
        view = uow.customer_directory.profile(customer_id, tickets_visible=scope)
    if view is None:
        raise NotFound(f"no customer {customer_id}")
    return view


def find_customers(
    runtime: Runtime,
    *,
    text: str = "",
    organisation_id: int | None = None,
    after: int = 0,
    limit: int = 50,
) -> list[CustomerView]:
    with runtime.db.unit_of_work() as uow:
        return uow.customer_directory.search(
            text=text, organisation_id=organisation_id, after=after, limit=limit
        )


def customer_at(runtime: Runtime, address: str) -> int:
    """The customer with ``address`` on any channel that keeps its own identities (an email
    address, a chat id): for the command line."""
    with runtime.db.unit_of_work() as uow:
        channels = tuple(a.channel for a in runtime.channels if a.answered_on is None)
        found = uow.customer_directory.at_address(address, channels)
    if found is not None:
        return found
    raise NotFound(f"no customer with the address {address}")


def create_customer(
    runtime: Runtime,
    *,
    name: str,
    addresses: Sequence[tuple[Channel, str]] = (),
    tier: str | None = None,
    organisation_id: int | None = None,
    attributes: dict[str, Any] | None = None,
    actor: ActorRef = SystemActor.CLI,
) -> CustomerView:
    """A customer entered by staff; ``AlreadyTaken`` when an address is someone's,
    ``ValueError`` for no such organisation or for attributes refused."""
    now = runtime.now()
    with runtime.db.unit_of_work() as uow:
        customer_id = uow.customer_directory.create(
            name=name,
            tier=tier,
            organisation_id=organisation_id,
            attributes=dict(attributes or {}),
            addresses=addresses,
            now=now,
        )
        view = uow.customer_directory.profile(customer_id)
        assert view is not None
        uow.audit.record(
            ticket_id=None,
            actor=actor,
            action=AuditAction.CUSTOMER_CREATED,
            detail=f"customer {customer_id}: {name}",
            now=now,
            data={"customer_id": customer_id, "after": _audited(view)},
        )
    return view


def update_customer(
    runtime: Runtime,
    customer_id: int,
    changes: CustomerChanges,
    *,
    actor: ActorRef = SystemActor.CLI,
) -> CustomerView:
    """Change a customer's profile; audited with what changed, before and after."""
    now = runtime.now()
    with runtime.db.unit_of_work() as uow:
        customer = _live(uow.customer_directory.get(customer_id, for_update=True), customer_id)
        before = uow.customer_directory.profile(customer_id)
        changed = uow.customer_directory.update(customer, changes, now)
        view = uow.customer_directory.profile(customer_id)
        assert before is not None and view is not None
        if changed:
            old, new = _audited(before), _audited(view)
            uow.audit.record(
                ticket_id=None,
                actor=actor,
                action=AuditAction.CUSTOMER_UPDATED,
                detail=f"customer {customer_id}: {', '.join(changed)}",
                now=now,
                data={
                    "customer_id": customer_id,
                    "before": {k: old[k] for k in changed},
                    "after": {k: new[k] for k in changed},
                },
            )
    return view


def merge_customers(
    runtime: Runtime, merged_id: int, into_id: int, *, actor: ActorRef = SystemActor.CLI
) -> CustomerView:
    """Fold customer ``merged_id`` into ``into_id``: their tickets and addresses move, the
    survivor keeps its profile and fills its gaps from the other. Audited on the customer
    and on each ticket that changed requester."""
    now = runtime.now()
    with runtime.db.unit_of_work() as uow:
        directory = uow.customer_directory
        first, second = sorted((merged_id, into_id))  # lock in id order: never a deadlock
        locked = {n: directory.get(n, for_update=True) for n in (first, second)}
        merged = _found(locked[merged_id], merged_id)
        into = _found(locked[into_id], into_id)
        tickets = directory.ticket_numbers(merged_id)
        moved = directory.merge(merged, into)
        for number in tickets:
            uow.audit.record(
                ticket_id=number,
                actor=actor,
                action=AuditAction.REQUESTER_MERGED,
                detail=f"requester customer {merged_id} merged into customer {into_id}",
                now=now,
                data={"from_customer": merged_id, "to_customer": into_id},
            )
        uow.audit.record(
            ticket_id=None,
            actor=actor,
            action=AuditAction.CUSTOMER_MERGED,
            detail=f"customer {merged_id} merged into customer {into_id}",
            now=now,
            data={"customer_id": into_id, "merged": merged_id, "moved": moved},
        )
        view = directory.profile(into_id, tickets_visible=Ticket.id.is_not(None))
        assert view is not None
    return view


def _found(customer: Customer | None, customer_id: int) -> Customer:
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    return customer


def _live(customer: Customer | None, customer_id: int) -> Customer:
    customer = _found(customer, customer_id)
    if customer.merged_into_id is not None:
        raise ValueError(
            f"customer {customer_id} was merged into customer {customer.merged_into_id}: "
            "change that one"
        )
    return customer


def _audited(view: CustomerView) -> dict[str, Any]:
    return {
        "name": view.name,
        "tier": view.own_tier,
        "organisation": view.organisation.name if view.organisation else None,
        "attributes": dict(view.attributes),
        "addresses": [f"{i.channel}:{i.address}" for i in view.identities],
    }
