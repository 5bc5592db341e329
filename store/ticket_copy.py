"""Tickets as CSV written by PostgreSQL itself: ``COPY (SELECT ...) TO STDOUT``.

The export's ticket rows, cell for cell what ``router.export_format.ticket_cells``
and Python's ``csv`` writer make (``\\r\\n`` after each row, free text neutralised
with a leading apostrophe, tags space-separated, instants in ISO 8601 as
``datetime.isoformat`` spells them, an empty text an empty cell), but made in the
database: no row passes through Python objects, which is what bounded the export
(psycopg turning 17 columns of a million rows into objects, then the writer
turning them back into text). The rows stream as PostgreSQL sends them, one
message per row, and are handed on in pages; each page's last ticket number is
the export's cursor. PostgreSQL only: SQLite and the other shapes of export go
through ``store.ticket_export``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, case, cast, extract, func, literal, select, type_coerce
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from router.export_format import FORMULA_STARTS, ExportFilters
from store.models import Agent, Customer, Organisation, Team, Ticket
from store.ticket_export import export_conditions


@dataclass(frozen=True)
class CsvPage:
    """Rows of CSV text (UTF-8), how many, and the number of the last ticket in them."""

    data: bytes
    count: int
    last: int


def _text(column: Any) -> ColumnElement[Any]:
    """A free-text cell: an apostrophe before a formula's first character; empty as NULL
    (PostgreSQL writes an empty string as ``""``, Python's writer as nothing)."""
    value = type_coerce(column, String)
    guarded = case((func.left(value, 1).in_(FORMULA_STARTS), literal("'") + value), else_=value)
    return func.nullif(guarded, "")


def _time(column: Any) -> ColumnElement[Any]:
    """``datetime.isoformat()`` of a UTC instant: microseconds only when there are any."""
    utc = func.timezone("UTC", column)
    seconds = func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS')
    micro = cast(extract("microseconds", utc), postgresql.BIGINT) % 1_000_000
    fraction = case((micro != 0, func.to_char(utc, ".US")), else_="")
    return seconds + fraction + "+00:00"


def _tags() -> ColumnElement[Any]:
    each = func.jsonb_array_elements_text(Ticket.tags).table_valued("value").alias("tag")
    joined = select(func.string_agg(each.c.value, " ")).select_from(each).scalar_subquery()
    listed = (func.jsonb_typeof(Ticket.tags) == "array") & (
        func.jsonb_array_length(Ticket.tags) > 0
    )
    return _text(case((listed, joined), else_=None))


def ticket_csv_query(filters: ExportFilters, *, after: int) -> Any:
    """The export's tickets after number ``after`` as CSV cells, by number."""
    assignee = aliased(Agent)
    cells = [
        Ticket.id,
        _text(Ticket.subject),
        Ticket.status,
        Ticket.priority,
        _text(Ticket.category),
        Ticket.channel,
        _text(Team.name),
        _text(assignee.name),
        _text(Customer.name),
        _text(Ticket.requester_address),
        _text(Organisation.name),
        _tags(),
        *(
            _time(column)
            for column in (
                Ticket.created_at,
                Ticket.first_response_at,
                Ticket.resolved_at,
                Ticket.closed_at,
                Ticket.updated_at,
            )
        ),
    ]
    return (
        select(*cells)
        .join(Customer, Customer.id == Ticket.requester_id)
        .outerjoin(Organisation, Organisation.id == Customer.organisation_id)
        .outerjoin(Team, Team.id == Ticket.team_id)
        .outerjoin(assignee, assignee.id == Ticket.assignee_id)
        .where(Ticket.id > after, *export_conditions("postgresql", filters))
        .order_by(Ticket.id)
    )


def csv_pages(
    session: Session, filters: ExportFilters, *, after: int, size: int
) -> Iterator[CsvPage]:
    """The tickets after ``after`` as CSV rows, ``size`` rows to a page."""
    compiled = ticket_csv_query(filters, after=after).compile(
        dialect=postgresql.psycopg.dialect(), compile_kwargs={"render_postcompile": True}
    )
    statement = f"COPY ({compiled.string}) TO STDOUT WITH (FORMAT csv)"
    raw: Any = session.connection().connection.dbapi_connection
    with raw.cursor() as cursor, cursor.copy(statement, compiled.params) as copy:
        rows: list[bytes] = []
        for row in copy:
            rows.append(bytes(row[:-1]))  # PostgreSQL ends a row with \n, the writer \r\n
            if len(rows) == size:
                yield _page(rows)
                rows = []
        if rows:
            yield _page(rows)


def _page(rows: list[bytes]) -> CsvPage:
    last = rows[-1]
    return CsvPage(b"\r\n".join(rows) + b"\r\n", len(rows), int(last[: last.index(b",")]))
