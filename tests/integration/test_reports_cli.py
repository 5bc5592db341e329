"""``relaydesk report`` and ``relaydesk export`` on the week of ``tests.support.report_week``,
in-process through click, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import update

from router.export_format import TICKET_COLUMNS
from store.models import Ticket
from tests.support.desk import Desk
from tests.support.report_week import worked_week
from workers.cli import main

pytestmark = pytest.mark.integration

WEEK = ("--from", "2026-11-23", "--to", "2026-11-25")


@pytest.fixture
def week(database_url: str, tmp_path: Path) -> Iterator[Desk]:
    yield from worked_week(database_url, tmp_path)


def cli(config: Path, *args: str, ok: bool = True) -> Result:
    result = CliRunner().invoke(main, ["--config", str(config), *args])
    assert (result.exit_code == 0) is ok, result.output
    return result


def test_the_report_prints_each_figure_as_a_table(week: Desk, tmp_path: Path) -> None:
    out = cli(tmp_path / "relaydesk.toml", "report", *WEEK).output
    for words in (
        "Report 2026-11-23 to 2026-11-25 (UTC)",
        "Created and resolved, per day",
        "Backlog now: 2 open",
        "first response, wall time",
        "Promises (SLA clocks started in the period)",
        "Agents",
        "Top requesters",
        "Top forms: no data",
    ):
        assert words in out, words
    assert "30m 00s" in out  # ana's median first response


def test_the_report_as_csv_and_json_carries_the_same_figures(week: Desk, tmp_path: Path) -> None:
    config = tmp_path / "relaydesk.toml"
    rows = list(csv.reader(io.StringIO(cli(config, "report", *WEEK, "--format", "csv").output)))
    assert rows[0] == ["section", "name", "measure", "value"]
    assert ["speed", "first response (wall)", "median_s", "3600.0"] in rows
    assert ["volume", "all", "created", "4"] in rows
    assert ["top tag", "vpn", "created", "2"] in rows
    data = json.loads(cli(config, "report", *WEEK, "--team", "support", "--format", "json").output)
    assert data["volume"]["total"]["created"] == 3
    assert data["promises"]["breaches_by_step"] == {"0": 2}
    assert data["filters"]["team"] == ["support"]


def test_a_bad_period_is_refused_with_the_reason(week: Desk, tmp_path: Path) -> None:
    config = tmp_path / "relaydesk.toml"
    assert "a number of days" in cli(config, "report", "--since", "week", ok=False).output
    both = cli(config, "report", "--since", "7d", "--from", "2026-11-23", ok=False).output
    assert "not both" in both
    backwards = cli(config, "report", "--from", "2026-11-25", "--to", "2026-11-23", ok=False)
    assert "ends on or after it starts" in backwards.output


def test_the_export_writes_excel_safe_csv_and_continues_after_its_cursor(
    week: Desk, tmp_path: Path
) -> None:
    config = tmp_path / "relaydesk.toml"
    with week.runtime.db.unit_of_work() as uow:
        formula = update(Ticket).where(Ticket.id == 2).values(subject="=HYPERLINK(1) @x")
        uow.session.execute(formula)
    target = tmp_path / "tickets.csv"
    first = cli(config, "export", "--bom", "-o", str(target), "--created-to", "2026-11-23T12:00:00")
    assert "2 tickets exported; cursor 2" in first.output
    cli(config, "export", "--after", "2", "-o", str(target))  # appends #3 and #4, no header
    raw = target.read_bytes()
    assert raw.startswith("\ufeff".encode()) and raw.count(b"number,subject") == 1
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert [r["number"] for r in rows] == ["1", "2", "3", "4"]
    assert list(rows[0]) == list(TICKET_COLUMNS)
    assert rows[1]["subject"] == "'=HYPERLINK(1) @x"  # a formula is text to a spreadsheet
    assert rows[0]["tags"] == "vpn login" and rows[0]["organisation"] == "Acme"
    assert (rows[3]["assignee"], rows[3]["status"]) == ("ben", "pending")


def test_the_export_filters_like_the_ticket_list_and_nests_messages_in_json_lines(
    week: Desk, tmp_path: Path
) -> None:
    config = tmp_path / "relaydesk.toml"
    out = cli(config, "export", "--format", "jsonl", "--messages", "--tag", "vpn").stdout
    lines = [json.loads(line) for line in out.splitlines()]
    assert [t["number"] for t in lines] == [1, 3]
    assert [m["direction"] for m in lines[1]["messages"]] == ["inbound", "outbound", "outbound"]
    assert lines[1]["created_at"].startswith("2026-11-23T16:00:00")
    only = cli(config, "export", "--status", "pending", "--assignee", "ben", "--team", "support")
    assert [r["number"] for r in csv.DictReader(io.StringIO(only.stdout))] == ["4"]
    messages = cli(config, "export", "--messages", "--priority", "normal", "--channel", "web")
    rows = list(csv.DictReader(io.StringIO(messages.stdout)))
    assert {r["ticket"] for r in rows} == {"1", "2", "3", "4"}
    assert list(rows[0]) == [
        "ticket",
        "message",
        "created_at",
        "direction",
        "channel",
        "author",
        "body",
    ]
