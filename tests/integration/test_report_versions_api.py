"""Configuration versions in the staff API's reports, on the desk where billing ran a pilot
(``tests.support.pilot_week``): the versions listed, the report and the export narrowed
to one, the pilot beside the rest; what it refuses. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.support.pilot_week import PilotWeek, pilot_week
from tests.support.report_week import H
from workers.desk.api_tokens import create_token
from workers.runtime.processes import make_web_app

pytestmark = pytest.mark.integration

WEEK = {"from": "2026-11-23", "to": "2026-11-25"}


@pytest.fixture
def week(database_url: str, tmp_path: Path) -> Iterator[PilotWeek]:
    yield from pilot_week(database_url, tmp_path)


@pytest.fixture
def root(week: PilotWeek) -> Iterator[TestClient]:
    secret = create_token(week.desk.runtime, "root", role=None).secret
    with TestClient(make_web_app(week.desk.runtime), base_url="http://desk.test") as client:
        client.headers["Authorization"] = f"Bearer {secret}"
        yield client


def test_the_versions_are_listed_with_the_pilot(week: PilotWeek, root: TestClient) -> None:
    answer = root.get("/api/v1/reports/versions")
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert [(c["version"], c["pilot_teams"]) for c in found["choices"]] == [
        (week.candidate, ["billing"]),
        (week.version, []),
    ]
    assert found["choices"][0]["applied_by"] == "lead"
    assert found["choices"][0]["applied_at"].startswith("2026-11-23T08:30")
    assert found["pilot"] == {
        "candidate": week.candidate,
        "rest": week.version,
        "teams": ["billing"],
        "running": True,
    }


def test_the_report_and_the_export_narrow_to_a_version(week: PilotWeek, root: TestClient) -> None:
    pilot = root.get("/api/v1/reports", params={**WEEK, "config_version": week.candidate})
    assert pilot.status_code == 200, pilot.text
    assert pilot.json()["filters"]["config_version"] == [week.candidate]
    assert pilot.json()["volume"]["total"]["created"] == 2
    assert pilot.json()["promises"]["total"]["attainment"] == 0.5
    both = root.get(
        "/api/v1/reports", params={**WEEK, "config_version": [week.candidate, week.version]}
    )
    assert both.json()["volume"]["total"]["created"] == 4
    lines = root.get(
        "/api/v1/exports/tickets", params={"format": "jsonl", "config_version": week.version}
    )
    assert [json.loads(line)["number"] for line in lines.text.splitlines()] == [1, 4]


def test_the_pilot_is_set_beside_the_rest(week: PilotWeek, root: TestClient) -> None:
    answer = root.get("/api/v1/reports/comparison", params=WEEK)
    assert answer.status_code == 200, answer.text
    compared = answer.json()
    first, second = compared["first"], compared["second"]
    assert (first["version"], second["version"]) == (week.candidate, week.version)
    assert first["first_response_business"]["median_s"] == 1.5 * H
    assert second["first_response_business"]["median_s"] == 0.5 * H
    assert (first["sla"]["attainment"], second["sla"]["attainment"]) == (0.5, 1.0)
    assert (first["transfers"], second["reassignments"]) == (1, 1)
    assert (first["satisfaction"], second["satisfaction"]) == (0.5, 1.0)
    assert compared["pilot"]["teams"] == ["billing"]
    swapped = root.get(
        "/api/v1/reports/comparison",
        params={**WEEK, "first": week.version, "second": week.candidate, "team": "support"},
    ).json()
    assert (swapped["first"]["created"], swapped["second"]["created"]) == (2, 0)


def test_what_the_comparison_and_the_filter_refuse(week: PilotWeek, root: TestClient) -> None:
    for path, params in (
        ("/api/v1/reports", {"config_version": "not a version"}),
        ("/api/v1/exports/tickets", {"config_version": "ZZ"}),
        ("/api/v1/reports/comparison", {"first": "x" * 17}),
        ("/api/v1/reports/comparison", {"since": "9999d"}),
    ):
        answer = root.get(path, params=params)
        assert answer.status_code == 422, (path, params, answer.text)
    ana = create_token(week.desk.runtime, "ana", role=None).secret
    refused = root.get("/api/v1/reports/comparison", headers={"Authorization": f"Bearer {ana}"})
    assert refused.status_code == 403
