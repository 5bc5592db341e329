"""Customers found by their address on a channel, created on first contact."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from router.vocabulary import Channel
from store.dialect import insert_ignoring_conflict, insert_row
from store.models import Customer, CustomerIdentity


def normalise_address(channel: Channel, address: str) -> str:
    address = address.strip()
    return address.lower() if channel in (Channel.EMAIL, Channel.WEB) else address


@dataclass(frozen=True)
class CustomerRef:
    id: int
    name: str
    tier: str | None = None
    organisation: str | None = None
    bounced: bool = False  # mail to this identity bounced (until it writes again)


class CustomerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def identify(self, channel: Channel, address: str, name: str, now: datetime) -> CustomerRef:
        """The customer behind ``address`` on ``channel``; created once, even under races.

        Web requesters are identified by their email address, so a web customer
        and an email customer with the same address are one person.
        """
        kind = Channel.EMAIL if channel is Channel.WEB else channel
        address = normalise_address(kind, address)
        name = name[:200]
        found = self._find(kind, address)
        if found is None:
            customer_id = insert_row(self.session, Customer, {"name": name, "created_at": now})
            inserted = insert_ignoring_conflict(
                self.session,
                CustomerIdentity,
                {
                    "customer_id": customer_id,
                    "channel": kind.value,
                    "address": address,
                    "created_at": now,
                },
            )
            if inserted is not None:
                return CustomerRef(id=customer_id, name=name)
            # another transaction won the race: use theirs
            self.session.execute(delete(Customer).where(Customer.id == customer_id))
            found = self._find(kind, address)
            assert found is not None
        if name and not found.name:
            self.session.execute(update(Customer).where(Customer.id == found.id).values(name=name))
            return replace(found, name=name)
        return found

    def flag_bounced(self, address: str, reason: str, now: datetime) -> bool:
        """Mark an email address as bouncing; returns whether it is one of our customers'."""
        result = self.session.execute(
            update(CustomerIdentity)
            .where(
                CustomerIdentity.channel == Channel.EMAIL.value,
                CustomerIdentity.address == normalise_address(Channel.EMAIL, address),
            )
            .values(bounced_at=now, bounce_reason=reason[:1000])
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    def bounced(self, address: str, *, lock: bool = False) -> str | None:
        """Why mail to ``address`` bounces, or None when it is not known to bounce.

        ``lock``: and lock the identity's row, so ingests counting automatic replies
        to one address take turns (two at once cannot both slip under the limit)."""
        query = select(CustomerIdentity.bounced_at, CustomerIdentity.bounce_reason).where(
            CustomerIdentity.channel == Channel.EMAIL.value,
            CustomerIdentity.address == normalise_address(Channel.EMAIL, address),
        )
        row = self.session.execute(query.with_for_update() if lock else query).first()
        if row is None or row[0] is None:
            return None
        return row[1] or "bounced"

    def clear_bounce(self, address: str) -> None:
        """The address wrote to us: it works again."""
        self.session.execute(
            update(CustomerIdentity)
            .where(
                CustomerIdentity.channel == Channel.EMAIL.value,
                CustomerIdentity.address == normalise_address(Channel.EMAIL, address),
                CustomerIdentity.bounced_at.is_not(None),
            )
            .values(bounced_at=None, bounce_reason=None)
            .execution_options(synchronize_session=False)
        )

    def _find(self, channel: Channel, address: str) -> CustomerRef | None:
        row = self.session.execute(
            select(
                Customer.id,
                Customer.name,
                Customer.tier,
                Customer.organisation,
                CustomerIdentity.bounced_at,
            )
            .join(CustomerIdentity, CustomerIdentity.customer_id == Customer.id)
            .where(CustomerIdentity.channel == channel.value, CustomerIdentity.address == address)
        ).first()
        if row is None:
            return None
        return CustomerRef(
            id=row[0], name=row[1], tier=row[2], organisation=row[3], bounced=row[4] is not None
        )
