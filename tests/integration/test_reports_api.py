"""The reports and the export in the staff API: supervisors see their teams, admins every
team, agents none; the figures are the command line's. On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import pytest

from connectors.web.staff.query_params import WORD
from tests.support.staff import StaffDesk, staff_desk

pytestmark = pytest.mark.integration


@pytest.fixture
def desk(database_url: str) -> Iterator[StaffDesk]:
    with staff_desk(database_url) as staff:
        staff.ticket("support", "ana")
        staff.ticket("support", None)
        staff.ticket("billing", None)
        yield staff


def test_a_supervisor_sees_the_report_of_their_teams_and_an_admin_of_every_team(
    desk: StaffDesk,
) -> None:
    sam = desk.signed_in("sam")  # supervises support
    mine = sam.get("/api/v1/reports", params={"since": "today"})
    assert mine.status_code == 200, mine.text
    assert mine.json()["filters"]["team"] == ["support"]
    assert mine.json()["volume"]["total"]["created"] == 2
    assert mine.json()["backlog"]["total"] == 2
    other = sam.get("/api/v1/reports", params={"team": "billing"})
    assert other.status_code == 403 and "billing" in other.json()["detail"]
    everything = desk.with_token("root").get("/api/v1/reports", params={"since": "today"})
    assert everything.json()["volume"]["total"]["created"] == 3
    billing = desk.with_token("root").get(
        "/api/v1/reports", params={"team": "billing", "since": "today"}
    )
    assert billing.json()["volume"]["total"]["created"] == 1
    assert desk.signed_in("ana").get("/api/v1/reports").status_code == 403


def test_a_period_the_report_cannot_take_is_a_422_with_the_reason(desk: StaffDesk) -> None:
    root = desk.with_token("root")
    for params, words in (
        ({"since": "7d", "from": "2026-01-01"}, "not both"),
        ({"from": "2026-03-01", "to": "2026-01-01"}, "ends on or after"),
        ({"from": "0001-01-01"}, "in the years"),
        ({"since": "9999d"}, "surely a typo"),
        ({"team": "a\u0001b"}, "is not a name: 1-200 characters"),
        ({"agent": "x" * 201}, "is not a name: 1-200 characters"),
        ({"config_version": "XYZ"}, "is not a configuration version"),
    ):
        answer = root.get("/api/v1/reports", params=params)
        assert answer.status_code == 422 and words in answer.text, (params, answer.text)


# every filter of names in the staff API's reads, as (path, parameter)
NAME_FILTERS = [
    *(("/api/v1/reports", name) for name in ("team", "category", "agent", "organisation", "form")),
    ("/api/v1/reports/comparison", "agent"),
    *(
        ("/api/v1/exports/tickets", name)
        for name in ("team", "assignee", "category", "tag", "organisation", "form")
    ),
    *(
        ("/api/v1/desk/tickets", name)
        for name in ("team", "assignee", "category", "tag", "organisation")
    ),
]


def test_a_name_filter_is_documented_as_the_names_it_takes_and_refuses_an_empty_one(
    desk: StaffDesk,
) -> None:
    # the document said any string, and an empty name or one with a control character was
    # refused (422): the staff fuzz's check that valid data is accepted found it
    document = desk.app.openapi()
    root = desk.with_token("root")
    for path, name in NAME_FILTERS:
        parameters = document["paths"][path]["get"]["parameters"]
        (schema,) = (p["schema"] for p in parameters if p["name"] == name)
        assert schema["items"] == {"type": "string", "pattern": WORD}, (path, name)
        for refused in ("", "a\u0007b"):
            answer = root.get(path, params={name: refused})
            assert answer.status_code == 422, (path, name, answer.text)
        # two versions named: a comparison without them needs a pilot that ran
        versions = {"first": "a1", "second": "b2"} if path.endswith("comparison") else {}
        accepted = root.get(path, params={name: "support", **versions})
        assert accepted.status_code == 200, (path, name, accepted.text)


def test_the_export_streams_the_tickets_of_the_callers_teams(desk: StaffDesk) -> None:
    sam = desk.signed_in("sam")
    answer = sam.get("/api/v1/exports/tickets", params={"bom": "true"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert [r["number"] for r in rows] == ["1", "2"] and {r["team"] for r in rows} == {"support"}
    assert sam.get("/api/v1/exports/tickets", params={"team": "billing"}).status_code == 403
    lines = desk.with_token("root").get(
        "/api/v1/exports/tickets", params={"format": "jsonl", "after": 1, "messages": "true"}
    )
    assert lines.headers["content-type"].startswith("application/x-ndjson")
    tickets = [json.loads(line) for line in lines.text.splitlines()]
    assert [t["number"] for t in tickets] == [2, 3] and tickets[0]["messages"] == []
