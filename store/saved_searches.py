"""Saved searches in the store: an agent's own and those shared with teams."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from router.saved_searches import SavedSearch
from router.storable import is_id
from store.models import SavedSearchRow


class SavedSearchRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def of(self, owner: str, teams: tuple[str, ...]) -> list[SavedSearch]:
        """``owner``'s own and those shared with ``teams``, by name."""
        rows = self.session.scalars(
            select(SavedSearchRow)
            .where(or_(SavedSearchRow.owner == owner, SavedSearchRow.team.in_(teams)))
            .order_by(SavedSearchRow.name, SavedSearchRow.id)
        )
        return [_search(row) for row in rows]

    def get(self, search_id: int) -> SavedSearch | None:
        if not is_id(search_id):  # names nothing (router.storable): not a database error
            return None
        row = self.session.get(SavedSearchRow, search_id)
        return _search(row) if row is not None else None

    def count_of(self, owner: str) -> int:
        return len(
            self.session.scalars(
                select(SavedSearchRow.id).where(SavedSearchRow.owner == owner)
            ).all()
        )

    def named(self, owner: str, name: str) -> SavedSearch | None:
        row = self.session.scalars(
            select(SavedSearchRow).where(SavedSearchRow.owner == owner, SavedSearchRow.name == name)
        ).first()
        return _search(row) if row is not None else None

    def add(
        self, *, owner: str, name: str, team: str | None, filters: dict[str, Any], now: datetime
    ) -> SavedSearch:
        row = SavedSearchRow(owner=owner, name=name, team=team, filters=filters, created_at=now)
        self.session.add(row)
        self.session.flush()
        return _search(row)

    def remove(self, search_id: int) -> None:
        row = self.session.get(SavedSearchRow, search_id)
        if row is not None:
            self.session.delete(row)


def _search(row: SavedSearchRow) -> SavedSearch:
    return SavedSearch(
        id=row.id, name=row.name, owner=row.owner, team=row.team, filters=dict(row.filters)
    )
