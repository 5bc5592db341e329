"""API tokens for programs: made for an agent with a role no wider than theirs, shown once,
kept as a hash, revocable; each use records when and from where (at most once a minute)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from router.access import account_role, may_grant
from router.audit_origin import ActorRef
from router.credentials import (
    TOKEN_PREFIX,
    TOKEN_USE_EVERY,
    secret_hash,
    token_usable,
    token_use_worth_recording,
)
from router.errors import NotFound
from router.staff_views import Caller, NewToken, TokenView
from router.vocabulary import AuditAction, Role, SystemActor
from store.models import ApiToken
from workers.desk.assignments import agent_named
from workers.desk.callers import token_caller_of
from workers.runtime.context import Runtime

HINT_CHARS = 12  # "rdk_" and 8 characters of the secret: enough to tell tokens apart
MAX_TOKEN_CHARS = 200


def view_of(token: ApiToken) -> TokenView:
    return TokenView(
        id=token.id,
        hint=token.hint,
        agent=token.agent.name,
        name=token.name,
        role=token.role,
        created_at=token.created_at,
        created_by=token.created_by,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
        last_used_at=token.last_used_at,
        last_used_from=token.last_used_from,
    )


def create_token(
    runtime: Runtime,
    agent_name: str,
    *,
    role: Role | None = None,
    lifetime: timedelta | None = None,
    name: str = "",
    actor: ActorRef = SystemActor.CLI,
) -> NewToken:
    """A token acting for ``agent_name`` with ``role`` (default: the agent's); ``ValueError``
    when that is wider than the agent's own role, ``NotFound`` for no such agent."""
    now = runtime.now()
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with runtime.db.unit_of_work() as uow:
        agent = agent_named(uow, agent_name)
        account = uow.staff.account(agent.id)
        assert account is not None
        granted = role or account_role(account)
        if not may_grant(account, granted):
            raise ValueError(
                f"{agent_name} is {account_role(account).value}: a token for them may not be "
                f"{granted.value} (a token's role is the agent's or narrower)"
            )
        expires_at = now + lifetime if lifetime is not None else None
        token = uow.api_tokens.add(
            agent_id=agent.id,
            secret_hash=secret_hash(secret),
            hint=secret[:HINT_CHARS],
            name=name.strip()[:100],
            role=granted.value,
            created_by=str(actor),
            expires_at=expires_at,
            now=now,
        )
        token.agent = agent
        uow.audit.record(
            ticket_id=None,
            actor=actor,
            action=AuditAction.TOKEN_CREATED,
            detail=f"token {token.id} {name!r} for {agent_name} as {granted.value}, "
            + (f"expires {expires_at:%Y-%m-%d %H:%M} UTC" if expires_at else "never expires"),
            now=now,
            data={"token_id": token.id, "agent": agent_name, "role": granted.value},
        )
        return NewToken(token=view_of(token), secret=secret)


def list_tokens(runtime: Runtime, *, agent: str | None = None) -> list[TokenView]:
    with runtime.db.unit_of_work() as uow:
        return [view_of(t) for t in uow.api_tokens.listed(agent=agent)]


def revoke_token(
    runtime: Runtime, token_id: int, *, actor: ActorRef = SystemActor.CLI
) -> TokenView:
    """Revoke a token at once (again: no change); ``NotFound`` for no such token."""
    now = runtime.now()
    with runtime.db.unit_of_work() as uow:
        uow.after_commit(runtime.callers.forget_all)  # this process's at once
        if uow.api_tokens.revoke(token_id, now):
            uow.audit.record(
                ticket_id=None,
                actor=actor,
                action=AuditAction.TOKEN_REVOKED,
                detail=f"token {token_id} revoked",
                now=now,
                data={"token_id": token_id},
            )
        token = uow.api_tokens.get(token_id)
        if token is None:
            raise NotFound(f"no token {token_id}")
        return view_of(token)


def remembered_token_caller(runtime: Runtime, secret: str, *, address: str | None) -> Caller | None:
    """The caller this process remembers for a bearer token (``Runtime.callers``), without
    asking the store; None: not remembered (``token_caller`` asks)."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > MAX_TOKEN_CHARS:
        return None
    key = (secret_hash(secret), address)
    return runtime.callers.get(key, version=runtime.config_version, now=runtime.now())


def token_caller(runtime: Runtime, secret: str, *, address: str | None) -> Caller | None:
    """The caller a bearer token stands for, or None (unknown, expired, revoked)."""
    remembered = remembered_token_caller(runtime, secret, address=address)
    if remembered is not None:
        return remembered
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > MAX_TOKEN_CHARS:
        return None
    now = runtime.now()
    key, version = (secret_hash(secret), address), runtime.config_version
    with runtime.db.unit_of_work() as uow:
        token = uow.api_tokens.by_secret_hash(key[0])
        if token is None or not token_usable(
            expires_at=token.expires_at, revoked_at=token.revoked_at, now=now
        ):
            return None
        last_used = token.last_used_at
        if token_use_worth_recording(
            last_used_at=last_used, last_used_from=token.last_used_from, address=address, now=now
        ):
            uow.api_tokens.record_use(token.id, address, now)
            last_used = now
        caller = token_caller_of(uow, token, address)
        # remembered until its use is to be recorded again (or it expires, if sooner)
        until = (last_used or now) + TOKEN_USE_EVERY
        if token.expires_at is not None:
            until = min(until, token.expires_at)
    runtime.callers.put(key, caller, version=version, until=until)
    return caller
