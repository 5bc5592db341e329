"""Customers found by their address on a channel, created on first contact."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, literal_column, null, select, union_all, update
from sqlalchemy.orm import Session

from router.vocabulary import Channel
from store.customer_rows import insert_customers
from store.models import Customer, CustomerIdentity, Organisation, OrganisationDomain, Ticket


def normalise_address(channel: Channel, address: str) -> str:
    address = address.strip()
    return address.lower() if channel in (Channel.EMAIL, Channel.WEB) else address


@dataclass(frozen=True)
class CustomerRef:
    """A customer as ingest and the rules see them: ``tier`` is their own, else their
    organisation's; ``organisation`` its name."""

    id: int
    name: str
    tier: str | None = None
    organisation: str | None = None
    bounced: bool = False  # mail to this identity bounced (until it writes again)
    language: str | None = None  # the language the desk writes to them in; None: not known
    # made by this unit of work: nothing of theirs is stored yet (no message, no bounce),
    # and their identity's row is held by its INSERT until the commit (of the unit of
    # work, not of the customer: not compared)
    made_here: bool = field(default=False, compare=False)


KnownCustomers = dict[tuple[str, str], CustomerRef | None]
"""``(channel, address)`` -> its customer, or None: there was none when it was looked up."""


@dataclass(frozen=True)
class DomainOrganisation:
    """The organisation an email domain belongs to, as a new customer there joins it."""

    id: int
    name: str
    tier: str | None


KnownDomains = dict[str, DomainOrganisation | None]
"""An email domain -> its organisation, or None: none has it (as looked up)."""

_REF_COLUMNS = (
    Customer.id,
    Customer.name,
    func.coalesce(Customer.tier, Organisation.tier),
    Organisation.name,
    CustomerIdentity.bounced_at,
    Customer.language,
)


def _refs_by_identity() -> Any:
    """The customers behind identities, with their organisation's name and tier."""
    return (
        select(CustomerIdentity.address, *_REF_COLUMNS)
        .join(CustomerIdentity, CustomerIdentity.customer_id == Customer.id)
        .outerjoin(Organisation, Organisation.id == Customer.organisation_id)
    )


# Built once, given their values as parameters (see ``store.dialect``): every ingest
# batch runs them, and building one costs about what running it does.
# the customers behind a batch's senders (``look_up``)
_BY_IDENTITIES = _refs_by_identity().where(
    CustomerIdentity.channel == bindparam("channel"),
    CustomerIdentity.address.in_(bindparam("addresses", expanding=True)),
)
# the organisations of the new ones' email domains (``_look_up_domains``)
_ORGANISATIONS_OF_DOMAINS = (
    select(OrganisationDomain.domain, Organisation.id, Organisation.name, Organisation.tier)
    .join(Organisation, Organisation.id == OrganisationDomain.organisation_id)
    .where(OrganisationDomain.domain.in_(bindparam("domains", expanding=True)))
)
# both at once, for email addresses (``look_up``): each row a customer behind an identity
# ('customer', address, its columns) or an organisation of a domain ('domain', domain, id,
# name, tier, and nothing in the customer's last columns)
_BY_IDENTITIES_WITH_DOMAINS = union_all(
    _BY_IDENTITIES.add_columns(literal_column("'customer'")),
    _ORGANISATIONS_OF_DOMAINS.add_columns(null(), null(), null(), literal_column("'domain'")),
)
# which of some addresses bounce, in address order (``bounces``; locked or not)
_BOUNCES = (
    select(CustomerIdentity.address, CustomerIdentity.bounced_at, CustomerIdentity.bounce_reason)
    .where(
        CustomerIdentity.channel == Channel.EMAIL.value,
        CustomerIdentity.address.in_(bindparam("addresses", expanding=True)),
    )
    .order_by(CustomerIdentity.address)
)
_BOUNCES_LOCKED = _BOUNCES.with_for_update()


class CustomerRepository:
    def __init__(
        self,
        session: Session,
        known: KnownCustomers | None = None,
        domains: KnownDomains | None = None,
    ) -> None:
        self.session = session
        self._known: KnownCustomers = {} if known is None else known
        self._domains: KnownDomains = {} if domains is None else domains

    def look_up(self, channel: Channel, addresses: Iterable[str]) -> None:
        """Look up the customers behind ``addresses`` in one query, for ``identify``.

        A batch of messages asks once instead of once per message; for email addresses
        the same statement asks for the organisations of their domains (a new customer
        there joins it). What is found, or found missing, is kept for this unit of work; a
        customer another transaction creates meanwhile is still caught by
        ``create_missing``'s insert.
        """
        kind = _kind(channel)
        wanted = {normalise_address(kind, a) for a in addresses}
        wanted -= {address for (on, address) in self._known if on == kind.value}
        if not wanted:
            return
        found: dict[str, CustomerRef | None] = dict.fromkeys(wanted)
        values: dict[str, Any] = {"channel": kind.value, "addresses": sorted(wanted)}
        domains = {_domain(a) for a in wanted} - set(self._domains) - {""}
        if kind is not Channel.EMAIL or not domains:
            for row in self.session.execute(_BY_IDENTITIES, values):
                found[row[0]] = _ref(row[1:])
        else:
            organisations: KnownDomains = dict.fromkeys(domains)
            values["domains"] = sorted(domains)
            for row in self.session.execute(_BY_IDENTITIES_WITH_DOMAINS, values):
                if row[-1] == "domain":
                    organisations[row[0]] = DomainOrganisation(id=row[1], name=row[2], tier=row[3])
                else:
                    found[row[0]] = _ref(row[1:-1])
            self._domains.update(organisations)
        self._known.update(((kind.value, address), ref) for address, ref in found.items())

    def _look_up_domains(self, domains: Iterable[str]) -> None:
        """The organisations of ``domains``, in one query, for ``_organisation_of_domain``."""
        wanted = {d for d in domains if d} - set(self._domains)
        if not wanted:
            return
        found: KnownDomains = dict.fromkeys(wanted)
        for row in self.session.execute(_ORGANISATIONS_OF_DOMAINS, {"domains": sorted(wanted)}):
            found[row[0]] = DomainOrganisation(id=row[1], name=row[2], tier=row[3])
        self._domains.update(found)

    def create_missing(
        self,
        channel: Channel,
        people: Iterable[tuple[str, str]],
        now: datetime,
        languages: Mapping[str, str] | None = None,
    ) -> None:
        """Create the customers ``look_up`` found missing among ``people`` (address, name;
        the first name an address comes with), for ``identify``: two statements for a
        batch, not two per new customer (one for a lone new customer on PostgreSQL:
        ``store.customer_rows``). An address another transaction gave an identity
        meanwhile is left to ``identify`` (its customer row made here is removed).
        ``languages``: what some of them stated (by address), kept as ``speaks`` keeps it."""
        kind = _kind(channel)
        new: dict[str, str] = {}
        for address, name in people:
            key = normalise_address(kind, address)
            if (kind.value, key) in self._known and self._known[kind.value, key] is None:
                new.setdefault(key, name[:200])
        if not new:
            return
        organisations = {a: self._organisation_of_domain(kind, a) for a in new}
        stated = {normalise_address(kind, a): s for a, s in (languages or {}).items()}
        rows = [(a, new[a], o.id if o else None, stated.get(a)) for a, o in organisations.items()]
        ids, made = insert_customers(self.session, kind.value, rows, now)
        lost = [a for a in new if ids[a] not in made]  # raced: identify finds the other
        if lost:
            self.session.execute(delete(Customer).where(Customer.id.in_([ids[a] for a in lost])))
        for address in lost:
            del self._known[kind.value, address]
        for address in new.keys() - set(lost):
            organisation = organisations[address]
            self._known[kind.value, address] = CustomerRef(
                id=ids[address],
                name=new[address],
                tier=organisation.tier if organisation else None,
                organisation=organisation.name if organisation else None,
                language=stated.get(address),
                made_here=True,
            )

    def identify(self, channel: Channel, address: str, name: str, now: datetime) -> CustomerRef:
        """The customer behind ``address`` on ``channel``; created once, even under races.

        Web requesters are identified by their email address, so a web customer
        and an email customer with the same address are one person. A new customer
        writing from an organisation's email domain belongs to that organisation.
        """
        kind = _kind(channel)
        address = normalise_address(kind, address)
        name = name[:200]
        key = (kind.value, address)
        self.look_up(kind, [address])  # (nothing asked when it was, for a batch)
        if self._known[key] is None:
            self.create_missing(kind, [(address, name)], now)
        found = self._known.get(key) or self._find(kind, address)  # else another's won
        assert found is not None
        if name and name != found.name:  # the name given last wins; no name keeps the one known
            self.session.execute(update(Customer).where(Customer.id == found.id).values(name=name))
            found = replace(found, name=name)
        self._known[key] = found
        return found

    def requester_of(self, ticket_id: int) -> CustomerRef | None:
        """The customer who asked for ticket ``ticket_id``; None: no such ticket."""
        row = self.session.execute(
            select(
                Customer.id,
                Customer.name,
                func.coalesce(Customer.tier, Organisation.tier),
                Organisation.name,
                Customer.language,
            )
            .join(Ticket, Ticket.requester_id == Customer.id)
            .outerjoin(Organisation, Organisation.id == Customer.organisation_id)
            .where(Ticket.id == ticket_id)
        ).first()
        if row is None:
            return None
        return CustomerRef(
            id=row[0], name=row[1], tier=row[2], organisation=row[3], language=row[4]
        )

    def known(self, channel: Channel, address: str) -> CustomerRef | None:
        """The customer behind ``address`` on ``channel`` if there is one (never creates)."""
        kind = _kind(channel)
        address = normalise_address(kind, address)
        key = (kind.value, address)
        return self._known[key] if key in self._known else self._find(kind, address)

    def made_here(self, channel: Channel, address: str) -> bool:
        """Whether ``address``'s customer was made by this unit of work (asks nothing)."""
        kind = _kind(channel)
        ref = self._known.get((kind.value, normalise_address(kind, address)))
        return ref is not None and ref.made_here

    def speaks(self, customer: CustomerRef, language: str) -> CustomerRef:
        """``customer`` is written to in ``language`` from now on (as they last stated)."""
        if customer.language == language:
            return customer
        self.session.execute(
            update(Customer).where(Customer.id == customer.id).values(language=language)
        )
        changed = replace(customer, language=language)
        self._known.update({k: changed for k, v in self._known.items() if v == customer})
        return changed

    def addresses_of(self, customer_id: int) -> list[tuple[Channel, str]]:
        """Where a customer can be reached: each identity's (channel, address) that is not
        known to bounce, oldest first."""
        rows = self.session.execute(
            select(CustomerIdentity.channel, CustomerIdentity.address)
            .where(
                CustomerIdentity.customer_id == customer_id,
                CustomerIdentity.bounced_at.is_(None),
            )
            .order_by(CustomerIdentity.id)
        )
        return [(Channel(channel), address) for channel, address in rows]

    def flag_bounced(self, address: str, reason: str, now: datetime) -> bool:
        """Mark an email address as bouncing; returns whether it is one of our customers'."""
        self._forget(address)
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

    def bounces(self, addresses: Iterable[str], *, lock: bool = False) -> dict[str, str]:
        """Why mail to each of ``addresses`` that is known to bounce does (by normalised address).

        ``lock``: and lock the identities' rows, in address order, so ingests counting
        automatic replies to one address take turns (two at once cannot both slip
        under the limit) and two batches locking several addresses cannot deadlock.
        Not asked about an identity this unit of work made (``made_here``): it has no
        bounce, and its INSERT holds its row until the commit."""
        wanted = sorted(
            a
            for a in {normalise_address(Channel.EMAIL, a) for a in addresses}
            if not self.made_here(Channel.EMAIL, a)
        )
        if not wanted:
            return {}
        query = _BOUNCES_LOCKED if lock else _BOUNCES
        rows = self.session.execute(query, {"addresses": wanted})
        return {address: reason or "bounced" for address, at, reason in rows if at is not None}

    def clear_bounce(self, address: str) -> None:
        """The address wrote to us: it works again."""
        self._forget(address)
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
            _refs_by_identity().where(
                CustomerIdentity.channel == channel.value, CustomerIdentity.address == address
            )
        ).first()
        return None if row is None else _ref(row[1:])

    def _organisation_of_domain(self, channel: Channel, address: str) -> DomainOrganisation | None:
        """The organisation whose email domain ``address`` is at (email addresses only)."""
        domain = _domain(address)
        if channel is not Channel.EMAIL or not domain:
            return None
        self._look_up_domains([domain])
        return self._domains[domain]

    def _forget(self, address: str) -> None:
        """An email identity whose bounce flag changes: look it up again when asked."""
        self._known.pop((Channel.EMAIL.value, normalise_address(Channel.EMAIL, address)), None)


def _domain(address: str) -> str:
    """The domain of an email address as organisations list it ('' without one)."""
    _, at, domain = address.rpartition("@")
    return domain.lower().rstrip(".") if at else ""


def _kind(channel: Channel) -> Channel:
    return Channel.EMAIL if channel is Channel.WEB else channel


def _ref(row: Any) -> CustomerRef:
    return CustomerRef(
        id=row[0],
        name=row[1],
        tier=row[2],
        organisation=row[3],
        bounced=row[4] is not None,
        language=row[5],
    )
