"""config versions: each version's content, the changes that applied them, and the
version on every audit event

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 14:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'config_versions',
        sa.Column('version', sa.String(length=16), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('version'),
    )
    op.create_table(
        'config_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version', sa.String(length=16), nullable=False),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('applied_by', sa.String(length=320), nullable=False),
        sa.Column('applied_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['version'], ['config_versions.version']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_config_changes_version', 'config_changes', ['version'])
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('config_version', sa.String(length=16), nullable=True))
        batch_op.create_index('ix_audit_events_config_version', ['config_version'])


def downgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_config_version')
        batch_op.drop_column('config_version')
    op.drop_index('ix_config_changes_version', table_name='config_changes')
    op.drop_table('config_changes')
    op.drop_table('config_versions')
