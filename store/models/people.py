"""Customers with one identity per channel address, their organisations; agents, their
skills and teams."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.models.base import Base, JSONType, UTCDateTime

agent_teams = Table(
    "agent_teams",
    Base.metadata,
    Column("agent_id", ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
    Column("team_id", ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
)


class Organisation(Base):
    """A company its customers belong to; mail from one of its ``domains`` links the sender."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    tier: Mapped[str | None] = mapped_column(String(64))  # its customers' unless they have one
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    domains: Mapped[list[OrganisationDomain]] = relationship(
        back_populates="organisation",
        cascade="all, delete-orphan",
        order_by="OrganisationDomain.domain",
    )


class OrganisationDomain(Base):
    """An email domain of one organisation (lower case, unique: one organisation each)."""

    __tablename__ = "organisation_domains"

    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )

    organisation: Mapped[Organisation] = relationship(back_populates="domains")


class Customer(Base):
    __tablename__ = "customers"
    # the reports' top requesters: the names more than one customer has
    __table_args__ = (Index("ix_customers_name", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    tier: Mapped[str | None] = mapped_column(String(64))  # e.g. "gold": rules may match on it
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # the language the desk writes to them in (catalogs.LANGUAGES); None: not known yet
    language: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # when a merge folded this record into another (its tickets and identities moved there)
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL")
    )

    identities: Mapped[list[CustomerIdentity]] = relationship(back_populates="customer")
    organisation: Mapped[Organisation | None] = relationship()


class CustomerIdentity(Base):
    """One address on one channel (an email address, a Telegram chat id)."""

    __tablename__ = "customer_identities"
    __table_args__ = (UniqueConstraint("channel", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # mail to it bounced
    bounce_reason: Mapped[str | None] = mapped_column(Text)
    new_thread_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # chat: /new was sent

    customer: Mapped[Customer] = relationship(back_populates="identities")


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(16), default="offline")
    capacity: Mapped[int] = mapped_column(Integer, default=5)
    load: Mapped[int] = mapped_column(Integer, default=0)  # open tickets assigned
    seniority: Mapped[int] = mapped_column(Integer, default=0)
    channel_capacity: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    language: Mapped[str | None] = mapped_column(String(16))  # None: helpdesk.language
    last_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Telegram: the linked account (never set but by a one-time code), and that code's hash
    telegram_user_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    telegram_chat_id: Mapped[str | None] = mapped_column(String(32))
    link_code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    link_code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the staff account: its role as configured, and its password (Argon2 hash; None: the
    # account cannot sign in with a password)
    role: Mapped[str] = mapped_column(String(16), default="agent", server_default="agent")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    password_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    skills: Mapped[list[AgentSkill]] = relationship(
        back_populates="agent", cascade="all, delete-orphan"
    )
    teams: Mapped[list[Team]] = relationship(secondary=agent_teams, back_populates="agents")
    supervisor: Mapped[Agent | None] = relationship(remote_side=[id])


class AgentSkill(Base):
    __tablename__ = "agent_skills"

    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    skill: Mapped[str] = mapped_column(String(64), primary_key=True)
    level: Mapped[int] = mapped_column(Integer)

    agent: Mapped[Agent] = relationship(back_populates="skills")


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    claim_mode: Mapped[bool] = mapped_column(Boolean, default=False)
    fallback_team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL")
    )

    agents: Mapped[list[Agent]] = relationship(secondary=agent_teams, back_populates="teams")
    supervisor: Mapped[Agent | None] = relationship(foreign_keys=[supervisor_id])
