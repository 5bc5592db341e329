"""The bodies of the customer and organisation endpoints (pydantic), documented for OpenAPI.

An update is a PATCH: a field left out is kept, ``null`` empties it; in
``attributes`` a key set to ``null`` is removed and the others are set.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from router.customer_records import (
    MAX_ATTRIBUTE_CHARS,
    MAX_ATTRIBUTES,
    MAX_DOMAINS,
    AttributeValue,
    CustomerChanges,
    CustomerView,
    OrganisationChanges,
    OrganisationView,
)
from router.storable import MAX_ID
from router.vocabulary import Channel

PRINTABLE = r"^[^\u0000-\u001f\u007f]*$"  # one line, no control characters
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=PRINTABLE)]
Tier = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$"), Field(examples=["gold"])
]
Key = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Value = (
    Annotated[str, StringConstraints(max_length=MAX_ATTRIBUTE_CHARS)]
    | bool
    | Annotated[int, Field(ge=-(2**53), le=2**53)]
    | Annotated[float, Field(allow_inf_nan=False)]
)
Attributes = Annotated[
    dict[Key, Value],
    Field(max_length=MAX_ATTRIBUTES, description="Custom attributes: `a-z0-9_` keys."),
]
AttributeChanges = Annotated[
    dict[Key, Value | None],
    Field(max_length=MAX_ATTRIBUTES, description="Keys to set; a key set to null is removed."),
]
Domain = Annotated[
    str,
    StringConstraints(max_length=253, pattern=r"^@?[A-Za-z0-9.-]+\.?$"),
    Field(examples=["acme.example"]),
]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class Address(BaseModel):
    """An email address or a Telegram chat id (a web requester is known by their email)."""

    model_config = ConfigDict(extra="forbid")

    channel: Literal["email", "telegram"]
    address: str = Field(
        min_length=1,
        max_length=320,
        pattern=r"^([^@\s<>,;\u0000-\u001f]+@[^@\s<>,;\u0000-\u001f]+|-?[0-9]{1,20})$",
        description="jo@example.org, or a chat id such as 620002.",
    )

    def pair(self) -> tuple[Channel, str]:
        return Channel(self.channel), self.address


class AddressOut(BaseModel):
    channel: str
    address: str
    bounced: bool = Field(description="Mail to it bounced (until it writes again).")


class OrganisationRefOut(BaseModel):
    id: int
    name: str
    tier: str | None


class TicketLineOut(BaseModel):
    number: int
    subject: str
    status: str
    priority: str
    created_at: datetime


class CustomerOut(BaseModel):
    id: int
    name: str
    tier: str | None = Field(description="What rules and SLA policies read: own, else the org's.")
    own_tier: str | None
    organisation: OrganisationRefOut | None
    attributes: dict[str, AttributeValue]
    addresses: list[AddressOut]
    created_at: datetime
    merged_into: int | None = Field(description="Merged into this customer: read that one.")
    tickets: list[TicketLineOut] = Field(
        description="Their newest tickets (up to 50) that the caller may open."
    )

    @classmethod
    def of(cls, view: CustomerView) -> CustomerOut:
        org = view.organisation
        return cls(
            id=view.id,
            name=view.name,
            tier=view.tier,
            own_tier=view.own_tier,
            organisation=OrganisationRefOut(id=org.id, name=org.name, tier=org.tier)
            if org
            else None,
            attributes=dict(view.attributes),
            addresses=[
                AddressOut(channel=i.channel, address=i.address, bounced=i.bounced)
                for i in view.identities
            ],
            created_at=view.created_at,
            merged_into=view.merged_into,
            tickets=[
                TicketLineOut(
                    number=t.number,
                    subject=t.subject,
                    status=t.status,
                    priority=t.priority,
                    created_at=t.created_at,
                )
                for t in view.tickets
            ],
        )


class CustomerPage(BaseModel):
    customers: list[CustomerOut]
    next_after: int | None = Field(description="Pass as `after` for the next page (null: done).")


class NewCustomer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    addresses: list[Address] = Field(default=[], max_length=20)
    tier: Tier | None = None
    organisation_id: Id | None = None
    attributes: Attributes = {}


class CustomerUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    tier: Tier | None = None
    organisation_id: Id | None = None
    attributes: AttributeChanges = {}
    add_addresses: list[Address] = Field(default=[], max_length=20)
    remove_addresses: list[Address] = Field(default=[], max_length=20)

    def changes(self) -> CustomerChanges:
        given = self.model_fields_set
        return CustomerChanges(
            name=self.name,
            tier=self.tier,
            clear_tier="tier" in given and self.tier is None,
            organisation_id=self.organisation_id,
            clear_organisation="organisation_id" in given and self.organisation_id is None,
            attributes={k: v for k, v in self.attributes.items() if v is not None},
            drop_attributes=tuple(k for k, v in self.attributes.items() if v is None),
            add_addresses=tuple((a.channel, a.address) for a in self.add_addresses),
            remove_addresses=tuple((a.channel, a.address) for a in self.remove_addresses),
        )


class MergeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    into: Id = Field(description="The customer who remains; this one is merged into them.")


class OrganisationOut(BaseModel):
    id: int
    name: str
    tier: str | None
    domains: list[str]
    attributes: dict[str, AttributeValue]
    customers: int = Field(description="How many customers belong to it.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: OrganisationView) -> OrganisationOut:
        return cls(
            id=view.id,
            name=view.name,
            tier=view.tier,
            domains=list(view.domains),
            attributes=dict(view.attributes),
            customers=view.customers,
            created_at=view.created_at,
            updated_at=view.updated_at,
        )


class OrganisationPage(BaseModel):
    organisations: list[OrganisationOut]
    next_after: int | None = Field(description="Pass as `after` for the next page (null: done).")


class NewOrganisation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    tier: Tier | None = None
    domains: list[Domain] = Field(
        default=[],
        max_length=MAX_DOMAINS,
        description="Mail from these domains links new customers to it.",
    )
    attributes: Attributes = {}


class OrganisationUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    tier: Tier | None = None
    domains: list[Domain] | None = Field(
        None, max_length=MAX_DOMAINS, description="The whole list, replacing the one kept."
    )
    attributes: AttributeChanges = {}

    def changes(self) -> OrganisationChanges:
        return OrganisationChanges(
            name=self.name,
            tier=self.tier,
            clear_tier="tier" in self.model_fields_set and self.tier is None,
            domains=tuple(self.domains) if self.domains is not None else None,
            attributes={k: v for k, v in self.attributes.items() if v is not None},
            drop_attributes=tuple(k for k, v in self.attributes.items() if v is None),
        )
