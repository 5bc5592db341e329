"""Export tickets (and their messages) as CSV or JSON Lines, streamed page by page.

One function for the command line, the staff API and the dashboard: it yields
text a page at a time from one streamed query (``store.ticket_export``), so a
million tickets pass in constant memory, and ``after`` (a ticket number, the
cursor) continues an export that stopped. A continued CSV has no header and no
byte order mark: it appends.

- CSV, tickets: a row per ticket (``TICKET_COLUMNS``), tags space-separated; on
  PostgreSQL written by the database itself (``store.ticket_copy``: ``COPY ... TO
  STDOUT``), the same bytes.
- CSV with messages: a row per message (``MESSAGE_COLUMNS``), by ticket.
- JSON Lines: an object per ticket; with messages, they are in its ``messages``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Literal

from router.export_format import (
    BOM,
    MESSAGE_COLUMNS,
    TICKET_COLUMNS,
    ExportFilters,
    message_cells,
    plain,
    ticket_cells,
)
from store.ticket_copy import csv_pages
from store.ticket_export import TicketExport
from workers.runtime.context import Runtime

ExportFormat = Literal["csv", "jsonl"]
PAGE = 2000


class Export:
    """Iterate for the text; ``count`` and ``cursor`` (the last ticket written) follow."""

    def __init__(
        self,
        runtime: Runtime,
        filters: ExportFilters,
        *,
        fmt: ExportFormat = "csv",
        messages: bool = False,
        after: int = 0,
        bom: bool = False,
        page: int = PAGE,
    ) -> None:
        if fmt not in ("csv", "jsonl"):
            raise ValueError(f"an export is csv or jsonl, not {fmt!r}")
        self.runtime, self.filters, self.fmt = runtime, filters, fmt
        self.messages, self.bom, self.page_size = messages, bom, page
        self.cursor = after
        self.count = 0

    def __iter__(self) -> Iterator[str]:
        if self.fmt == "csv" and self.cursor == 0:
            head = MESSAGE_COLUMNS if self.messages else TICKET_COLUMNS
            yield (BOM if self.bom else "") + _csv_lines([head])
        with self.runtime.db.unit_of_work() as uow:
            if self.fmt == "csv" and not self.messages and self.runtime.db.dialect == "postgresql":
                pages = csv_pages(uow.session, self.filters, after=self.cursor, size=self.page_size)
                for page in pages:
                    yield page.data.decode("utf-8")
                    self.cursor = page.last
                    self.count += page.count
                return
            store = TicketExport(uow.session)
            for tickets in store.pages(self.filters, after=self.cursor, size=self.page_size):
                notes = store.messages([t[0] for t in tickets]) if self.messages else []
                yield self._render(tickets, notes)
                self.cursor = tickets[-1][0]
                self.count += len(tickets)

    def _render(self, tickets: Sequence[Any], notes: Sequence[Any]) -> str:
        if self.fmt == "csv":
            if self.messages:
                return _csv_lines(map(message_cells, notes))
            return _csv_lines(map(ticket_cells, tickets))
        by_ticket: dict[int, list[dict[str, object]]] = {}
        for note in notes:
            by_ticket.setdefault(note[0], []).append(
                {k: plain(v) for k, v in zip(MESSAGE_COLUMNS[1:], note[1:], strict=True)}
            )
        lines = []
        for row in tickets:
            record = {k: plain(v) for k, v in zip(TICKET_COLUMNS, row, strict=True)}
            if self.messages:
                record["messages"] = by_ticket.get(row[0], [])
            lines.append(json.dumps(record, ensure_ascii=False))
        return "\n".join(lines) + "\n"


def _csv_lines(rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()
