"""Customer records for staff: profiles, search, create, update, and merging two into one.

``store.customers`` finds and creates customers as messages arrive; this module is
what staff do with the records. Decisions (attributes, what a merge keeps) come
from ``router.customer_records``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from router.customer_records import (
    CustomerChanges,
    CustomerView,
    IdentityView,
    OrganisationRef,
    TicketLine,
    merged_profile,
    updated_attributes,
)
from router.errors import AlreadyTaken
from router.storable import is_id
from router.vocabulary import Channel
from store.customers import normalise_address
from store.models import Customer, CustomerIdentity, Message, Organisation, Ticket

PROFILE_TICKETS = 50


class CustomerDirectory:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, customer_id: int, *, for_update: bool = False) -> Customer | None:
        if not is_id(customer_id):
            return None
        return self.session.get(
            Customer, customer_id, with_for_update=for_update, populate_existing=for_update
        )

    def profile(
        self, customer_id: int, *, tickets_visible: ColumnElement[bool] | None = None
    ) -> CustomerView | None:
        """A customer's profile with their newest tickets among ``tickets_visible`` (None:
        without tickets)."""
        customer = self.get(customer_id)
        if customer is None:
            return None
        tickets: Sequence[Any] = ()
        if tickets_visible is not None:
            tickets = self.session.execute(
                select(Ticket.id, Ticket.subject, Ticket.status, Ticket.priority, Ticket.created_at)
                .where(Ticket.requester_id == customer_id, tickets_visible)
                .order_by(Ticket.id.desc())
                .limit(PROFILE_TICKETS)
            ).all()
        return view_of(customer, tuple(TicketLine(*row) for row in tickets))

    def search(
        self,
        *,
        text: str = "",
        organisation_id: int | None = None,
        after: int = 0,
        limit: int = 50,
    ) -> list[CustomerView]:
        """Customers (not merged away) by id after ``after``: whose name or an address
        contains ``text``, of an organisation."""
        query = (
            select(Customer)
            .where(Customer.id > after, Customer.merged_into_id.is_(None))
            .options(selectinload(Customer.identities), selectinload(Customer.organisation))
            .order_by(Customer.id)
            .limit(limit)
        )
        if text:
            pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%") + "%"
            pattern = pattern.replace("_", "\\_")
            addresses = select(CustomerIdentity.customer_id).where(
                func.lower(CustomerIdentity.address).like(pattern, escape="\\")
            )
            query = query.where(
                or_(
                    func.lower(Customer.name).like(pattern, escape="\\"), Customer.id.in_(addresses)
                )
            )
        if organisation_id is not None:
            query = query.where(Customer.organisation_id == organisation_id)
        return [view_of(c) for c in self.session.scalars(query)]

    def at_address(self, address: str, channels: Sequence[Channel]) -> int | None:
        """The customer with ``address`` on the first of ``channels`` that knows it."""
        for channel in channels:
            found = self.session.scalar(
                select(CustomerIdentity.customer_id).where(
                    CustomerIdentity.channel == channel.value,
                    CustomerIdentity.address == normalise_address(channel, address),
                )
            )
            if found is not None:
                return int(found)
        return None

    def ticket_numbers(self, customer_id: int) -> list[int]:
        """The tickets the customer is the requester of."""
        return list(
            self.session.scalars(select(Ticket.id).where(Ticket.requester_id == customer_id))
        )

    def create(
        self,
        *,
        name: str,
        tier: str | None,
        organisation_id: int | None,
        attributes: dict[str, Any],
        addresses: Sequence[tuple[Channel, str]],
        now: datetime,
    ) -> int:
        """A new customer with these addresses; ``AlreadyTaken`` when one is someone's."""
        self._check_organisation(organisation_id)
        customer = Customer(
            name=name[:200],
            tier=tier,
            organisation_id=organisation_id,
            attributes=updated_attributes({}, attributes),
            created_at=now,
        )
        self.session.add(customer)
        self.session.flush()
        for channel, address in addresses:
            self._add_identity(customer.id, channel, address, now)
        return customer.id

    def update(self, customer: Customer, changes: CustomerChanges, now: datetime) -> list[str]:
        """Apply ``changes`` to a locked customer; the names of the fields that changed."""
        changed = []
        if changes.name is not None and changes.name != customer.name:
            customer.name = changes.name[:200]
            changed.append("name")
        tier = None if changes.clear_tier else changes.tier
        if (changes.clear_tier or tier is not None) and tier != customer.tier:
            customer.tier = tier
            changed.append("tier")
        if changes.clear_organisation or changes.organisation_id is not None:
            wanted = None if changes.clear_organisation else changes.organisation_id
            if wanted != customer.organisation_id:
                self._check_organisation(wanted)
                customer.organisation_id = wanted
                changed.append("organisation")
        if changes.attributes or changes.drop_attributes:
            attributes = updated_attributes(
                customer.attributes or {}, changes.attributes, changes.drop_attributes
            )
            if attributes != customer.attributes:
                customer.attributes = attributes
                changed.append("attributes")
        for channel, address in changes.add_addresses:
            self._add_identity(customer.id, Channel(channel), address, now)
            changed.append("addresses")
        for channel, address in changes.remove_addresses:
            kind = Channel.EMAIL if Channel(channel) is Channel.WEB else Channel(channel)
            gone = self.session.execute(
                delete(CustomerIdentity).where(
                    CustomerIdentity.customer_id == customer.id,
                    CustomerIdentity.channel == kind.value,
                    CustomerIdentity.address == normalise_address(kind, address),
                )
            )
            if getattr(gone, "rowcount", 0):
                changed.append("addresses")
        self.session.flush()
        self.session.expire(customer, ["identities", "organisation"])
        return list(dict.fromkeys(changed))

    def merge(self, merged: Customer, into: Customer) -> dict[str, int]:
        """Fold ``merged`` into ``into`` (both locked): its tickets, messages and addresses
        move; ``into`` keeps its profile and fills its gaps from ``merged``, which is kept
        marked as merged (its old id leads to the survivor). How many of each moved."""
        if merged.id == into.id:
            raise ValueError("a customer cannot be merged into themselves")
        if merged.merged_into_id is not None:
            raise ValueError(
                f"customer {merged.id} was already merged into {merged.merged_into_id}"
            )
        if into.merged_into_id is not None:
            raise ValueError(f"customer {into.id} was merged into {into.merged_into_id}")
        keep = merged_profile(
            view_of(into),
            view_of(merged),
            into_org=into.organisation_id,
            merged_org=merged.organisation_id,
        )
        moved = {}
        for label, statement in (
            ("tickets", update(Ticket).where(Ticket.requester_id == merged.id)),
            ("messages", update(Message).where(Message.customer_id == merged.id)),
        ):
            column = "requester_id" if label == "tickets" else "customer_id"
            result = self.session.execute(
                statement.values({column: into.id}).execution_options(synchronize_session=False)
            )
            moved[label] = int(getattr(result, "rowcount", 0) or 0)
        result = self.session.execute(
            update(CustomerIdentity)
            .where(CustomerIdentity.customer_id == merged.id)
            .values(customer_id=into.id)
            .execution_options(synchronize_session=False)
        )
        moved["addresses"] = int(getattr(result, "rowcount", 0) or 0)
        into.name, into.tier = keep.name, keep.tier
        into.organisation_id, into.attributes = keep.organisation_id, keep.attributes
        merged.merged_into_id = into.id
        self.session.flush()
        self.session.expire(into, ["identities", "organisation"])
        self.session.expire(merged, ["identities"])
        return moved

    def _add_identity(
        self, customer_id: int, channel: Channel, address: str, now: datetime
    ) -> None:
        kind = Channel.EMAIL if channel is Channel.WEB else channel
        value = normalise_address(kind, address)
        owner = self.session.scalar(
            select(CustomerIdentity.customer_id).where(
                CustomerIdentity.channel == kind.value, CustomerIdentity.address == value
            )
        )
        if owner is not None:
            if owner == customer_id:
                return
            raise AlreadyTaken(f"{kind.value} address {value} belongs to customer {owner}")
        try:
            with self.session.begin_nested():
                self.session.add(
                    CustomerIdentity(
                        customer_id=customer_id, channel=kind.value, address=value, created_at=now
                    )
                )
        except IntegrityError:
            raise AlreadyTaken(
                f"{kind.value} address {value} belongs to another customer"
            ) from None

    def _check_organisation(self, organisation_id: int | None) -> None:
        if organisation_id is not None and (
            not is_id(organisation_id) or self.session.get(Organisation, organisation_id) is None
        ):
            raise ValueError(f"no organisation {organisation_id}")


def view_of(customer: Customer, tickets: tuple[TicketLine, ...] = ()) -> CustomerView:
    organisation = customer.organisation
    return CustomerView(
        id=customer.id,
        name=customer.name,
        own_tier=customer.tier,
        organisation=(
            OrganisationRef(id=organisation.id, name=organisation.name, tier=organisation.tier)
            if organisation is not None
            else None
        ),
        attributes=dict(customer.attributes or {}),
        identities=tuple(
            IdentityView(channel=i.channel, address=i.address, bounced=i.bounced_at is not None)
            for i in sorted(customer.identities, key=lambda i: i.id)
        ),
        created_at=customer.created_at,
        tickets=tickets,
        merged_into=customer.merged_into_id,
    )
