"""report tallies and clocks: the top tags and forms, the ratings and the SLA clocks of
each day and month, so a year's figures add up from rollups (built afresh at the next
refresh); an index for the top requesters and organisations

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-06 18:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'report_tallies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('span', sa.String(length=8), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('facet', sa.String(length=16), nullable=False),
        sa.Column('team_id', sa.Integer(), nullable=True),
        sa.Column('ref', sa.Integer(), nullable=True),
        sa.Column('key', sa.Text(), nullable=True),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('good', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_tallies')),
    )
    op.create_index(
        'ix_report_tallies_read', 'report_tallies', ['facet', 'span', 'day'], unique=False
    )
    op.create_table(
        'report_clocks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('span', sa.String(length=8), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('team_id', sa.Integer(), nullable=True),
        sa.Column('priority', sa.String(length=16), nullable=False),
        sa.Column('policy', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('step', sa.Integer(), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_clocks')),
    )
    op.create_index('ix_report_clocks_read', 'report_clocks', ['span', 'day'], unique=False)
    # the top requesters and organisations of a period, read from the index alone
    op.create_index(
        'ix_tickets_created_requester',
        'tickets',
        ['created_at', 'requester_id', 'team_id'],
        unique=False,
    )
    # ratings changed since the last refresh (a rating can change for a week)
    op.create_index('ix_ratings_updated', 'ratings', ['updated_at'], unique=False)
    # the next refresh counts every day again, tallies and clocks included
    op.execute("DELETE FROM report_marks WHERE name LIKE 'rollups %'")


def downgrade() -> None:
    op.drop_index('ix_ratings_updated', table_name='ratings')
    op.drop_index('ix_tickets_created_requester', table_name='tickets')
    op.drop_index('ix_report_clocks_read', table_name='report_clocks')
    op.drop_table('report_clocks')
    op.drop_index('ix_report_tallies_read', table_name='report_tallies')
    op.drop_table('report_tallies')
