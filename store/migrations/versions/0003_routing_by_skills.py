"""routing by skills

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 15:06:44.236451
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seniority', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('channel_capacity', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False, server_default=sa.text("'{}'")))

    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tier', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('organisation', sa.String(length=200), nullable=True))

    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claim_mode', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('fallback_team_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_teams_fallback_team_id_teams'), 'teams', ['fallback_team_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('required_skills', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False, server_default=sa.text("'{}'")))
        batch_op.add_column(sa.Column('optional_skills', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False, server_default=sa.text("'{}'")))
        batch_op.add_column(sa.Column('tags', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_tickets_assignee', ['assignee_id', 'status', 'channel'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_assignee')
        batch_op.drop_column('queued_at')
        batch_op.drop_column('tags')
        batch_op.drop_column('optional_skills')
        batch_op.drop_column('required_skills')

    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_teams_fallback_team_id_teams'), type_='foreignkey')
        batch_op.drop_column('fallback_team_id')
        batch_op.drop_column('claim_mode')

    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('organisation')
        batch_op.drop_column('tier')

    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.drop_column('channel_capacity')
        batch_op.drop_column('seniority')

