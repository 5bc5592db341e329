"""Customers and organisations as the edges see them, and the rules for changing them.

Pure: what a profile shows, which custom attribute keys and values and which
email domains are accepted, how an update's attributes combine with the ones
kept, and what a merge of two customer records keeps. The store applies it.

Who may see and change them (``router.access``), as Zendesk does: every agent
reads the customer directory and organisations (an agent answering a ticket
needs to know who is asking), but a customer's ticket list shows only the
tickets in the reader's scope; supervisors and admins create, edit and merge.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

AttributeValue = str | int | float | bool
Attributes = Mapping[str, AttributeValue]

MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_CHARS = 1000
ATTRIBUTE_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
MAX_DOMAINS = 50


@dataclass(frozen=True)
class IdentityView:
    channel: str
    address: str
    bounced: bool = False


@dataclass(frozen=True)
class TicketLine:
    """One of a customer's tickets, in a profile."""

    number: int
    subject: str
    status: str
    priority: str
    created_at: datetime


@dataclass(frozen=True)
class OrganisationRef:
    id: int
    name: str
    tier: str | None = None


@dataclass(frozen=True)
class CustomerView:
    id: int
    name: str
    own_tier: str | None  # set on the customer
    organisation: OrganisationRef | None
    attributes: Mapping[str, AttributeValue]
    identities: tuple[IdentityView, ...]
    created_at: datetime
    tickets: tuple[TicketLine, ...] = ()  # newest first, the reader's scope only
    merged_into: int | None = None

    @property
    def tier(self) -> str | None:
        """The tier the rules and SLA policies read: the customer's, else the
        organisation's."""
        return effective_tier(self.own_tier, self.organisation.tier if self.organisation else None)


@dataclass(frozen=True)
class OrganisationView:
    id: int
    name: str
    tier: str | None
    domains: tuple[str, ...]
    attributes: Mapping[str, AttributeValue]
    customers: int  # how many customers belong to it
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class CustomerChanges:
    """An update: a field left ``None`` is kept; ``clear_*`` empties a field; attributes
    given set those keys, and ``drop_attributes`` removes keys."""

    name: str | None = None
    tier: str | None = None
    clear_tier: bool = False
    organisation_id: int | None = None
    clear_organisation: bool = False
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)
    drop_attributes: tuple[str, ...] = ()
    add_addresses: tuple[tuple[str, str], ...] = ()  # (channel, address)
    remove_addresses: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class OrganisationChanges:
    name: str | None = None
    tier: str | None = None
    clear_tier: bool = False
    domains: tuple[str, ...] | None = None  # the whole list, replacing the one kept
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)
    drop_attributes: tuple[str, ...] = ()


def effective_tier(own: str | None, organisation: str | None) -> str | None:
    return own or organisation or None


def attribute_problems(attributes: Attributes) -> list[str]:
    """Why these custom attributes cannot be kept (empty: they can)."""
    problems = []
    for key, value in attributes.items():
        if not ATTRIBUTE_KEY.fullmatch(key):
            problems.append(f"attribute {key!r}: a key is a-z, 0-9 and _, from a letter, ≤ 64")
        if not isinstance(value, str | int | float | bool):
            problems.append(f"attribute {key!r}: a value is text, a number or true/false")
        elif isinstance(value, str) and len(value) > MAX_ATTRIBUTE_CHARS:
            problems.append(f"attribute {key!r}: at most {MAX_ATTRIBUTE_CHARS} characters")
        elif isinstance(value, float) and not math.isfinite(value):
            problems.append(f"attribute {key!r}: not a finite number")
    return problems


def updated_attributes(
    kept: Attributes, changes: Attributes, drop: tuple[str, ...] = ()
) -> dict[str, AttributeValue]:
    """The attributes after an update; ``ValueError`` says why they cannot be kept."""
    result = {k: v for k, v in kept.items() if k not in drop}
    result.update(changes)
    problems = attribute_problems(changes)
    if len(result) > MAX_ATTRIBUTES:
        problems.append(f"at most {MAX_ATTRIBUTES} attributes")
    if problems:
        raise ValueError("; ".join(problems))
    return result


def normalised_domain(domain: str) -> str:
    """An email domain as kept (lower case, no trailing dot, no ``@``); ``ValueError`` for
    something that is not a domain name."""
    value = domain.strip().lower().lstrip("@").rstrip(".")
    if not DOMAIN.fullmatch(value):
        raise ValueError(f"{domain!r} is not an email domain (like example.com)")
    return value


def normalised_domains(domains: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    result = tuple(dict.fromkeys(normalised_domain(d) for d in domains))
    if len(result) > MAX_DOMAINS:
        raise ValueError(f"at most {MAX_DOMAINS} domains")
    return result


def domain_of(address: str) -> str | None:
    """The domain of an email address, as organisations' domains are kept."""
    _, at, domain = address.strip().rpartition("@")
    domain = domain.lower().rstrip(".>")
    return domain if at and domain else None


@dataclass(frozen=True)
class MergedProfile:
    """What the surviving record keeps after a merge."""

    name: str
    tier: str | None
    organisation_id: int | None
    attributes: dict[str, AttributeValue]


def merged_profile(
    into: CustomerView, merged: CustomerView, *, into_org: int | None, merged_org: int | None
) -> MergedProfile:
    """The record merged into keeps what it has; what it lacks comes from the other one
    (its name when it has none, its tier, its organisation, attribute keys it lacks)."""
    return MergedProfile(
        name=into.name or merged.name,
        tier=into.own_tier or merged.own_tier,
        organisation_id=into_org if into_org is not None else merged_org,
        attributes={**merged.attributes, **into.attributes},
    )
