"""Who an authenticated request comes from: the account's principal, origin and teams."""

from __future__ import annotations

from datetime import datetime

from router.access import Account, Principal, principal_of
from router.audit_origin import Origin, Via
from router.errors import NotFound
from router.staff_views import Caller
from router.vocabulary import Role
from store.db import UnitOfWork
from store.models import ApiToken


def session_caller_of(
    uow: UnitOfWork,
    agent_id: int,
    address: str | None,
    *,
    session_id: int,
    csrf_token: str,
    expires_at: datetime,
) -> Caller:
    principal = principal_of(_account(uow, agent_id))
    origin = Origin(actor=principal.actor, via=Via.SESSION, address=address)
    return _caller(
        uow, principal, origin, session_id=session_id, csrf_token=csrf_token, expires_at=expires_at
    )


def token_caller_of(uow: UnitOfWork, token: ApiToken, address: str | None) -> Caller:
    """Acting with ``token``: its role, never wider than its account's own today."""
    account = _account(uow, token.agent_id)
    principal = principal_of(account, token_role=Role(token.role), token_id=token.id)
    origin = Origin(
        actor=principal.actor,
        via=Via.TOKEN,
        address=address,
        token_id=token.id,
        token_name=token.name,
    )
    return _caller(uow, principal, origin, expires_at=token.expires_at)


def _account(uow: UnitOfWork, agent_id: int) -> Account:
    account = uow.staff.account(agent_id)
    if account is None:
        raise NotFound(f"no agent #{agent_id}")
    return account


def _caller(
    uow: UnitOfWork,
    principal: Principal,
    origin: Origin,
    *,
    session_id: int | None = None,
    csrf_token: str | None = None,
    expires_at: datetime | None,
) -> Caller:
    agent = uow.agents.by_ids([principal.agent_id])[0]
    names = uow.staff.team_names()
    return Caller(
        principal=principal,
        origin=origin,
        display_name=agent.display_name or agent.name,
        teams=tuple(sorted(names[t] for t in principal.teams if t in names)),
        supervised=tuple(sorted(names[t] for t in principal.supervised if t in names)),
        session_id=session_id,
        csrf_token=csrf_token,
        expires_at=expires_at,
    )
