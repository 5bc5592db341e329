"""report quarters: the rollups keep calendar quarters beside months and weeks (a year
reads three quarters instead of nine months), so the next refresh counts every day
again to add them

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-07 06:30:00.000000
"""

from __future__ import annotations

from alembic import op


revision = '0038'
down_revision = '0037'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM report_marks WHERE name LIKE 'rollups %'")


def downgrade() -> None:
    op.execute("DELETE FROM report_marks WHERE name LIKE 'rollups %'")
