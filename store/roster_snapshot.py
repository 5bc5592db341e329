"""The agents the store knows now, by name: their numbers and routing status (a
simulation's roster keeps both, so an agent ranks and stands as it does live)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from router.vocabulary import AgentStatus
from store.models import Agent


def agents_now(session: Session) -> dict[str, tuple[int, AgentStatus]]:
    rows = session.execute(select(Agent.name, Agent.id, Agent.status))
    return {name: (number, AgentStatus(status)) for name, number, status in rows}
