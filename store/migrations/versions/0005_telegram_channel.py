"""telegram channel: agent links, chat message refs, outbox agent, /new marker

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 09:43:51.868697
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('chat_messages',
    sa.Column('chat_id', sa.String(length=32), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('outbox_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], name=op.f('fk_chat_messages_outbox_id_outbox'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_chat_messages_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('chat_id', 'message_id', name=op.f('pk_chat_messages'))
    )
    with op.batch_alter_table('chat_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_messages_ticket_id'), ['ticket_id'], unique=False)

    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('telegram_user_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('telegram_chat_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('link_code_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('link_code_expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_agents_link_code_hash'), ['link_code_hash'])
        batch_op.create_unique_constraint(batch_op.f('uq_agents_telegram_user_id'), ['telegram_user_id'])

    with op.batch_alter_table('customer_identities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('new_thread_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agent_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_outbox_agent_id_agents'), 'agents', ['agent_id'], ['id'], ondelete='SET NULL')

    # notices queued before this revision name their agent by address only: offers of a
    # claim round in progress must still count as offers
    op.execute(
        "UPDATE outbox SET agent_id = (SELECT agents.id FROM agents "
        "WHERE lower(agents.email) = lower(outbox.recipient) ORDER BY agents.id LIMIT 1) "
        "WHERE kind IN ('offer', 'assignment', 'taken', 'reply_notice', 'sla_warning', "
        "'sla_breached') AND agent_id IS NULL"
    )



def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbox_agent_id_agents'), type_='foreignkey')
        batch_op.drop_column('agent_id')

    with op.batch_alter_table('customer_identities', schema=None) as batch_op:
        batch_op.drop_column('new_thread_at')

    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_agents_telegram_user_id'), type_='unique')
        batch_op.drop_constraint(batch_op.f('uq_agents_link_code_hash'), type_='unique')
        batch_op.drop_column('link_code_expires_at')
        batch_op.drop_column('link_code_hash')
        batch_op.drop_column('telegram_chat_id')
        batch_op.drop_column('telegram_user_id')

    with op.batch_alter_table('chat_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_messages_ticket_id'))

    op.drop_table('chat_messages')
