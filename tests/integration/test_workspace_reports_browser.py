"""The reports dashboard in a real headless Chromium: a supervisor goes to it from the
navigation, sees the three charts drawn (the SVG images load under the page's security
policy), opens a chart's numbers, narrows the period by the filter form. SQLite here;
tests/integration/test_workspace_reports.py runs the page on both databases."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from router.vocabulary import Channel
from tests.support.browser import screenshot
from tests.support.served import served
from tests.support.staff import PASSWORD, StaffDesk, staff_desk

pytestmark = pytest.mark.integration


@pytest.fixture
def desk(sqlite_url: str) -> Iterator[StaffDesk]:
    with staff_desk(sqlite_url) as staff:
        yield staff


def test_a_supervisor_reads_the_dashboard_and_a_charts_numbers(desk: StaffDesk, page: Page) -> None:
    desk.ticket("support", "ana")
    desk.ticket("support", None, Channel.TELEGRAM)
    desk.ticket("billing", None)
    with served(desk.app) as base_url:
        page.goto(f"{base_url}/desk/")
        page.get_by_label("Name").fill("sam")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("link", name="Reports").click()
        expect(page.get_by_role("heading", name="Reports")).to_be_visible()
        for name in ("volume", "channels", "backlog"):
            image = page.locator(f'figure[data-chart="{name}"] img')
            expect(image).to_be_visible()
            drawn = image.evaluate("img => img.complete && img.naturalWidth")
            assert drawn == 720, (name, drawn)  # the SVG loaded and was drawn
        expect(page.locator('tr[data-figure="created"] td').first).to_have_text("2")
        numbers = page.locator('figure[data-chart="channels"] table')
        expect(numbers).to_be_hidden()
        page.get_by_text("The numbers of “Tickets created by channel”").click()
        expect(numbers).to_be_visible()
        expect(numbers.locator("thead")).to_contain_text("Telegram")
        screenshot(page, "reports")
        page.get_by_label("Period").select_option("today")
        page.get_by_label("Channel").select_option("telegram")
        page.get_by_role("button", name="Show").click()
        expect(page).to_have_url(re.compile(r"channel=telegram"))
        expect(page.locator('tr[data-figure="created"] td').first).to_have_text("1")
        csv_link = page.get_by_role("link", name="CSV")
        assert "channel=telegram" in (csv_link.get_attribute("href") or "")
