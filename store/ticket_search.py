"""Full-text search over tickets' subjects and messages, as each database does it.

PostgreSQL: ``to_tsvector('simple', ...)`` of the subject and of each message's
text, each with a GIN index on that very expression (migration 0017), so the
index is kept up to date by the database itself as tickets and messages are
written. The ``simple`` configuration neither stems nor drops stop words: the
desk's mail comes in many languages. The words are read with
``websearch_to_tsquery``, which accepts any text (quotes, ``-word``, ``or``).

SQLite (the embedded mode): FTS5 tables over ``tickets.subject`` and
``messages.body_text`` (external content, kept up to date by triggers made in the
same migration). Each word typed is searched as a quoted string, so no input is
ever read as FTS5 query syntax.

Either way a ticket matches when all the words occur in its subject, or all in
one of its messages (internal notes included: the search is for staff).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, bindparam, func, literal_column, or_, select, text
from sqlalchemy.orm import aliased

from router.ticket_list import search_words
from store.models import Message, Ticket

BODY_PREFIX = 100_000  # characters of a message that are indexed (a tsvector's size is bounded)
CONFIG: ColumnElement[str] = literal_column(
    "'simple'::regconfig"
)  # literal: the index's expression, exactly
# the objects of the search that the models do not describe (migration 0017)
SEARCH_INDEXES = frozenset({"ix_tickets_subject_search", "ix_messages_body_search"})
SEARCH_TABLES = frozenset({"tickets_fts", "messages_fts"})


def subject_vector() -> ColumnElement[object]:
    return func.to_tsvector(CONFIG, Ticket.subject)


def body_vector() -> ColumnElement[object]:
    return func.to_tsvector(CONFIG, func.left(Message.body_text, literal_column(str(BODY_PREFIX))))


def fts5_query(q: str) -> str:
    """The words of ``q`` as FTS5 strings, all required: ``"a" "b""c"``."""
    return " ".join('"' + word.replace('"', '""') + '"' for word in search_words(q))


def matches(dialect: str, q: str) -> ColumnElement[bool]:
    """WHERE-clause: the tickets whose subject or one of whose messages has all of ``q``."""
    if dialect == "postgresql":
        # the subject's matches through its GIN index too: with ``subject @@ q`` in the
        # outer query the planner walked the list's order computing every subject's
        # vector (a rare word: every ticket read, about a second for 200,000)
        query = func.websearch_to_tsquery(CONFIG, bindparam("search_q", q))
        other = aliased(Ticket)
        in_subjects = select(other.id).where(
            func.to_tsvector(CONFIG, other.subject).op("@@")(query)
        )
        in_messages = select(Message.ticket_id).where(body_vector().op("@@")(query))
        return or_(Ticket.id.in_(in_subjects), Ticket.id.in_(in_messages))
    words = fts5_query(q)
    subjects = text("SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH :search_q").bindparams(
        search_q=words
    )
    bodies = text(
        "SELECT messages.ticket_id FROM messages WHERE messages.id IN "
        "(SELECT rowid FROM messages_fts WHERE messages_fts MATCH :search_body)"
    ).bindparams(search_body=words)
    return or_(
        Ticket.id.in_(subjects.columns(rowid=Ticket.id.type)),
        Ticket.id.in_(bodies.columns(ticket_id=Ticket.id.type)),
    )
