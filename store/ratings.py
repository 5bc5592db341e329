"""Ratings in the store: one per resolution of a ticket, written again when changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import Rating


@dataclass(frozen=True)
class RatingFacts:
    """What is being rated: a ticket's resolution, by whom it was resolved."""

    ticket_id: int
    resolution: int
    agent_id: int | None
    team_id: int | None


class RatingRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def of(self, ticket_id: int, resolution: int) -> Rating | None:
        return self.session.scalars(
            select(Rating).where(Rating.ticket_id == ticket_id, Rating.resolution == resolution)
        ).first()

    def record(
        self, facts: RatingFacts, *, good: bool, comment: str, via: str, now: datetime
    ) -> tuple[Rating, Rating | None]:
        """Keep the rating of ``facts``' resolution (the ticket is locked by the caller, so
        two ratings of one resolution are never written at once); returns it and a copy
        of what it said before, None when it is new."""
        found = self.of(facts.ticket_id, facts.resolution)
        if found is None:
            found = Rating(
                ticket_id=facts.ticket_id,
                resolution=facts.resolution,
                agent_id=facts.agent_id,
                team_id=facts.team_id,
                good=good,
                comment=comment,
                via=via,
                created_at=now,
                updated_at=now,
            )
            self.session.add(found)
            self.session.flush()
            return found, None
        before = Rating(good=found.good, comment=found.comment, via=found.via)
        found.good, found.comment, found.via, found.updated_at = good, comment, via, now
        return found, before
