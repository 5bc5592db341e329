"""report bins: the durations and counts of each day and month per measure, team and
agent, in the bins of router.report_stats, so a year's percentiles and people add up
from rollups; the rollups are built afresh at the next refresh

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 14:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'report_bins',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('span', sa.String(length=8), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('measure', sa.String(length=32), nullable=False),
        sa.Column('team_id', sa.Integer(), nullable=True),
        sa.Column('agent_id', sa.Integer(), nullable=True),
        sa.Column('bin', sa.Integer(), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('total_s', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_bins')),
    )
    op.create_index('ix_report_bins_read', 'report_bins', ['measure', 'span', 'day'], unique=False)
    # the next refresh counts every day again, bins included
    op.execute("DELETE FROM report_marks WHERE name LIKE 'rollups %'")


def downgrade() -> None:
    op.drop_index('ix_report_bins_read', table_name='report_bins')
    op.drop_table('report_bins')
