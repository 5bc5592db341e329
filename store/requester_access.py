"""Sign-in links and sessions of requesters: kept as hashes, a link used once."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from router.vocabulary import Channel
from store.models import Customer, CustomerIdentity, RequesterAccess, Ticket


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class RequesterAccessRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def customer_with_email(self, address: str) -> int | None:
        """The customer known by this email address (web and email requesters alike)."""
        return self.session.scalar(
            select(CustomerIdentity.customer_id)
            .where(
                CustomerIdentity.channel == Channel.EMAIL.value,
                CustomerIdentity.address == address.strip().lower(),
            )
            .limit(1)
        )

    def add(
        self, customer_id: int, kind: str, secret: str, *, now: datetime, expires_at: datetime
    ) -> None:
        self.session.add(
            RequesterAccess(
                customer_id=customer_id,
                kind=kind,
                secret_hash=secret_hash(secret),
                created_at=now,
                expires_at=expires_at,
            )
        )

    def use_link(self, secret: str, now: datetime) -> int | None:
        """The customer of an unused, unexpired link, marking it used (once, under races:
        a conditional UPDATE); None otherwise."""
        found = self.session.execute(
            update(RequesterAccess)
            .where(
                RequesterAccess.secret_hash == secret_hash(secret),
                RequesterAccess.kind == "link",
                RequesterAccess.used_at.is_(None),
                RequesterAccess.expires_at > now,
            )
            .values(used_at=now)
            .returning(RequesterAccess.customer_id)
        ).first()
        return None if found is None else int(found[0])

    def session_customer(self, secret: str, now: datetime) -> int | None:
        return self.session.scalar(
            select(RequesterAccess.customer_id).where(
                RequesterAccess.secret_hash == secret_hash(secret),
                RequesterAccess.kind == "session",
                RequesterAccess.expires_at > now,
            )
        )

    def language_of(self, secret: str, now: datetime) -> str | None:
        """The language kept for the customer of a session or of a link not used yet (both
        unexpired); None when not known, or for no such secret. Uses nothing up."""
        return self.session.scalar(
            select(Customer.language)
            .join(RequesterAccess, RequesterAccess.customer_id == Customer.id)
            .where(
                RequesterAccess.secret_hash == secret_hash(secret),
                RequesterAccess.expires_at > now,
                or_(
                    RequesterAccess.kind == "session",
                    and_(RequesterAccess.kind == "link", RequesterAccess.used_at.is_(None)),
                ),
            )
            .limit(1)
        )

    def tickets_of(self, customer_id: int, limit: int = 200) -> list[Ticket]:
        """Their tickets on every channel, newest first."""
        return list(
            self.session.scalars(
                select(Ticket)
                .where(Ticket.requester_id == customer_id)
                .order_by(Ticket.id.desc())
                .limit(limit)
            )
        )
