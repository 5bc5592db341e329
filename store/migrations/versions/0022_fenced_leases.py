"""fenced leases: the outbox's claim token and holder; each running process's heartbeat

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 12:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_token', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('lease_holder', sa.String(length=96), nullable=True))
    op.create_table(
        'process_beats',
        sa.Column('holder', sa.String(length=96), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('host', sa.String(length=255), nullable=False),
        sa.Column('pid', sa.Integer(), nullable=False),
        sa.Column('queues', sa.Text(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('beat_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('holder'),
    )
    op.create_index('ix_process_beats_beat_at', 'process_beats', ['beat_at'])


def downgrade() -> None:
    op.drop_index('ix_process_beats_beat_at', table_name='process_beats')
    op.drop_table('process_beats')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('lease_holder')
        batch_op.drop_column('lease_token')
