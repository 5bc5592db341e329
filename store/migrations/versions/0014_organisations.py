"""organisations: customers belong to one (by id, no longer by a free name), with email
domains that link new customers to it, a tier and custom attributes; customers get custom
attributes and a mark when merged into another

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 11:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table(
        'organisations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('tier', sa.String(length=64), nullable=True),
        sa.Column('attributes', JSON, nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations')),
        sa.UniqueConstraint('name', name=op.f('uq_organisations_name')),
    )
    op.create_table(
        'organisation_domains',
        sa.Column('domain', sa.String(length=253), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_organisation_domains_organisation_id_organisations'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('domain', name=op.f('pk_organisation_domains')),
    )
    op.create_index(op.f('ix_organisation_domains_organisation_id'), 'organisation_domains', ['organisation_id'], unique=False)
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisation_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('attributes', JSON, server_default='{}', nullable=False))
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_customers_organisation_id_organisations'), 'organisations', ['organisation_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_customers_merged_into_id_customers'), 'customers', ['merged_into_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index(batch_op.f('ix_customers_organisation_id'), ['organisation_id'], unique=False)
    # the free names customers had become organisations of those names
    op.execute(
        "INSERT INTO organisations (name, tier, attributes, created_at, updated_at) "
        "SELECT organisation, NULL, '{}', MIN(created_at), MIN(created_at) FROM customers "
        "WHERE organisation IS NOT NULL AND organisation <> '' GROUP BY organisation"
    )
    op.execute(
        "UPDATE customers SET organisation_id = (SELECT o.id FROM organisations o "
        "WHERE o.name = customers.organisation) WHERE organisation IS NOT NULL"
    )
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('organisation')


def downgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisation', sa.String(length=200), nullable=True))
    op.execute(
        "UPDATE customers SET organisation = (SELECT o.name FROM organisations o "
        "WHERE o.id = customers.organisation_id)"
    )
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customers_organisation_id'))
        batch_op.drop_constraint(batch_op.f('fk_customers_merged_into_id_customers'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_customers_organisation_id_organisations'), type_='foreignkey')
        batch_op.drop_column('merged_into_id')
        batch_op.drop_column('attributes')
        batch_op.drop_column('organisation_id')
    op.drop_index(op.f('ix_organisation_domains_organisation_id'), table_name='organisation_domains')
    op.drop_table('organisation_domains')
    op.drop_table('organisations')
