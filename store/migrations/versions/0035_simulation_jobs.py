"""simulation jobs: a simulation asked through the staff API runs on the workers; its
progress and its report are kept here

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-06 21:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql


revision = '0035'
down_revision = '0034'
branch_labels = None
depends_on = None


def upgrade() -> None:
    json_type = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
    op.create_table(
        'simulation_jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('requested_by', sa.String(length=320), nullable=False),
        sa.Column('request', json_type, nullable=False),
        sa.Column('tickets_total', sa.Integer(), nullable=True),
        sa.Column('tickets_done', sa.Integer(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('result', json_type, nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('beat_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_simulation_jobs')),
    )
    op.create_index(
        op.f('ix_simulation_jobs_state'), 'simulation_jobs', ['state'], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f('ix_simulation_jobs_state'), table_name='simulation_jobs')
    op.drop_table('simulation_jobs')
