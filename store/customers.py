"""Customers found by their address on a channel, created on first contact."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from router.vocabulary import Channel
from store.dialect import insert_ignoring_conflict
from store.models import Customer, CustomerIdentity


def normalise_address(channel: Channel, address: str) -> str:
    address = address.strip()
    return address.lower() if channel in (Channel.EMAIL, Channel.WEB) else address


class CustomerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def identify(self, channel: Channel, address: str, name: str, now: datetime) -> Customer:
        """The customer behind ``address`` on ``channel``; created once, even under races.

        Web requesters are identified by their email address, so a web customer
        and an email customer with the same address are one person.
        """
        kind = Channel.EMAIL if channel is Channel.WEB else channel
        address = normalise_address(kind, address)
        identity = self._identity(kind, address)
        if identity is None:
            customer = Customer(name=name[:200], created_at=now)
            self.session.add(customer)
            self.session.flush()
            inserted = insert_ignoring_conflict(
                self.session,
                CustomerIdentity,
                {
                    "customer_id": customer.id,
                    "channel": kind.value,
                    "address": address,
                    "created_at": now,
                },
            )
            if not inserted:  # another transaction won the race: use theirs
                self.session.delete(customer)
            identity = self._identity(kind, address)
            assert identity is not None
        customer = identity.customer
        if name and not customer.name:
            customer.name = name[:200]
        return customer

    def _identity(self, channel: Channel, address: str) -> CustomerIdentity | None:
        return self.session.scalars(
            select(CustomerIdentity).where(
                CustomerIdentity.channel == channel.value, CustomerIdentity.address == address
            )
        ).first()
