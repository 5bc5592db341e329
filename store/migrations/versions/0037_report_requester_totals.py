"""report requester totals: every requester's tickets ever (team_id 0) and per team, the
bound from which the top requesters are ranked down to where no one below can rank
(report_requester_totals), and the changes triggers on the tickets write for the next
refresh to fold into them (report_requester_changes); the names more than one customer
has (report_shared_names), and the names given or taken that triggers on the customers
write for the next refresh to check (report_name_changes)

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-07 06:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0037'
down_revision = '0036'
branch_labels = None
depends_on = None

CHANGED = (
    "old.requester_id IS DISTINCT FROM new.requester_id "
    "OR old.team_id IS DISTINCT FROM new.team_id"
)
TAKE_OLD = (
    "INSERT INTO report_requester_changes (requester_id, team_id, delta) "
    "VALUES (old.requester_id, old.team_id, -1)"
)
ADD_NEW = (
    "INSERT INTO report_requester_changes (requester_id, team_id, delta) "
    "VALUES (new.requester_id, new.team_id, 1)"
)
NAME_OLD = "INSERT INTO report_name_changes (name) VALUES (old.name)"
NAME_NEW = "INSERT INTO report_name_changes (name) VALUES (new.name)"
POSTGRESQL_UP = [
    f"""CREATE FUNCTION report_requester_counted() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            {TAKE_OLD};
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') THEN
            {ADD_NEW};
        END IF;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER report_requester_counted AFTER INSERT OR DELETE ON tickets "
    "FOR EACH ROW EXECUTE FUNCTION report_requester_counted()",
    "CREATE TRIGGER report_requester_recounted AFTER UPDATE OF requester_id, team_id "
    f"ON tickets FOR EACH ROW WHEN ({CHANGED}) EXECUTE FUNCTION report_requester_counted()",
    f"""CREATE FUNCTION report_name_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            {NAME_OLD};
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') THEN
            {NAME_NEW};
        END IF;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER report_name_given AFTER INSERT OR DELETE ON customers "
    "FOR EACH ROW EXECUTE FUNCTION report_name_changed()",
    "CREATE TRIGGER report_name_changed AFTER UPDATE OF name ON customers FOR EACH ROW "
    "WHEN (old.name IS DISTINCT FROM new.name) EXECUTE FUNCTION report_name_changed()",
]
POSTGRESQL_DOWN = [
    "DROP TRIGGER report_name_changed ON customers",
    "DROP TRIGGER report_name_given ON customers",
    "DROP FUNCTION report_name_changed()",
    "DROP TRIGGER report_requester_recounted ON tickets",
    "DROP TRIGGER report_requester_counted ON tickets",
    "DROP FUNCTION report_requester_counted()",
]
SQLITE_CHANGED = "old.requester_id IS NOT new.requester_id OR old.team_id IS NOT new.team_id"
SQLITE_UP = [
    f"CREATE TRIGGER report_requester_counted AFTER INSERT ON tickets BEGIN {ADD_NEW}; END",
    f"CREATE TRIGGER report_requester_uncounted AFTER DELETE ON tickets BEGIN {TAKE_OLD}; END",
    "CREATE TRIGGER report_requester_recounted AFTER UPDATE OF requester_id, team_id "
    f"ON tickets FOR EACH ROW WHEN {SQLITE_CHANGED} BEGIN {TAKE_OLD}; {ADD_NEW}; END",
    f"CREATE TRIGGER report_name_given AFTER INSERT ON customers BEGIN {NAME_NEW}; END",
    f"CREATE TRIGGER report_name_taken AFTER DELETE ON customers BEGIN {NAME_OLD}; END",
    "CREATE TRIGGER report_name_changed AFTER UPDATE OF name ON customers FOR EACH ROW "
    f"WHEN old.name IS NOT new.name BEGIN {NAME_OLD}; {NAME_NEW}; END",
]
SQLITE_DOWN = [
    "DROP TRIGGER report_name_changed",
    "DROP TRIGGER report_name_taken",
    "DROP TRIGGER report_name_given",
    "DROP TRIGGER report_requester_recounted",
    "DROP TRIGGER report_requester_uncounted",
    "DROP TRIGGER report_requester_counted",
]
# after the triggers (on PostgreSQL they hold writers of tickets off until the commit),
# so no ticket is counted twice or missed
FILL = """INSERT INTO report_requester_totals (requester_id, team_id, tickets)
SELECT requester_id, 0, count(*) FROM tickets GROUP BY requester_id
UNION ALL
SELECT requester_id, team_id, count(*) FROM tickets WHERE team_id IS NOT NULL
GROUP BY requester_id, team_id"""
FILL_NAMES = """INSERT INTO report_shared_names (name)
SELECT name FROM customers WHERE name <> '' GROUP BY name HAVING count(*) > 1"""


def upgrade() -> None:
    op.create_table(
        'report_requester_totals',
        sa.Column('requester_id', sa.Integer(), nullable=False),
        sa.Column('team_id', sa.Integer(), nullable=False),
        sa.Column('tickets', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            'requester_id', 'team_id', name=op.f('pk_report_requester_totals')
        ),
    )
    op.create_index(
        'ix_report_requester_totals_rank',
        'report_requester_totals',
        ['team_id', 'tickets', 'requester_id'],
        unique=False,
    )
    op.create_table(
        'report_requester_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('requester_id', sa.Integer(), nullable=False),
        sa.Column('team_id', sa.Integer(), nullable=True),
        sa.Column('delta', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_requester_changes')),
    )
    op.create_table(
        'report_shared_names',
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_report_shared_names')),
    )
    op.create_table(
        'report_name_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_name_changes')),
    )
    for statement in POSTGRESQL_UP if _postgresql() else SQLITE_UP:
        op.execute(statement)
    op.execute(FILL)
    op.execute(FILL_NAMES)


def downgrade() -> None:
    for statement in POSTGRESQL_DOWN if _postgresql() else SQLITE_DOWN:
        op.execute(statement)
    op.drop_table('report_name_changes')
    op.drop_table('report_shared_names')
    op.drop_table('report_requester_changes')
    op.drop_index('ix_report_requester_totals_rank', table_name='report_requester_totals')
    op.drop_table('report_requester_totals')


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"
