"""report_requesters_moved: the customers whose tickets count for another organisation
now (its organisation changed, or tickets moved to it), written by triggers, so the
next refresh counts the top organisations of their tickets' days again

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-06 21:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0034'
down_revision = '0033'
branch_labels = None
depends_on = None

CHANGED_ORGANISATION = "old.organisation_id IS DISTINCT FROM new.organisation_id"
CHANGED_REQUESTER = "old.requester_id IS DISTINCT FROM new.requester_id"
POSTGRESQL_UP = [
    """CREATE FUNCTION report_requester_moved() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_TABLE_NAME = 'customers' THEN
            INSERT INTO report_requesters_moved (customer_id) VALUES (new.id);
        ELSE
            INSERT INTO report_requesters_moved (customer_id) VALUES (new.requester_id);
        END IF;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER report_organisation_changed AFTER UPDATE OF organisation_id ON customers "
    f"FOR EACH ROW WHEN ({CHANGED_ORGANISATION}) EXECUTE FUNCTION report_requester_moved()",
    "CREATE TRIGGER report_requester_changed AFTER UPDATE OF requester_id ON tickets "
    f"FOR EACH ROW WHEN ({CHANGED_REQUESTER}) EXECUTE FUNCTION report_requester_moved()",
]
POSTGRESQL_DOWN = [
    "DROP TRIGGER report_requester_changed ON tickets",
    "DROP TRIGGER report_organisation_changed ON customers",
    "DROP FUNCTION report_requester_moved()",
]
SQLITE_UP = [
    "CREATE TRIGGER report_organisation_changed AFTER UPDATE OF organisation_id ON customers "
    "FOR EACH ROW WHEN old.organisation_id IS NOT new.organisation_id BEGIN "
    "INSERT INTO report_requesters_moved (customer_id) VALUES (new.id); END",
    "CREATE TRIGGER report_requester_changed AFTER UPDATE OF requester_id ON tickets "
    "FOR EACH ROW WHEN old.requester_id IS NOT new.requester_id BEGIN "
    "INSERT INTO report_requesters_moved (customer_id) VALUES (new.requester_id); END",
]
SQLITE_DOWN = [
    "DROP TRIGGER report_requester_changed",
    "DROP TRIGGER report_organisation_changed",
]


def upgrade() -> None:
    op.create_table(
        'report_requesters_moved',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_requesters_moved')),
    )
    for statement in POSTGRESQL_UP if _postgresql() else SQLITE_UP:
        op.execute(statement)
    # the next refresh counts every day again, the top organisations included
    op.execute("DELETE FROM report_marks WHERE name LIKE 'rollups %'")


def downgrade() -> None:
    for statement in POSTGRESQL_DOWN if _postgresql() else SQLITE_DOWN:
        op.execute(statement)
    op.drop_table('report_requesters_moved')


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"
