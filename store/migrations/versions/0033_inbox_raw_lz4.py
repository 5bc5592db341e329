"""inbox raw bytes compressed with lz4 on PostgreSQL (pglz made the intake's INSERT slow)

PostgreSQL compresses a large bytea when it moves it out of line (TOAST), by default with
pglz, which cost two to three times what the rest of an inbox row's INSERT costs for the
raw email an intake keeps (about 18 KiB on average, attachments up to 200 KiB). lz4
compresses about as well for mail and several times faster. Only rows written from now
on use it; older rows stay readable as they are. A server built without lz4 keeps pglz.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-06 20:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None

_HAS_LZ4 = sa.text(
    "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' "
    "AND 'lz4' = ANY(enumvals)"
)


def _set_compression(method: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql' or bind.execute(_HAS_LZ4).first() is None:
        return
    op.execute(f'ALTER TABLE inbox ALTER COLUMN raw SET COMPRESSION {method}')


def upgrade() -> None:
    _set_compression('lz4')


def downgrade() -> None:
    _set_compression('pglz')
