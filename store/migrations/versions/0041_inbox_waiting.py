"""inbox waiting: a partial index on the inbox rows no attempt has begun, by channel and
id, for the rows an ingest batch takes along (``store.inbox_statements.WAITING``: the
oldest such rows of a channel). Without it PostgreSQL walked the primary key from the
oldest row past every done one: 58-85 ms a pick at 300,000 done rows, on every batch that
takes rows along; 0.1 ms with it

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-07 12:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0041'
down_revision = '0040'
branch_labels = None
depends_on = None

# as ``store.models.queues.WAITING_ROWS`` (a migration keeps its own copy: the model may move on)
WAITING_ROWS = "state = 'pending' AND attempts = 0"


def upgrade() -> None:
    op.create_index(
        "ix_inbox_waiting",
        "inbox",
        ["channel", "id"],
        postgresql_where=sa.text(WAITING_ROWS),
        sqlite_where=sa.text(WAITING_ROWS),
    )


def downgrade() -> None:
    op.drop_index("ix_inbox_waiting", table_name="inbox")
