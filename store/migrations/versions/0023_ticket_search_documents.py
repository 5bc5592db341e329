"""ticket search documents: one search document per ticket instead of one per message

The search of 0017 looked for a ticket's words message by message (a GIN index over
every message's text), so a search read one index entry per message and then
gathered the tickets: at a million tickets, seconds. Now each ticket has one
document (its subject and the text of all its messages, internal notes included),
kept up to date by triggers in the transaction that writes a ticket's subject or a
message (a new message is appended; a message moved to another ticket by a merge
or a split, edited or deleted rebuilds both tickets' documents), and built here
for the tickets already there.

PostgreSQL: ``ticket_search_documents(ticket_id, document tsvector)`` with a GIN
index; the subject at weight A. A document stops growing near 512 kB (a tsvector
may not pass 1 MB; a ticket of that much text is still found by its first part).
SQLite: the FTS5 table ``ticket_search_fts(subject, body)`` whose rowid is the
ticket's number. store.ticket_search reads them.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 14:30:00.000000
"""

from __future__ import annotations

from alembic import op


revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

# ---- PostgreSQL -------------------------------------------------------------------------
POSTGRESQL_FUNCTIONS = [
    # ``document`` with ``body`` appended, unless that would pass the size kept
    """CREATE FUNCTION ticket_search_append(document tsvector, body text) RETURNS tsvector
    LANGUAGE plpgsql IMMUTABLE AS $$
    DECLARE
        more tsvector := to_tsvector('simple'::regconfig, left(coalesce(body, ''), 100000));
    BEGIN
        IF pg_column_size(document) + pg_column_size(more) > 524288 THEN
            RETURN document;
        END IF;
        RETURN document || more;
    END $$""",
    # a ticket's document from scratch: its subject, then its messages in order
    """CREATE FUNCTION ticket_search_document(number integer) RETURNS tsvector
    LANGUAGE plpgsql STABLE AS $$
    DECLARE
        document tsvector;
        body text;
    BEGIN
        SELECT setweight(to_tsvector('simple'::regconfig, left(coalesce(subject, ''), 1000)),
            'A') INTO document FROM tickets WHERE id = number;
        IF document IS NULL THEN
            RETURN NULL;
        END IF;
        FOR body IN SELECT body_text FROM messages WHERE ticket_id = number ORDER BY id LOOP
            document := ticket_search_append(document, body);
        END LOOP;
        RETURN document;
    END $$""",
    """CREATE FUNCTION ticket_search_refresh(number integer) RETURNS void
    LANGUAGE plpgsql AS $$
    DECLARE
        document tsvector := ticket_search_document(number);
    BEGIN
        IF document IS NULL THEN
            DELETE FROM ticket_search_documents WHERE ticket_id = number;
        ELSE
            INSERT INTO ticket_search_documents (ticket_id, document) VALUES (number, document)
            ON CONFLICT (ticket_id) DO UPDATE SET document = excluded.document;
        END IF;
    END $$""",
    """CREATE FUNCTION ticket_search_on_ticket() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO ticket_search_documents (ticket_id, document)
            VALUES (new.id, setweight(to_tsvector('simple'::regconfig,
                left(coalesce(new.subject, ''), 1000)), 'A'))
            ON CONFLICT (ticket_id) DO NOTHING;
        ELSIF new.subject IS DISTINCT FROM old.subject THEN
            PERFORM ticket_search_refresh(new.id);
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION ticket_search_on_message() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            UPDATE ticket_search_documents
            SET document = ticket_search_append(document, new.body_text)
            WHERE ticket_id = new.ticket_id;
            IF NOT FOUND THEN
                PERFORM ticket_search_refresh(new.ticket_id);
            END IF;
        ELSIF TG_OP = 'DELETE' THEN
            PERFORM ticket_search_refresh(old.ticket_id);
        ELSIF new.ticket_id IS DISTINCT FROM old.ticket_id
                OR new.body_text IS DISTINCT FROM old.body_text THEN
            PERFORM ticket_search_refresh(old.ticket_id);
            IF new.ticket_id IS DISTINCT FROM old.ticket_id THEN
                PERFORM ticket_search_refresh(new.ticket_id);
            END IF;
        END IF;
        RETURN NULL;
    END $$""",
]
# the documents of the tickets already there: in one statement for tickets of ordinary
# size, through the function (which bounds the size) for the few of much text
POSTGRESQL_BACKFILL = [
    """INSERT INTO ticket_search_documents (ticket_id, document)
    SELECT t.id, setweight(to_tsvector('simple'::regconfig, left(t.subject, 1000)), 'A')
        || to_tsvector('simple'::regconfig, coalesce(m.bodies, ''))
    FROM tickets AS t
    LEFT JOIN (SELECT ticket_id, string_agg(body_text, ' ' ORDER BY id) AS bodies,
            sum(length(body_text)) AS size
        FROM messages GROUP BY ticket_id) AS m ON m.ticket_id = t.id
    WHERE coalesce(m.size, 0) <= 50000""",
    """INSERT INTO ticket_search_documents (ticket_id, document)
    SELECT t.id, ticket_search_document(t.id) FROM tickets AS t
    WHERE NOT EXISTS (SELECT 1 FROM ticket_search_documents AS d WHERE d.ticket_id = t.id)""",
]
POSTGRESQL_UP = [
    "CREATE TABLE ticket_search_documents ("
    "ticket_id integer PRIMARY KEY REFERENCES tickets (id) ON DELETE CASCADE, "
    "document tsvector NOT NULL)",
    *POSTGRESQL_FUNCTIONS,
    *POSTGRESQL_BACKFILL,
    "CREATE INDEX ix_ticket_search_documents ON ticket_search_documents USING gin (document)",
    "CREATE TRIGGER ticket_search_on_ticket AFTER INSERT OR UPDATE OF subject ON tickets "
    "FOR EACH ROW EXECUTE FUNCTION ticket_search_on_ticket()",
    "CREATE TRIGGER ticket_search_on_message "
    "AFTER INSERT OR DELETE OR UPDATE OF ticket_id, body_text ON messages "
    "FOR EACH ROW EXECUTE FUNCTION ticket_search_on_message()",
    "DROP INDEX ix_messages_body_search",
    "DROP INDEX ix_tickets_subject_search",
]
POSTGRESQL_DOWN = [
    "CREATE INDEX ix_tickets_subject_search ON tickets "
    "USING gin (to_tsvector('simple'::regconfig, subject))",
    "CREATE INDEX ix_messages_body_search ON messages "
    "USING gin (to_tsvector('simple'::regconfig, left(body_text, 100000)))",
    "DROP TRIGGER ticket_search_on_message ON messages",
    "DROP TRIGGER ticket_search_on_ticket ON tickets",
    "DROP TABLE ticket_search_documents",
    "DROP FUNCTION ticket_search_on_message()",
    "DROP FUNCTION ticket_search_on_ticket()",
    "DROP FUNCTION ticket_search_refresh(integer)",
    "DROP FUNCTION ticket_search_document(integer)",
    "DROP FUNCTION ticket_search_append(tsvector, text)",
]

# ---- SQLite -----------------------------------------------------------------------------
BODIES = (
    "coalesce((SELECT group_concat(body_text, ' ') FROM "
    "(SELECT body_text FROM messages WHERE ticket_id = {number} ORDER BY id)), '')"
)


def _sqlite_refresh(number: str) -> str:
    """Statement: ticket ``number``'s row of ticket_search_fts rebuilt from the store."""
    return (
        f"UPDATE ticket_search_fts SET body = {BODIES.format(number=number)} "
        f"WHERE rowid = {number};"
    )


SQLITE_UP = [
    "CREATE VIRTUAL TABLE ticket_search_fts USING fts5("
    "subject, body, tokenize='unicode61 remove_diacritics 2')",
    "INSERT INTO ticket_search_fts (rowid, subject, body) "
    f"SELECT id, subject, {BODIES.format(number='tickets.id')} FROM tickets",
    "CREATE TRIGGER ticket_search_ticket_insert AFTER INSERT ON tickets BEGIN "
    "INSERT INTO ticket_search_fts (rowid, subject, body) VALUES (new.id, new.subject, ''); "
    "END",
    "CREATE TRIGGER ticket_search_ticket_update AFTER UPDATE OF subject ON tickets BEGIN "
    "UPDATE ticket_search_fts SET subject = new.subject WHERE rowid = new.id; END",
    "CREATE TRIGGER ticket_search_ticket_delete AFTER DELETE ON tickets BEGIN "
    "DELETE FROM ticket_search_fts WHERE rowid = old.id; END",
    "CREATE TRIGGER ticket_search_message_insert AFTER INSERT ON messages BEGIN "
    "UPDATE ticket_search_fts SET body = body || ' ' || coalesce(new.body_text, '') "
    "WHERE rowid = new.ticket_id; END",
    "CREATE TRIGGER ticket_search_message_update AFTER UPDATE OF ticket_id, body_text "
    f"ON messages BEGIN {_sqlite_refresh('old.ticket_id')} "
    f"{_sqlite_refresh('new.ticket_id')} END",
    "CREATE TRIGGER ticket_search_message_delete AFTER DELETE ON messages BEGIN "
    f"{_sqlite_refresh('old.ticket_id')} END",
    *(
        f"DROP TRIGGER {table}_fts_{event}"
        for table in ("tickets", "messages")
        for event in ("insert", "delete", "update")
    ),
    "DROP TABLE tickets_fts",
    "DROP TABLE messages_fts",
]
SQLITE_DOWN = [
    *(
        f"DROP TRIGGER ticket_search_{table}_{event}"
        for table in ("ticket", "message")
        for event in ("insert", "update", "delete")
    ),
    "DROP TABLE ticket_search_fts",
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


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for statement in SQLITE_UP if sqlite else POSTGRESQL_UP:
        op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for statement in SQLITE_DOWN if sqlite else POSTGRESQL_DOWN:
        op.execute(statement)
