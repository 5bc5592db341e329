"""sla timers

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 16:08:38.140535
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sla_timers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('policy', sa.String(length=64), nullable=False),
    sa.Column('calendar', sa.String(length=64), nullable=False),
    sa.Column('target_s', sa.Float(), nullable=True),
    sa.Column('warn_share', sa.Float(), nullable=False),
    sa.Column('consumed_s', sa.Float(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('running_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paused', sa.Boolean(), nullable=False),
    sa.Column('warn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('warned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('breached_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('escalation_step', sa.Integer(), nullable=False),
    sa.Column('next_escalation_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_sla_timers_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_timers')),
    sa.UniqueConstraint('ticket_id', 'kind', name=op.f('uq_sla_timers_ticket_id_kind'))
    )
    with op.batch_alter_table('sla_timers', schema=None) as batch_op:
        batch_op.create_index('ix_sla_timers_due', ['due_at'], unique=False)
        batch_op.create_index('ix_sla_timers_escalation', ['next_escalation_at'], unique=False)
        batch_op.create_index('ix_sla_timers_warn', ['warn_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('sla_timers', schema=None) as batch_op:
        batch_op.drop_index('ix_sla_timers_warn')
        batch_op.drop_index('ix_sla_timers_escalation')
        batch_op.drop_index('ix_sla_timers_due')

    op.drop_table('sla_timers')
