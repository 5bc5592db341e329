"""The staff API's request and response bodies (pydantic), documented for OpenAPI."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from router.credentials import parse_lifetime
from router.staff_views import AgentLoad, Caller, TokenView
from router.vocabulary import AgentStatus, Role

NAME_PATTERN = r"^[A-Za-z0-9_.-]+$"


class SignInRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=1, max_length=64, pattern=NAME_PATTERN, description="The agent's name."
    )
    password: str = Field(min_length=1, max_length=1024)


class Me(BaseModel):
    """Who is signed in, what they may do, and for a session its CSRF token."""

    name: str
    display_name: str
    role: Role = Field(description="The role acting now (a token's may be narrower).")
    teams: list[str] = Field(description="The teams the agent is a member of.")
    supervised_teams: list[str] = Field(description="The teams the agent supervises.")
    via: Literal["session", "token"]
    token_id: int | None = Field(None, description="With a token: its id.")
    csrf_token: str | None = Field(
        None,
        description="With a session: send it as the X-CSRF-Token header (or the csrf_token "
        "form field) with every POST, PUT, PATCH and DELETE.",
    )
    expires_at: datetime | None = Field(description="When the session or token ends.")

    @classmethod
    def of(cls, caller: Caller) -> Me:
        principal = caller.principal
        return cls(
            name=principal.name,
            display_name=caller.display_name,
            role=principal.role,
            teams=list(caller.teams),
            supervised_teams=list(caller.supervised),
            via="token" if principal.token_id is not None else "session",
            token_id=principal.token_id,
            csrf_token=caller.csrf_token,
            expires_at=caller.expires_at,
        )


class ChannelLoadOut(BaseModel):
    channel: str
    load: int = Field(description="Active tickets of this channel assigned to the agent.")
    capacity: int | None = Field(description="The agent's limit in it (null: none of its own).")


class AgentOut(BaseModel):
    name: str
    display_name: str
    status: AgentStatus
    teams: list[str]
    load: int = Field(description="Active tickets assigned (new, open, pending).")
    capacity: int
    channels: list[ChannelLoadOut]

    @classmethod
    def of(cls, agent: AgentLoad) -> AgentOut:
        return cls(
            name=agent.name,
            display_name=agent.display_name,
            status=AgentStatus(agent.status),
            teams=list(agent.teams),
            load=agent.load,
            capacity=agent.capacity,
            channels=[
                ChannelLoadOut(channel=c.channel, load=c.load, capacity=c.capacity)
                for c in agent.channels
            ],
        )


class StatusRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: AgentStatus = Field(description="online (takes tickets), away or offline.")


class StatusChange(BaseModel):
    name: str
    status: AgentStatus
    previous: AgentStatus


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent: str = Field(
        min_length=1, max_length=64, pattern=NAME_PATTERN, description="Acts for this agent."
    )
    role: Role | None = Field(None, description="The agent's role (default) or narrower.")
    expires_in: str = Field(
        "never",
        max_length=20,
        description="Lifetime: `90m`, `12h`, `30d`, `8w`, or `never`.",
        examples=["30d"],
    )
    name: str = Field("", max_length=100, description="What it is for, e.g. `crm-sync`.")

    @field_validator("expires_in")
    @classmethod
    def _lifetime(cls, value: str) -> str:
        parse_lifetime(value)  # raises ValueError with what is accepted
        return value

    @field_validator("name")
    @classmethod
    def _printable(cls, value: str) -> str:
        if any(not c.isprintable() for c in value):
            raise ValueError("must be printable text on one line")
        return value.strip()


class TokenOut(BaseModel):
    id: int
    hint: str = Field(description="The token's first characters, to tell it apart.")
    agent: str
    name: str
    role: Role
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    last_used_from: str | None

    @classmethod
    def of(cls, token: TokenView) -> TokenOut:
        return cls(
            id=token.id,
            hint=token.hint,
            agent=token.agent,
            name=token.name,
            role=Role(token.role),
            created_at=token.created_at,
            created_by=token.created_by,
            expires_at=token.expires_at,
            revoked_at=token.revoked_at,
            last_used_at=token.last_used_at,
            last_used_from=token.last_used_from,
        )


class NewTokenOut(TokenOut):
    token: str = Field(description="The token itself: shown this once, never again.")
