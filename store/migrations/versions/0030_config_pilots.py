"""config pilots: a change may apply a candidate version to named teams only

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06 17:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql


revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('config_changes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pilot_version', sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column(
                'pilot_teams',
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
                nullable=True,
            )
        )
        batch_op.create_foreign_key(
            'fk_config_changes_pilot_version', 'config_versions', ['pilot_version'], ['version']
        )


def downgrade() -> None:
    with op.batch_alter_table('config_changes', schema=None) as batch_op:
        batch_op.drop_constraint('fk_config_changes_pilot_version', type_='foreignkey')
        batch_op.drop_column('pilot_teams')
        batch_op.drop_column('pilot_version')
