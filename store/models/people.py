"""Customers with one identity per channel address; agents, their skills and teams."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.models.base import Base, JSONType, UTCDateTime

agent_teams = Table(
    "agent_teams",
    Base.metadata,
    Column("agent_id", ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
    Column("team_id", ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
)


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    tier: Mapped[str | None] = mapped_column(String(64))  # e.g. "gold": rules may match on it
    organisation: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    identities: Mapped[list[CustomerIdentity]] = relationship(back_populates="customer")


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
