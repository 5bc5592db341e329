"""Full-text search over tickets: one search document per ticket, as each database does it.

A ticket's document is its subject and the text of all its messages (internal
notes included: the search is for staff), kept up to date by triggers in the
same transaction that writes a subject or a message (migration 0023): a new
message is appended, a message moved by a merge or a split rebuilds both
tickets' documents. A ticket matches when all the words occur in its document,
wherever they are in it.

PostgreSQL: ``ticket_search_documents.document``, a ``tsvector`` of the ``simple``
configuration (no stemming and no stop words: the desk's mail comes in many
languages; the subject at weight A) under a GIN index. The words are read with
``websearch_to_tsquery``, which accepts any text (quotes, ``-word``, ``or``). A list
sorted by relevance ranks with ``ts_rank``.

SQLite (the embedded mode): the FTS5 table ``ticket_search_fts(subject, body)``
whose rowid is the ticket's number. Each word typed is searched as a quoted
string, so no input is ever read as FTS5 query syntax; relevance is FTS5's bm25.
"""

from __future__ import annotations

import json

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Subquery,
    bindparam,
    cast,
    column,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session

from router.ticket_list import RANK_SCALE, search_words
from store.models import Ticket

CONFIG: ColumnElement[str] = literal_column("'simple'::regconfig")
# the objects of the search that the models do not describe (migration 0023)
SEARCH_INDEXES = frozenset({"ix_ticket_search_documents"})  # DOCUMENT_INDEX
SEARCH_TABLES = frozenset({"ticket_search_fts", "ticket_search_documents"})

FEW_MATCHES = 5_000  # a search with more matches walks the list's order (few_matches)

documents = table("ticket_search_documents", column("ticket_id"), column("document"))


def fts5_query(q: str) -> str:
    """The words of ``q`` as FTS5 strings, all required: ``"a" "b""c"``."""
    return " ".join('"' + word.replace('"', '""') + '"' for word in search_words(q))


def tsquery(q: str) -> ColumnElement[object]:
    return func.websearch_to_tsquery(CONFIG, bindparam("search_q", q))


def ranked(dialect: str, q: str) -> Subquery:
    """The tickets matching ``q`` with their rank (``ticket_id``, ``rank``): a whole number,
    higher for a better match (``router.ticket_list.RANK_SCALE``). PostgreSQL ranks by
    ``ts_rank`` (the subject's words weigh more), SQLite by FTS5's bm25; either scaled
    from [0, 1) so a cursor carries it. Every match is ranked before the first page is
    cut: a word in a third of a million tickets costs seconds (the default order walks
    an index instead)."""
    if dialect == "postgresql":
        score = func.ts_rank(documents.c.document, tsquery(q), 32)  # 32: rank / (rank + 1)
        return (
            select(
                documents.c.ticket_id.label("ticket_id"),
                cast(func.floor(score * RANK_SCALE), Integer).label("rank"),
            )
            .where(documents.c.document.op("@@")(tsquery(q)))
            .subquery("ranked")
        )
    found = text(
        "SELECT rowid AS ticket_id, max(0, CAST(:scale * -bm25(ticket_search_fts, 4.0, 1.0) "
        "/ (1 - bm25(ticket_search_fts, 4.0, 1.0)) AS INTEGER)) AS rank "
        "FROM ticket_search_fts WHERE ticket_search_fts MATCH :search_q"
    ).bindparams(search_q=fts5_query(q), scale=RANK_SCALE)
    return found.columns(ticket_id=Integer(), rank=Integer()).subquery("ranked")


def few_matches(session: Session, q: str) -> list[int] | None:
    """PostgreSQL: the tickets matching ``q`` when they are at most ``FEW_MATCHES``, else
    None. The planner cannot tell a rare word from a common one (it guesses 0.5 % of
    the desk for any word it has no statistics of): with a list's order and limit it
    walks the order probing each ticket's document, which finds a common word's first
    page at once but reads the whole desk for a word in one ticket (20 s at a million).
    Asked first (the GIN index, reading at most ``FEW_MATCHES`` rows), a rare word's
    tickets are then read by number and sorted; a common word keeps the walk. A word
    its statistics know as common is not asked at all (asking would read thousands of
    documents: 30 to 50 ms)."""
    if planned_matches(session, q) > 2 * FEW_MATCHES:
        return None
    numbers = session.scalars(
        select(documents.c.ticket_id)
        .where(documents.c.document.op("@@")(tsquery(q)))
        .limit(FEW_MATCHES + 1)
    ).all()
    return None if len(numbers) > FEW_MATCHES else list(numbers)


def planned_matches(session: Session, q: str) -> int:
    """How many documents the planner expects to match ``q`` (its statistics of the
    documents' words; 0.5 % of the desk for a word it has none of)."""
    plan = session.execute(
        text(
            "EXPLAIN (FORMAT JSON) SELECT 1 FROM ticket_search_documents "
            "WHERE document @@ websearch_to_tsquery('simple'::regconfig, :search_q)"
        ),
        {"search_q": q},
    ).scalar_one()
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def matches(dialect: str, q: str) -> ColumnElement[bool]:
    """WHERE-clause: the tickets whose search document has all the words of ``q``."""
    if dialect == "postgresql":
        return (
            select(1)
            .select_from(documents)
            .where(
                documents.c.ticket_id == Ticket.id,
                documents.c.document.op("@@")(tsquery(q)),
            )
            .exists()
        )
    found = text(
        "SELECT rowid FROM ticket_search_fts WHERE ticket_search_fts MATCH :search_q"
    ).bindparams(search_q=fts5_query(q))
    return Ticket.id.in_(found.columns(rowid=Ticket.id.type))


DOCUMENT_INDEX = "ix_ticket_search_documents"
BULK_DOCUMENTS = """INSERT INTO ticket_search_documents (ticket_id, document)
SELECT t.id, setweight(to_tsvector('simple'::regconfig, left(t.subject, 1000)), 'A')
    || to_tsvector('simple'::regconfig, coalesce(m.bodies, ''))
FROM tickets AS t
LEFT JOIN (SELECT ticket_id, string_agg(body_text, ' ' ORDER BY id) AS bodies,
        sum(length(body_text)) AS size
    FROM messages GROUP BY ticket_id) AS m ON m.ticket_id = t.id
WHERE coalesce(m.size, 0) <= 50000
    AND NOT EXISTS (SELECT 1 FROM ticket_search_documents AS d WHERE d.ticket_id = t.id)"""
BULK_LARGE_DOCUMENTS = """INSERT INTO ticket_search_documents (ticket_id, document)
SELECT t.id, ticket_search_document(t.id) FROM tickets AS t
WHERE NOT EXISTS (SELECT 1 FROM ticket_search_documents AS d WHERE d.ticket_id = t.id)"""


def build_missing_documents(conn: Connection) -> None:
    """PostgreSQL: the search documents of the tickets that have none, in bulk (for loads
    that wrote tickets and messages with the triggers off: ``session_replication_role =
    replica``). The GIN index is dropped and built again: faster than a million inserts
    into it."""
    conn.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))  # a GIN build's buffer
    conn.execute(text(f"DROP INDEX {DOCUMENT_INDEX}"))
    conn.execute(text(BULK_DOCUMENTS))
    conn.execute(text(BULK_LARGE_DOCUMENTS))
    conn.execute(
        text(f"CREATE INDEX {DOCUMENT_INDEX} ON ticket_search_documents USING gin (document)")
    )
