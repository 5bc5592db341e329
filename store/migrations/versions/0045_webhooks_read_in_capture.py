"""webhooks read in the capture: the webhook subscriptions are read by the statement that
writes an event's deliveries (``store.webhook_capture``), in the writing transaction, so no
worker process keeps them any more and their change signal (migration 0043's trigger on
``webhooks``) is dropped. The agents' addresses keep theirs

Revision ID: 0045
Revises: 0044
Create Date: 2026-12-07 15:45:00.000000
"""

from __future__ import annotations

from alembic import op


revision = "0045"
down_revision = "0044"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # IF EXISTS: a database restored without its triggers must still migrate
    op.execute("DROP TRIGGER IF EXISTS webhooks_kept_reads ON webhooks")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE TRIGGER webhooks_kept_reads AFTER INSERT OR DELETE OR TRUNCATE "
        "OR UPDATE OF id, events ON webhooks FOR EACH STATEMENT "
        "EXECUTE FUNCTION relaydesk_reads_changed()"
    )
