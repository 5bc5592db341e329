"""Who made a change and from where: the actor of an audit event with its credentials.

The desk's operations take ``actor: str | Origin``. A plain string ("cli",
"system:route") is recorded as it is; an ``Origin`` is recorded under its
``actor`` name, with ``audit_data()`` (how the actor was identified, from which
address, with which token) kept in the event's data under ``"origin"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Via(StrEnum):
    """How the actor was identified."""

    SESSION = "session"  # a signed-in person (password, then the session cookie)
    TOKEN = "token"  # a program with an API token
    CLI = "cli"  # the command line: whoever runs it owns the database; --as is a claim
    TELEGRAM = "telegram"  # a linked Telegram account
    PAGE = "page"  # a requester on their ticket's page (its access key)


@dataclass(frozen=True)
class Origin:
    actor: str  # the audit log's actor: "agent:ana", "cli"
    via: Via
    address: str | None = None  # the client's address (HTTP), None locally
    token_id: int | None = None
    token_name: str | None = None
    claimed_as: str | None = None  # the CLI's --as NAME: asserted, not proven

    def __str__(self) -> str:
        return self.actor

    def audit_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"via": self.via.value}
        if self.address is not None:
            data["address"] = self.address
        if self.token_id is not None:
            data["token_id"] = self.token_id
            data["token_name"] = self.token_name or ""
        if self.claimed_as is not None:
            data["claimed_as"] = self.claimed_as
        return data


def cli_as(agent_name: str) -> Origin:
    """The command line acting ``--as`` an agent: recorded as the agent, marked as claimed."""
    return Origin(actor=f"agent:{agent_name}", via=Via.CLI, claimed_as=agent_name)


ActorRef = str | Origin
