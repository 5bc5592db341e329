"""report tickets changed: the tickets whose rollup days may have changed, written by
triggers on the tickets, their SLA clocks, ratings and agents' replies, and taken by the
next refresh (instead of the tickets updated since the last refresh less ten minutes,
counted again by every refresh for the transactions that commit late); the next refresh
counts every day again, so no change made before the triggers is missed

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-07 06:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0039'
down_revision = '0038'
branch_labels = None
depends_on = None

# (table, its column that names the ticket)
SOURCES = (
    ("tickets", "id"),
    ("sla_timers", "ticket_id"),
    ("ratings", "ticket_id"),
)
REPLY = "new.direction = 'outbound' AND new.agent_id IS NOT NULL"


def _postgresql_up() -> list[str]:
    statements = [
        """CREATE FUNCTION report_ticket_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                INSERT INTO report_tickets_changed (ticket_id) VALUES (old.ticket_id);
            ELSE
                INSERT INTO report_tickets_changed (ticket_id) VALUES (new.ticket_id);
            END IF;
            RETURN NULL;
        END $$""",
        """CREATE FUNCTION report_ticket_row_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                INSERT INTO report_tickets_changed (ticket_id) VALUES (old.id);
            ELSE
                INSERT INTO report_tickets_changed (ticket_id) VALUES (new.id);
            END IF;
            RETURN NULL;
        END $$""",
    ]
    for table, column in SOURCES:
        function = "report_ticket_row_changed" if column == "id" else "report_ticket_changed"
        statements += [
            f"CREATE TRIGGER report_{table}_written AFTER INSERT OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}()",
            f"CREATE TRIGGER report_{table}_changed AFTER UPDATE ON {table} FOR EACH ROW "
            f"WHEN (old.* IS DISTINCT FROM new.*) EXECUTE FUNCTION {function}()",
        ]
    statements.append(
        "CREATE TRIGGER report_reply_written AFTER INSERT ON messages FOR EACH ROW "
        f"WHEN ({REPLY}) EXECUTE FUNCTION report_ticket_changed()"
    )
    return statements


def _sqlite_up() -> list[str]:
    statements = []
    for table, column in SOURCES:
        new = f"INSERT INTO report_tickets_changed (ticket_id) VALUES (new.{column})"
        old = f"INSERT INTO report_tickets_changed (ticket_id) VALUES (old.{column})"
        statements += [
            f"CREATE TRIGGER report_{table}_written AFTER INSERT ON {table} BEGIN {new}; END",
            f"CREATE TRIGGER report_{table}_removed AFTER DELETE ON {table} BEGIN {old}; END",
            f"CREATE TRIGGER report_{table}_changed AFTER UPDATE ON {table} BEGIN {new}; END",
        ]
    statements.append(
        "CREATE TRIGGER report_reply_written AFTER INSERT ON messages FOR EACH ROW "
        f"WHEN {REPLY} BEGIN "
        "INSERT INTO report_tickets_changed (ticket_id) VALUES (new.ticket_id); END"
    )
    return statements


def upgrade() -> None:
    op.create_table(
        'report_tickets_changed',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_tickets_changed')),
    )
    for statement in _postgresql_up() if _postgresql() else _sqlite_up():
        op.execute(statement)
    op.execute("DELETE FROM report_marks WHERE name LIKE 'rollups %'")


def downgrade() -> None:
    postgresql = _postgresql()
    for table, _ in SOURCES:
        for kind in ("written", "changed") if postgresql else ("written", "removed", "changed"):
            op.execute(
                f"DROP TRIGGER report_{table}_{kind} ON {table}"
                if postgresql
                else f"DROP TRIGGER report_{table}_{kind}"
            )
    op.execute(
        "DROP TRIGGER report_reply_written ON messages"
        if postgresql
        else "DROP TRIGGER report_reply_written"
    )
    if postgresql:
        op.execute("DROP FUNCTION report_ticket_changed()")
        op.execute("DROP FUNCTION report_ticket_row_changed()")
    op.drop_table('report_tickets_changed')
    op.execute("DELETE FROM report_marks WHERE name LIKE 'rollups %'")


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"
