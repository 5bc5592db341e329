"""report old days: report_tickets_changed also keeps the instant a day was counted by
before it changed (a clock restarted, a resolution replaced, a rating, reply or ticket
deleted), written by triggers from the old row, so the next refresh counts that day
again too (0039's triggers name only the ticket, and the refresh found its days from
the current rows: the old day kept a clock or a resolution raw no longer has); agents'
replies changed or deleted are written down too. The next refresh counts every day
again, which drops what the old days left counted

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-07 07:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0040'
down_revision = '0039'
branch_labels = None
depends_on = None

# (table, its column that names the ticket, its columns that put it on a day)
SOURCES = (
    ("tickets", "id", ("created_at", "done_at", "prior_done_at", "first_response_at")),
    ("sla_timers", "ticket_id", ("started_at",)),
    ("ratings", "ticket_id", ("created_at",)),
)
REPLY = "{row}.direction = 'outbound' AND {row}.agent_id IS NOT NULL"
WAS_OR_IS_REPLY = f"({REPLY.format(row='old')}) OR ({REPLY.format(row='new')})"
# the columns that make a message an agent's reply, or put it on another ticket or day;
# such a change writes its old day, and its new ticket (0039 writes only a reply added)
REPLY_CHANGED = "UPDATE OF ticket_id, created_at, direction, agent_id ON messages FOR EACH ROW"
REPLY_DELETED = "DELETE ON messages FOR EACH ROW"
REPLY_OLD_DAY = "INSERT INTO report_tickets_changed (ticket_id, at) VALUES (old.ticket_id, old.created_at)"
REPLY_NEW_TICKET = "INSERT INTO report_tickets_changed (ticket_id) VALUES (new.ticket_id)"


def _old_days(ticket: str, columns: tuple[str, ...], distinct: str | None) -> list[str]:
    """Write down each old instant that is not NULL and differs from the new one
    (``distinct``: how the database spells it), or each one (``None``: a row deleted)."""
    return [
        f"INSERT INTO report_tickets_changed (ticket_id, at) SELECT old.{ticket}, old.{column} "
        f"WHERE old.{column} IS NOT NULL"
        + ("" if distinct is None else f" AND old.{column} {distinct} new.{column}")
        for column in columns
    ]


def _postgresql_up() -> list[str]:
    statements = []
    for table, ticket, columns in SOURCES:
        # one function for UPDATE and DELETE: new is NULL in a DELETE trigger
        body = ";\n".join(_old_days(ticket, columns, "IS DISTINCT FROM"))
        moved = " OR ".join(f"old.{c} IS DISTINCT FROM new.{c}" for c in columns)
        statements += [
            f"""CREATE FUNCTION report_{table}_old_days() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                {body};
                RETURN NULL;
            END $$""",
            f"CREATE TRIGGER report_{table}_old_days AFTER UPDATE ON {table} FOR EACH ROW "
            f"WHEN ({moved}) EXECUTE FUNCTION report_{table}_old_days()",
            f"CREATE TRIGGER report_{table}_old_days_removed AFTER DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION report_{table}_old_days()",
        ]
    return statements + [
        f"""CREATE FUNCTION report_messages_old_days() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            {REPLY_OLD_DAY};
            IF TG_OP = 'UPDATE' THEN
                {REPLY_NEW_TICKET};
            END IF;
            RETURN NULL;
        END $$""",
        f"CREATE TRIGGER report_messages_old_days AFTER {REPLY_CHANGED} "
        f"WHEN ({WAS_OR_IS_REPLY}) EXECUTE FUNCTION report_messages_old_days()",
        f"CREATE TRIGGER report_messages_old_days_removed AFTER {REPLY_DELETED} "
        f"WHEN ({REPLY.format(row='old')}) EXECUTE FUNCTION report_messages_old_days()",
    ]


def _sqlite_up() -> list[str]:
    statements = []
    for table, ticket, columns in SOURCES:
        changed = "; ".join(_old_days(ticket, columns, "IS NOT"))
        removed = "; ".join(_old_days(ticket, columns, None))
        statements += [
            f"CREATE TRIGGER report_{table}_old_days AFTER UPDATE OF {', '.join(columns)} "
            f"ON {table} BEGIN {changed}; END",
            f"CREATE TRIGGER report_{table}_old_days_removed AFTER DELETE ON {table} "
            f"BEGIN {removed}; END",
        ]
    return statements + [
        f"CREATE TRIGGER report_messages_old_days AFTER {REPLY_CHANGED} "
        f"WHEN {WAS_OR_IS_REPLY} BEGIN {REPLY_OLD_DAY}; {REPLY_NEW_TICKET}; END",
        f"CREATE TRIGGER report_messages_old_days_removed AFTER {REPLY_DELETED} "
        f"WHEN {REPLY.format(row='old')} BEGIN {REPLY_OLD_DAY}; END",
    ]


def upgrade() -> None:
    op.add_column('report_tickets_changed', sa.Column('at', sa.DateTime(timezone=True)))
    for statement in _postgresql_up() if _postgresql() else _sqlite_up():
        op.execute(statement)
    op.execute("DELETE FROM report_marks WHERE name LIKE 'rollups %'")


def downgrade() -> None:
    postgresql = _postgresql()
    for table in (*(table for table, _, _ in SOURCES), "messages"):
        for trigger in (f"report_{table}_old_days", f"report_{table}_old_days_removed"):
            op.execute(f"DROP TRIGGER {trigger} ON {table}" if postgresql else f"DROP TRIGGER {trigger}")
        if postgresql:
            op.execute(f"DROP FUNCTION report_{table}_old_days()")
    # (not a batch: SQLite would copy the table, and 0039's triggers name it)
    op.drop_column('report_tickets_changed', 'at')
    op.execute("DELETE FROM report_marks WHERE name LIKE 'rollups %'")


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"
