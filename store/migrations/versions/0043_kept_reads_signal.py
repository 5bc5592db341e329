"""kept reads signal: on PostgreSQL, a statement that changes the agents' addresses or the
webhook subscriptions (a row added or removed, an address or a subscription's events
changed, the table truncated) sends a NOTIFY on ``relaydesk_reads`` naming its table,
delivered when its transaction commits, so a worker process keeps those reads until one
is heard (``store.kept_reads``); every writer (CLI, staff API, directory sync, desk) is
covered without being told. SQLite has no LISTEN: a process there reads them as before

Revision ID: 0043
Revises: 0042
Create Date: 2026-12-07 12:10:00.000000
"""

from __future__ import annotations

from alembic import op


revision = '0043'
down_revision = '0042'
branch_labels = None
depends_on = None

CHANNEL = "relaydesk_reads"  # store.kept_reads.CHANNEL
# (table, the columns whose change a kept read sees)
TABLES = (
    ("agents", "email"),
    ("webhooks", "id, events"),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""CREATE FUNCTION relaydesk_reads_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME);
            RETURN NULL;
        END $$"""
    )
    for table, columns in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_kept_reads AFTER INSERT OR DELETE OR TRUNCATE "
            f"OR UPDATE OF {columns} ON {table} FOR EACH STATEMENT "
            "EXECUTE FUNCTION relaydesk_reads_changed()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, _ in TABLES:
        op.execute(f"DROP TRIGGER {table}_kept_reads ON {table}")
    op.execute("DROP FUNCTION relaydesk_reads_changed()")
