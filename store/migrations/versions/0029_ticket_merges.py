"""ticket merges: the ticket a merged one went into, and the ticket a moved message came from

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06 14:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain integers and plain ADD COLUMN: on SQLite a foreign key (or batch mode) would
    # copy the table, dropping the search's triggers on it with the old one
    op.add_column('tickets', sa.Column('merged_into_id', sa.Integer(), nullable=True))
    op.add_column('messages', sa.Column('merged_from_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column('messages', 'merged_from_id')  # (SQLite 3.35+ drops a column in place)
    op.drop_column('tickets', 'merged_into_id')
