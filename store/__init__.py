"""Persistence: SQLAlchemy models, Alembic migrations, the unit of work, queries."""

from store.db import Database, UnitOfWork

__all__ = ["Database", "UnitOfWork"]
