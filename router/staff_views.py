"""Read-only views of staff accounts handed to the edges (staff API, command line)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from router.access import Principal
from router.audit_origin import Origin


@dataclass(frozen=True)
class Caller:
    """Someone authenticated: what they may do (``principal``), how the audit log names
    them (``origin``), and for a signed-in session its id and CSRF token."""

    principal: Principal
    origin: Origin
    display_name: str
    teams: tuple[str, ...]  # names of the teams they are in
    supervised: tuple[str, ...]  # names of the teams they supervise
    session_id: int | None = None
    csrf_token: str | None = None  # a session's: unsafe requests must carry it
    expires_at: datetime | None = None  # when the session or token ends (None: never)


@dataclass(frozen=True)
class SignedIn:
    """A new session: ``secret`` goes into the cookie and is never stored."""

    secret: str
    caller: Caller


@dataclass(frozen=True)
class ChannelLoad:
    channel: str
    load: int  # active tickets of this channel assigned to the agent
    capacity: int | None  # the agent's limit in it (None: only the overall capacity)


@dataclass(frozen=True)
class AgentLoad:
    name: str
    display_name: str
    status: str
    teams: tuple[str, ...]
    load: int
    capacity: int
    channels: tuple[ChannelLoad, ...]


@dataclass(frozen=True)
class TokenView:
    id: int
    hint: str  # the token's first characters
    agent: str
    name: str
    role: str
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    last_used_from: str | None


@dataclass(frozen=True)
class NewToken:
    """A token just made: ``secret`` is shown this once and never stored."""

    token: TokenView
    secret: str
