"""reports: what each ticket tells the reports, daily rollups, agents' load samples

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 08:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# Facts the reports read that the desk did not keep on the ticket until now, from the
# rows that recorded them: the messages, the audit log and the SLA timers.
BACKFILL = (
    "UPDATE tickets SET done_at = CASE WHEN status IN ('resolved', 'closed') "
    "THEN coalesce(resolved_at, closed_at) END",
    "UPDATE tickets SET reply_count = (SELECT count(*) FROM messages AS m "
    "WHERE m.ticket_id = tickets.id AND m.direction = 'outbound' AND m.agent_id IS NOT NULL)",
    "UPDATE tickets SET first_responder_id = (SELECT m.agent_id FROM messages AS m "
    "WHERE m.ticket_id = tickets.id AND m.direction = 'outbound' AND m.agent_id IS NOT NULL "
    "ORDER BY m.id LIMIT 1) WHERE first_response_at IS NOT NULL",
    "UPDATE tickets SET reopen_count = (SELECT count(*) FROM audit_events AS a "
    "WHERE a.ticket_id = tickets.id AND (a.action = 'ticket.reopened' "
    "OR (a.action = 'ticket.status' AND a.detail LIKE 'resolved -> open%')))",
    "UPDATE tickets SET first_response_business_s = (SELECT s.consumed_s FROM sla_timers AS s "
    "WHERE s.ticket_id = tickets.id AND s.kind = 'first_response' AND s.stopped_at IS NOT NULL)",
    "UPDATE tickets SET resolution_business_s = (SELECT s.consumed_s FROM sla_timers AS s "
    "WHERE s.ticket_id = tickets.id AND s.kind = 'resolution' AND s.stopped_at IS NOT NULL)",
)


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('done_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('prior_done_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reopen_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('reply_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('first_responder_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('first_response_business_s', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('resolution_business_s', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('form', sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_tickets_first_responder_id_agents'), 'agents', ['first_responder_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index('ix_tickets_created', ['created_at'], unique=False)
        batch_op.create_index('ix_tickets_first_response', ['first_response_at'], unique=False)
        batch_op.create_index('ix_tickets_done', ['done_at'], unique=False)
        batch_op.create_index('ix_tickets_updated', ['updated_at'], unique=False)
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_created', ['created_at'], unique=False)
    for statement in BACKFILL:
        op.execute(statement)
    op.create_table(
        'report_days',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('team_id', sa.Integer(), nullable=True),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('category', sa.String(length=64), nullable=False),
        sa.Column('priority', sa.String(length=16), nullable=False),
        sa.Column('created', sa.Integer(), nullable=False),
        sa.Column('resolved', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_days')),
    )
    op.create_index('ix_report_days_day', 'report_days', ['day', 'team_id'], unique=False)
    op.create_table(
        'report_marks',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_report_marks')),
    )
    op.create_table(
        'agent_load_days',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('agent_id', sa.Integer(), nullable=False),
        sa.Column('samples', sa.Integer(), nullable=False),
        sa.Column('load_sum', sa.Integer(), nullable=False),
        sa.Column('capacity_sum', sa.Integer(), nullable=False),
        sa.Column('peak', sa.Integer(), nullable=False),
        sa.Column('last_sample_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_agent_load_days_agent_id_agents'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('day', 'agent_id', name=op.f('pk_agent_load_days')),
    )


def downgrade() -> None:
    op.drop_table('agent_load_days')
    op.drop_table('report_marks')
    op.drop_index('ix_report_days_day', table_name='report_days')
    op.drop_table('report_days')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_created')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_updated')
        batch_op.drop_index('ix_tickets_done')
        batch_op.drop_index('ix_tickets_first_response')
        batch_op.drop_index('ix_tickets_created')
        batch_op.drop_constraint(batch_op.f('fk_tickets_first_responder_id_agents'), type_='foreignkey')
        for column in ('form', 'resolution_business_s', 'first_response_business_s',
                       'first_responder_id', 'reply_count', 'reopen_count', 'prior_done_at',
                       'done_at'):
            batch_op.drop_column(column)
