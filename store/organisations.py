"""Organisations: name, tier, custom attributes and the email domains that link customers.

A domain belongs to one organisation. A new customer writing from it joins that
organisation as they are created (``store.customers``); a domain added later
takes in the customers already writing from it who belong to no organisation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from router.customer_records import (
    OrganisationChanges,
    OrganisationView,
    normalised_domains,
    updated_attributes,
)
from router.errors import AlreadyTaken
from router.storable import is_id
from router.vocabulary import Channel
from store.models import Customer, CustomerIdentity, Organisation, OrganisationDomain


class OrganisationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, organisation_id: int, *, for_update: bool = False) -> Organisation | None:
        if not is_id(organisation_id):
            return None
        return self.session.get(
            Organisation,
            organisation_id,
            with_for_update=for_update,
            populate_existing=for_update,
            options=[selectinload(Organisation.domains)],
        )

    def named(self, name: str) -> Organisation | None:
        return self.session.scalar(select(Organisation).where(Organisation.name == name.strip()))

    def view(self, organisation_id: int) -> OrganisationView | None:
        organisation = self.get(organisation_id)
        return None if organisation is None else self._view(organisation)

    def all(self, *, after: int = 0, limit: int = 100) -> list[OrganisationView]:
        rows = self.session.scalars(
            select(Organisation)
            .where(Organisation.id > after)
            .options(selectinload(Organisation.domains))
            .order_by(Organisation.id)
            .limit(limit)
        )
        organisations = list(rows)
        counts = dict(
            self.session.execute(
                select(Customer.organisation_id, func.count())
                .where(
                    Customer.organisation_id.in_([o.id for o in organisations]),
                    Customer.merged_into_id.is_(None),
                )
                .group_by(Customer.organisation_id)
            ).all()
        )
        return [self._view(o, counts.get(o.id, 0)) for o in organisations]

    def create(
        self,
        *,
        name: str,
        tier: str | None,
        domains: tuple[str, ...],
        attributes: dict[str, Any],
        now: datetime,
    ) -> int:
        """A new organisation; ``AlreadyTaken`` for a name or domain another one has."""
        name = _name(name)
        if self.named(name) is not None:
            raise AlreadyTaken(f"there is already an organisation named {name!r}")
        organisation = Organisation(
            name=name,
            tier=tier,
            attributes=updated_attributes({}, attributes),
            created_at=now,
            updated_at=now,
        )
        self.session.add(organisation)
        self.session.flush()
        self._set_domains(organisation, normalised_domains(domains))
        return organisation.id

    def update(
        self, organisation: Organisation, changes: OrganisationChanges, now: datetime
    ) -> list[str]:
        """Apply ``changes`` to a locked organisation; the names of the fields changed."""
        changed = []
        if changes.name is not None and _name(changes.name) != organisation.name:
            name = _name(changes.name)
            other = self.named(name)
            if other is not None and other.id != organisation.id:
                raise AlreadyTaken(f"there is already an organisation named {name!r}")
            organisation.name = name
            changed.append("name")
        tier = None if changes.clear_tier else changes.tier
        if (changes.clear_tier or tier is not None) and tier != organisation.tier:
            organisation.tier = tier
            changed.append("tier")
        if changes.attributes or changes.drop_attributes:
            attributes = updated_attributes(
                organisation.attributes or {}, changes.attributes, changes.drop_attributes
            )
            if attributes != organisation.attributes:
                organisation.attributes = attributes
                changed.append("attributes")
        if changes.domains is not None:
            wanted = normalised_domains(changes.domains)
            if set(wanted) != {d.domain for d in organisation.domains}:
                self._set_domains(organisation, wanted)
                changed.append("domains")
        if changed:
            organisation.updated_at = now
        self.session.flush()
        return changed

    def _set_domains(self, organisation: Organisation, domains: tuple[str, ...]) -> None:
        """Replace the organisation's domains; customers of a new one with no organisation
        join it."""
        taken = self.session.execute(
            select(OrganisationDomain.domain, Organisation.name)
            .join(Organisation, Organisation.id == OrganisationDomain.organisation_id)
            .where(
                OrganisationDomain.domain.in_(domains),
                OrganisationDomain.organisation_id != organisation.id,
            )
        ).first()
        if taken is not None:
            raise AlreadyTaken(f"the domain {taken[0]} is {taken[1]}'s")
        kept = {d.domain: d for d in organisation.domains}
        added = [d for d in domains if d not in kept]
        organisation.domains = [kept.get(d) or OrganisationDomain(domain=d) for d in domains]
        self.session.flush()
        for domain in added:
            at_domain = select(CustomerIdentity.customer_id).where(
                CustomerIdentity.channel == Channel.EMAIL.value,
                CustomerIdentity.address.like("%@" + _escaped(domain), escape="\\"),
            )
            self.session.execute(
                update(Customer)
                .where(Customer.organisation_id.is_(None), Customer.id.in_(at_domain))
                .values(organisation_id=organisation.id)
                .execution_options(synchronize_session=False)
            )

    def _view(self, organisation: Organisation, customers: int | None = None) -> OrganisationView:
        if customers is None:
            customers = self.session.scalar(
                select(func.count()).where(
                    Customer.organisation_id == organisation.id, Customer.merged_into_id.is_(None)
                )
            )
        return OrganisationView(
            id=organisation.id,
            name=organisation.name,
            tier=organisation.tier,
            domains=tuple(sorted(d.domain for d in organisation.domains)),
            attributes=dict(organisation.attributes or {}),
            customers=customers or 0,
            created_at=organisation.created_at,
            updated_at=organisation.updated_at,
        )


def _name(name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > 200:
        raise ValueError("an organisation's name is 1 to 200 characters")
    return name


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
