"""saved_searches: an agent's named filters of the ticket list, shared with a team or not

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 15:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table(
        'saved_searches',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('owner', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('team', sa.String(length=64), nullable=True),
        sa.Column('filters', JSON, nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_searches')),
        sa.UniqueConstraint('owner', 'name', name='uq_saved_searches_owner_name'),
    )
    op.create_index('ix_saved_searches_owner', 'saved_searches', ['owner'])
    op.create_index('ix_saved_searches_team', 'saved_searches', ['team'])


def downgrade() -> None:
    op.drop_index('ix_saved_searches_team', table_name='saved_searches')
    op.drop_index('ix_saved_searches_owner', table_name='saved_searches')
    op.drop_table('saved_searches')
