"""API tokens: stored as hashes, looked up by the hash of what a program presents."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from store.models import Agent, ApiToken


class ApiTokenRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self,
        *,
        agent_id: int,
        secret_hash: str,
        hint: str,
        name: str,
        role: str,
        created_by: str,
        expires_at: datetime | None,
        now: datetime,
    ) -> ApiToken:
        row = ApiToken(
            agent_id=agent_id,
            secret_hash=secret_hash,
            hint=hint,
            name=name,
            role=role,
            created_by=created_by[:320],
            created_at=now,
            expires_at=expires_at,
        )
        self.session.add(row)
        self.session.flush()
        return row

    def by_secret_hash(self, secret_hash: str) -> ApiToken | None:
        return self.session.scalars(
            select(ApiToken).where(ApiToken.secret_hash == secret_hash)
        ).first()

    def get(self, token_id: int) -> ApiToken | None:
        return self.session.get(ApiToken, token_id, options=[joinedload(ApiToken.agent)])

    def listed(self, *, agent: str | None = None) -> list[ApiToken]:
        query = select(ApiToken).options(joinedload(ApiToken.agent)).order_by(ApiToken.id)
        if agent is not None:
            query = query.join(Agent, Agent.id == ApiToken.agent_id).where(Agent.name == agent)
        return list(self.session.scalars(query))

    def revoke(self, token_id: int, now: datetime) -> bool:
        """Revoke a token; False when it was revoked already."""
        result = self.session.execute(
            update(ApiToken)
            .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    def record_use(self, token_id: int, address: str | None, now: datetime) -> None:
        self.session.execute(
            update(ApiToken)
            .where(ApiToken.id == token_id)
            .values(last_used_at=now, last_used_from=address)
            .execution_options(synchronize_session=False)
        )
