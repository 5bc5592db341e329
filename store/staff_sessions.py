"""Signed-in sessions: created at sign-in, looked up by the hash of the cookie's secret."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from store.models import StaffSession


class StaffSessionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self,
        *,
        agent_id: int,
        secret_hash: str,
        csrf_token: str,
        address: str | None,
        user_agent: str,
        now: datetime,
    ) -> StaffSession:
        row = StaffSession(
            agent_id=agent_id,
            secret_hash=secret_hash,
            csrf_token=csrf_token,
            created_at=now,
            last_seen_at=now,
            last_seen_from=address,
            user_agent=user_agent[:300],
        )
        self.session.add(row)
        self.session.flush()
        return row

    def by_secret_hash(self, secret_hash: str) -> StaffSession | None:
        return self.session.scalars(
            select(StaffSession).where(StaffSession.secret_hash == secret_hash)
        ).first()

    def touch(self, session_id: int, address: str | None, now: datetime) -> None:
        self.session.execute(
            update(StaffSession)
            .where(StaffSession.id == session_id)
            .values(last_seen_at=now, last_seen_from=address)
            .execution_options(synchronize_session=False)
        )

    def revoke(self, session_id: int, now: datetime) -> bool:
        """End one session; False when it had ended already."""
        result = self.session.execute(
            update(StaffSession)
            .where(StaffSession.id == session_id, StaffSession.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    def revoke_all(self, agent_id: int, now: datetime) -> int:
        """End every open session of an agent (a new password); how many were open."""
        result = self.session.execute(
            update(StaffSession)
            .where(StaffSession.agent_id == agent_id, StaffSession.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def forget_ended(
        self, agent_id: int, *, seen_before: datetime, created_before: datetime
    ) -> None:
        """Delete an agent's sessions that can no longer be used (kept no longer than that)."""
        self.session.execute(
            delete(StaffSession).where(
                StaffSession.agent_id == agent_id,
                or_(
                    StaffSession.revoked_at.is_not(None),
                    StaffSession.last_seen_at < seen_before,
                    StaffSession.created_at < created_before,
                ),
            )
        )
