"""Macros kept in the store: those an admin made through the staff API, by name."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from router.macros import MacroDefinition
from store.models import MacroRow


class MacroRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def all(self) -> list[MacroDefinition]:
        rows = self.session.scalars(select(MacroRow).order_by(MacroRow.name))
        return [_definition(row) for row in rows]

    def named(self, name: str) -> MacroDefinition | None:
        row = self._row(name)
        return _definition(row) if row is not None else None

    def add(self, macro: MacroDefinition, *, by: str, now: datetime) -> None:
        """Keep a new macro (its name is free: the caller checked, the unique key too)."""
        self.session.add(MacroRow(**_columns(macro), created_by=by, created_at=now, updated_at=now))
        self.session.flush()

    def replace(self, macro: MacroDefinition, *, now: datetime) -> bool:
        """Write ``macro`` over the kept one of its name; False when there is none."""
        row = self._row(macro.name, for_update=True)
        if row is None:
            return False
        for column, value in _columns(macro).items():
            setattr(row, column, value)
        row.updated_at = now
        return True

    def remove(self, name: str) -> bool:
        row = self._row(name, for_update=True)
        if row is None:
            return False
        self.session.delete(row)
        return True

    def _row(self, name: str, *, for_update: bool = False) -> MacroRow | None:
        query = select(MacroRow).where(MacroRow.name == name)
        if for_update:
            query = query.with_for_update()
        return self.session.scalars(query).first()


def _columns(macro: MacroDefinition) -> dict[str, object]:
    return {
        "name": macro.name,
        "title": macro.title,
        "body": macro.body,
        "status": macro.status,
        "priority": macro.priority,
        "tags": list(macro.tags),
        "team": macro.team,
    }


def _definition(row: MacroRow) -> MacroDefinition:
    return MacroDefinition(
        name=row.name,
        title=row.title,
        body=row.body,
        status=row.status,
        priority=row.priority,
        tags=tuple(row.tags or ()),
        team=row.team,
        source="api",
    )
