"""running breaches: a partial index of the breached SLA clocks still running, which a
ticket list asks of every row it shows ("breached")

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 12:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

RUNNING_BREACH = "breached_at IS NOT NULL AND stopped_at IS NULL"


def upgrade() -> None:
    op.create_index(
        'ix_sla_timers_running_breach',
        'sla_timers',
        ['ticket_id'],
        unique=False,
        postgresql_where=sa.text(RUNNING_BREACH),
        sqlite_where=sa.text(RUNNING_BREACH),
    )


def downgrade() -> None:
    op.drop_index('ix_sla_timers_running_breach', table_name='sla_timers')
