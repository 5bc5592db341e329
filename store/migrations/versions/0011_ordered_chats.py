"""ordered chats: one chat's updates are read, and its messages sent, one at a time in order;
a message Telegram asked to hold waits until its not_before

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sequence_key', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_inbox_sequence', ['sequence_key', 'state'], unique=False)
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sequence_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('not_before', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_outbox_sequence', ['sequence_key', 'state'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_sequence')
        batch_op.drop_column('not_before')
        batch_op.drop_column('sequence_key')
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.drop_index('ix_inbox_sequence')
        batch_op.drop_column('sequence_key')
