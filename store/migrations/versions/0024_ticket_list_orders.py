"""ticket list orders: indexes that the staff list's sorts walk

``priority`` (most urgent first, then the oldest) read and sorted every ticket of a
priority (a million tickets: 800 ms); a team's list by ``-updated`` walked the whole
desk's order to find the team's tickets.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 15:15:00.000000
"""

from __future__ import annotations

from alembic import op


revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        'ix_tickets_priority_order', 'tickets', ['priority_rank', 'created_at', 'id']
    )
    op.create_index('ix_tickets_team_updated', 'tickets', ['team_id', 'updated_at', 'id'])


def downgrade() -> None:
    op.drop_index('ix_tickets_team_updated', table_name='tickets')
    op.drop_index('ix_tickets_priority_order', table_name='tickets')
