"""report requester indexes: the top requesters counted per requester in requester order
(ix_tickets_requester_created, a stream instead of a hash table of a year's 200,000
requesters) and the customers' names that more than one customer has (ix_customers_name)

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-07 00:10:00.000000
"""

from __future__ import annotations

from alembic import op


revision = '0036'
down_revision = '0035'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        'ix_tickets_requester_created',
        'tickets',
        ['requester_id', 'created_at', 'team_id'],
        unique=False,
    )
    op.create_index('ix_customers_name', 'customers', ['name'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_customers_name', table_name='customers')
    op.drop_index('ix_tickets_requester_created', table_name='tickets')
