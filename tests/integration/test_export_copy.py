"""The CSV export on PostgreSQL is written by the database (``COPY ... TO STDOUT``):
byte for byte what Python's writer makes of the same rows, on awkward values."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from router.export_format import BOM, TICKET_COLUMNS, ExportFilters, ticket_cells
from store.models import Customer, Ticket
from store.ticket_export import TicketExport
from tests.support.desk import Desk
from tests.support.report_week import worked_week
from workers.desk.export import Export

pytestmark = pytest.mark.integration

AWKWARD: dict[int, dict[str, Any]] = {
    1: {"subject": '=HYPERLINK("http://x", "a, b")', "tags": ["@home", "vpn"]},
    2: {"subject": 'two\r\nlines and a "quote"', "category": "-1", "tags": []},
    3: {"subject": "中文的主题 +", "team_id": None, "tags": ["+x", "vpn"]},
    4: {"subject": "", "created_at": datetime(2026, 11, 24, 9, 0, 0, 123456, tzinfo=UTC)},
}


@pytest.fixture
def awkward(database_url: str, tmp_path: Path) -> Iterator[Desk]:
    for desk in worked_week(database_url, tmp_path):
        with desk.runtime.db.unit_of_work() as uow:
            for number, values in AWKWARD.items():
                uow.session.execute(update(Ticket).where(Ticket.id == number).values(**values))
            uow.session.execute(update(Customer).where(Customer.name == "Kim").values(name=""))
            uow.session.execute(
                update(Customer).where(Customer.name == "Lee").values(name="@Lee\tx")
            )
        yield desk


def python_csv(desk: Desk, filters: ExportFilters, after: int = 0) -> str:
    """The rows as the writer makes them from the rows read one by one."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    with desk.runtime.db.unit_of_work() as uow:
        for page in TicketExport(uow.session).pages(filters, after=after, size=100):
            writer.writerows(map(ticket_cells, page))
    return buffer.getvalue()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_database_writes_the_same_csv_as_python_on_awkward_values(awkward: Desk) -> None:
    job = Export(awkward.runtime, ExportFilters(), fmt="csv", bom=True)
    text = "".join(job)
    head = BOM + ",".join(TICKET_COLUMNS) + "\r\n"
    assert text == head + python_csv(awkward, ExportFilters())
    rows = list(csv.DictReader(io.StringIO(text.removeprefix(BOM), newline="")))
    assert [r["subject"] for r in rows] == [
        "'" + AWKWARD[1]["subject"],
        AWKWARD[2]["subject"],
        AWKWARD[3]["subject"],
        "",
    ]
    assert rows[0]["tags"] == "'@home vpn" and rows[2]["tags"] == "'+x vpn"
    assert rows[1]["category"] == "'-1" and rows[1]["requester"] == ""
    assert rows[3]["requester"] == "'@Lee\tx" and rows[2]["team"] == ""
    assert rows[3]["created_at"] == "2026-11-24T09:00:00.123456+00:00"
    assert rows[0]["created_at"] == "2026-11-23T09:00:00+00:00"
    assert (job.count, job.cursor) == (4, 4)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_database_written_csv_pages_filters_and_continues_after_its_cursor(
    awkward: Desk,
) -> None:
    filters = ExportFilters(tag=("vpn",))
    first = Export(awkward.runtime, filters, fmt="csv", page=1)
    chunks = list(first)
    assert len(chunks) == 3  # the header, then a page per ticket
    assert (first.count, first.cursor) == (2, 3)
    assert "".join(chunks[1:]) == python_csv(awkward, filters)
    rest = Export(awkward.runtime, ExportFilters(), fmt="csv", after=2)
    assert "".join(rest) == python_csv(awkward, ExportFilters(), after=2)
    assert (rest.count, rest.cursor) == (2, 4)
