"""The reports dashboard with configuration versions, on the desk where billing ran a pilot
(``tests.support.pilot_week``): the version select lists each version with when and by
whom it was applied and which is the pilot; a version narrows every figure and the
export links; the pilot is set beside the rest, in English and in Chinese. SQLite and
PostgreSQL through the real app; a headless Chromium reads it on SQLite."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from starlette.testclient import TestClient

from tests.support.browser import screenshot
from tests.support.pilot_week import PilotWeek, pilot_week
from tests.support.served import served
from tests.support.staff import PASSWORD
from workers.desk.sign_in import set_password
from workers.runtime.processes import make_web_app

pytestmark = pytest.mark.integration

WEEK = {"from": "2026-11-23", "to": "2026-11-25"}
FIGURE_CREATED = r'data-figure="created">.*?<td class="num">(\d+)</td>'


@pytest.fixture
def week(database_url: str, tmp_path: Path) -> Iterator[PilotWeek]:
    for week in pilot_week(database_url, tmp_path):
        set_password(week.desk.runtime, "root", PASSWORD)
        yield week


def _signed_in(week: PilotWeek, **headers: str) -> TestClient:
    client = TestClient(make_web_app(week.desk.runtime), base_url="http://desk.test")
    client.headers.update(headers)
    answer = client.post("/desk/sign-in", data={"name": "root", "password": PASSWORD})
    assert answer.status_code in (200, 303), answer.text
    return client


def _cell(text: str, figure: str) -> list[str]:
    row = re.search(rf'data-compare="{figure}">(.*?)</tr>', text, re.S)
    assert row is not None, figure
    return [c.strip() for c in re.findall(r'<td class="num">(.*?)</td>', row.group(1), re.S)]


def test_the_dashboard_lists_versions_narrows_to_one_and_compares_the_pilot(
    week: PilotWeek,
) -> None:
    with _signed_in(week) as root:
        page = root.get("/desk/reports", params=WEEK)
        assert page.status_code == 200, page.text
        text = page.text
        option = re.search(rf'<option value="{week.candidate}" >(.*?)</option>', text, re.S)
        assert option is not None
        assert "applied 2026-11-23 08:30 by lead" in option.group(1)
        assert "pilot on billing" in option.group(1) and "in force" in option.group(1)
        assert 'data-compare="created"' not in text  # only when asked
        narrowed = root.get("/desk/reports", params={**WEEK, "config_version": week.candidate})
        created = re.search(
            r'data-figure="created">.*?<td class="num">(\d+)</td>', narrowed.text, re.S
        )
        assert created is not None and created.group(1) == "2"
        assert f"config_version={week.candidate}" in narrowed.text  # the export links
        compared = root.get("/desk/reports", params={**WEEK, "compare": "true"}).text
        assert _cell(compared, "created") == ["2", "2"]
        assert _cell(compared, "sla") == ["50%", "100%"]
        assert _cell(compared, "transfers") == ["1 / 0", "0 / 1"]
        assert _cell(compared, "reopen") == ["50%", "0%"]
        assert _cell(compared, "satisfaction") == ["50% (2)", "100% (2)"]
        assert f"{week.candidate} (pilot)" in compared and f"{week.version} (the rest)" in compared
        refused = root.get("/desk/reports", params={**WEEK, "config_version": "not hex"})
        assert refused.status_code == 422
    with _signed_in(week, **{"Accept-Language": "zh-CN"}) as chinese:
        text = chinese.get("/desk/reports", params={**WEEK, "compare": "true"}).text
        assert "配置版本" in text and "SLA 达成率" in text


def test_a_browser_shows_the_pilot_beside_the_rest(
    sqlite_url: str, tmp_path: Path, page: Page
) -> None:
    for week in pilot_week(sqlite_url, tmp_path):
        set_password(week.desk.runtime, "root", PASSWORD)
        with served(make_web_app(week.desk.runtime)) as base_url:
            page.goto(f"{base_url}/desk/")
            page.get_by_label("Name").fill("root")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("link", name="Reports").click()
            page.get_by_label("Period").select_option("")
            page.get_by_label("From", exact=True).first.fill("2026-11-23")
            page.get_by_label("To", exact=True).first.fill("2026-11-25")
            page.get_by_role("button", name="Show").click()
            expect(page.locator("[data-pilot]")).to_contain_text("piloted on billing")
            page.get_by_role("button", name="Compare").click()
            expect(page).to_have_url(re.compile(r"compare=true"))
            table = page.locator("table.comparison")
            expect(table.locator('th[data-side="first"]')).to_have_text(f"{week.candidate} (pilot)")
            expect(table.locator('tr[data-compare="sla"] td')).to_have_text(["50%", "100%"])
            expect(table.locator('tr[data-compare="satisfaction"] td')).to_have_text(
                ["50% (2)", "100% (2)"]
            )
            screenshot(page, "reports-pilot")
            page.get_by_label("Configuration version", exact=True).select_option(week.candidate)
            page.get_by_role("button", name="Show").click()
            expect(page).to_have_url(re.compile(f"config_version={week.candidate}"))
            expect(page.locator('tr[data-figure="created"] td').first).to_have_text("2")
