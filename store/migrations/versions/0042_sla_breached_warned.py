"""sla breached and warned: partial indexes on the clocks' breach and warning moments, for
the fleet's status and metrics (``store.fleet_status``: the clocks breached and warned in
the last hour, at every scrape and ``relaydesk status``). Without them each count was a
sequential scan of every clock: 100 ms each at 600,000 clocks (a year of 300,000 tickets)

Revision ID: 0042
Revises: 0041
Create Date: 2026-12-07 12:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0042'
down_revision = '0041'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for column in ("breached_at", "warned_at"):
        condition = sa.text(f"{column} IS NOT NULL")
        op.create_index(
            f"ix_sla_timers_{column.removesuffix('_at')}",
            "sla_timers",
            [column],
            postgresql_where=condition,
            sqlite_where=condition,
        )


def downgrade() -> None:
    op.drop_index("ix_sla_timers_warned", table_name="sla_timers")
    op.drop_index("ix_sla_timers_breached", table_name="sla_timers")
