"""ticket search: full-text indexes over tickets' subjects and messages' text

PostgreSQL: GIN indexes on to_tsvector('simple', ...) of the subject and of the
message text (the database keeps them up to date). SQLite: FTS5 tables with
external content, kept up to date by triggers, filled from what is there.
The expressions are store.ticket_search's, exactly.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 11:30:00.000000
"""

from __future__ import annotations

from alembic import op


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

SQLITE_UP = [
    "CREATE VIRTUAL TABLE tickets_fts USING fts5("
    "subject, content='tickets', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE VIRTUAL TABLE messages_fts USING fts5("
    "body_text, content='messages', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER tickets_fts_insert AFTER INSERT ON tickets BEGIN "
    "INSERT INTO tickets_fts(rowid, subject) VALUES (new.id, new.subject); END",
    "CREATE TRIGGER tickets_fts_delete AFTER DELETE ON tickets BEGIN "
    "INSERT INTO tickets_fts(tickets_fts, rowid, subject) "
    "VALUES ('delete', old.id, old.subject); END",
    "CREATE TRIGGER tickets_fts_update AFTER UPDATE OF subject ON tickets BEGIN "
    "INSERT INTO tickets_fts(tickets_fts, rowid, subject) "
    "VALUES ('delete', old.id, old.subject); "
    "INSERT INTO tickets_fts(rowid, subject) VALUES (new.id, new.subject); END",
    "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN "
    "INSERT INTO messages_fts(rowid, body_text) VALUES (new.id, new.body_text); END",
    "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, body_text) "
    "VALUES ('delete', old.id, old.body_text); END",
    "CREATE TRIGGER messages_fts_update AFTER UPDATE OF body_text ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, body_text) "
    "VALUES ('delete', old.id, old.body_text); "
    "INSERT INTO messages_fts(rowid, body_text) VALUES (new.id, new.body_text); END",
    "INSERT INTO tickets_fts(tickets_fts) VALUES ('rebuild')",
    "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    *(
        f"DROP TRIGGER {table}_fts_{event}"
        for table in ("tickets", "messages")
        for event in ("insert", "delete", "update")
    ),
    "DROP TABLE tickets_fts",
    "DROP TABLE messages_fts",
]
POSTGRESQL_UP = [
    "CREATE INDEX ix_tickets_subject_search ON tickets "
    "USING gin (to_tsvector('simple'::regconfig, subject))",
    "CREATE INDEX ix_messages_body_search ON messages "
    "USING gin (to_tsvector('simple'::regconfig, left(body_text, 100000)))",
]
POSTGRESQL_DOWN = ["DROP INDEX ix_messages_body_search", "DROP INDEX ix_tickets_subject_search"]


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for statement in SQLITE_UP if sqlite else POSTGRESQL_UP:
        op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for statement in SQLITE_DOWN if sqlite else POSTGRESQL_DOWN:
        op.execute(statement)
