"""follow-ups: when a ticket went pending, and when its requester was reminded

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 12:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending_since', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True))
    # tickets pending now: since their last change, the best that is known
    op.execute("UPDATE tickets SET pending_since = updated_at WHERE status = 'pending'")


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('reminded_at')
        batch_op.drop_column('pending_since')
