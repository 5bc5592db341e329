"""connector health: what a process's connectors last did, written with its heartbeat

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-06 17:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql


revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade() -> None:
    json_type = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
    op.add_column('process_beats', sa.Column('health', json_type, nullable=True))


def downgrade() -> None:
    op.drop_column('process_beats', 'health')
