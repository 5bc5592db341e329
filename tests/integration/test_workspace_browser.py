"""The workspace in a real headless Chromium: an agent's day, the supervisor's board, and
what a customer wrote shown as text. One database here (SQLite): the same pages run on
PostgreSQL in the HTTP tests beside these. Screenshots go to ``screenshots/``."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import screenshot
from tests.support.served import served
from tests.support.staff import PASSWORD, StaffDesk, staff_desk

pytestmark = pytest.mark.integration


@pytest.fixture
def desk(sqlite_url: str) -> Iterator[StaffDesk]:
    with staff_desk(sqlite_url) as staff:
        yield staff


@pytest.fixture
def base_url(desk: StaffDesk) -> Iterator[str]:
    with served(desk.app) as url:
        yield url


def sign_in(page: Page, base_url: str, name: str) -> None:
    page.goto(f"{base_url}/desk/")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.wait_for_load_state("load")  # the shortcuts' script has run


def test_an_agent_signs_in_sets_away_finds_the_keys_and_signs_out(
    desk: StaffDesk, base_url: str, page: Page
) -> None:
    page.goto(f"{base_url}/desk/")
    expect(page.get_by_role("heading", name="Sign in to")).to_be_visible()
    screenshot(page, "sign-in")
    sign_in(page, base_url, "ana")
    expect(page).to_have_url(f"{base_url}/desk/")
    page.get_by_role("button", name="Away").click()
    expect(page.get_by_role("button", name="Away")).to_have_attribute("aria-pressed", "true")
    assert [a.status for a in desk.runtime_agents() if a.name == "ana"] == ["away"]
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    screenshot(page, "keyboard-help")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_hidden()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to")).to_be_visible()
    page.goto(f"{base_url}/desk/")
    expect(page.get_by_label("Password")).to_be_visible()  # the session is gone


def test_a_supervisor_goes_to_the_board_by_keyboard(
    desk: StaffDesk, base_url: str, page: Page
) -> None:
    desk.ticket("support", "ana")
    waiting = desk.ticket("support", None)
    sign_in(page, base_url, "sam")
    page.keyboard.press("g")
    page.keyboard.press("b")
    expect(page.get_by_role("heading", name="Waiting for an agent: 1 ticket")).to_be_visible()
    expect(page.locator(f'tr[data-ticket="{waiting}"]')).to_contain_text("printer on fire")
    screenshot(page, "board")


def test_a_view_refreshes_itself_while_in_view(desk: StaffDesk, base_url: str, page: Page) -> None:
    page.clock.install()  # the page's timers run when the test says
    sign_in(page, base_url, "ana")
    expect(page.locator("tr[data-ticket]")).to_have_count(0)
    arrived = desk.ticket("support", "ana")
    page.clock.run_for(31_000)
    expect(page.locator(f'tr[data-ticket="{arrived}"]')).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Mine, open"))).to_contain_text("1")


def test_two_agents_on_one_ticket_the_second_is_told_what_changed(
    desk: StaffDesk, base_url: str, page: Page, browser: Browser
) -> None:
    number = desk.ticket("support", "ana")
    sign_in(page, base_url, "ana")
    page.goto(f"{base_url}/desk/tickets/{number}")
    other = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    try:
        sam = other.new_page()
        sign_in(sam, base_url, "sam")
        sam.goto(f"{base_url}/desk/tickets/{number}")
        sam.keyboard.press("n")
        sam.keyboard.type("VIP customer, handle with care")
        sam.get_by_role("button", name="Add note").click()
        expect(sam.get_by_role("status")).to_contain_text("The note was added.")
    finally:
        other.close()
    page.keyboard.press("r")
    page.keyboard.type("Here is my long answer")
    page.get_by_role("button", name="Send", exact=True).click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Someone changed this ticket while you were working on it.")
    expect(alert).to_contain_text("agent:sam")
    expect(page.get_by_label("Reply to the requester")).to_have_value("Here is my long answer")
    expect(page.locator(".message.note .body")).to_contain_text("VIP customer")
    screenshot(page, "ticket-conflict")
    page.get_by_role("button", name="Send", exact=True).click()  # now on the version it shows
    expect(page.get_by_role("status")).to_contain_text("on its way to the requester")


def test_a_supervisor_reassigns_from_the_board(desk: StaffDesk, base_url: str, page: Page) -> None:
    waiting = desk.ticket("support", None)
    sign_in(page, base_url, "sam")
    page.goto(f"{base_url}/desk/board")
    page.get_by_label(f"Assign #{waiting} to").select_option("ben")
    page.locator(f'tr[data-ticket="{waiting}"]').get_by_role("button", name="Assign").click()
    expect(page.get_by_role("status")).to_contain_text("Assigned.")
    expect(page.locator(f'tr[data-ticket="{waiting}"]')).to_have_count(0)
    expect(page.locator('tr[data-agent="ben"]')).to_contain_text("1")
