"""Merging from the ticket page in a real headless Chromium, on a running desk (SQLite):
the agent names the ticket that remains, confirms, lands on it; then the requester's
mail answering the merged ticket's thread arrives there. The HTTP tests beside it
(``test_merges.py``) run the same on PostgreSQL too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.integration.test_workspace_browser import sign_in
from tests.support.browser import screenshot
from tests.support.mail_desk import MailDesk, mail_desk
from tests.support.mail_samples import email_bytes
from tests.support.served import served
from tests.support.staff import DIRECTORY, PASSWORD
from workers.desk.sign_in import set_password
from workers.runtime.processes import make_web_app

pytestmark = pytest.mark.integration

JO = "Jo Doe <jo@example.org>"


@pytest.fixture
def desk(sqlite_url: str, tmp_path: Path) -> Iterator[MailDesk]:
    yield from mail_desk(sqlite_url, tmp_path, **DIRECTORY)


@pytest.fixture
def base_url(desk: MailDesk) -> Iterator[str]:
    set_password(desk.runtime, "sam", PASSWORD)
    with served(make_web_app(desk.runtime)) as url:
        yield url


def test_an_agent_merges_from_the_page_and_the_requesters_reply_lands_in_the_target(
    desk: MailDesk, base_url: str, page: Page
) -> None:
    first = email_bytes(sender=JO, subject="VPN down", message_id="<vpn-1@example.org>")
    source = desk.mail(first)
    target = desk.mail(email_bytes(sender=JO, subject="Still no VPN", body="Since Monday."))
    sign_in(page, base_url, "sam")  # supervises support, where both are
    page.goto(f"{base_url}/desk/tickets/{source}")
    page.get_by_text("Merge into another ticket").click()
    page.get_by_label("Number of the ticket that remains").fill(str(target))
    page.get_by_role("button", name="Merge…").click()
    expect(page.get_by_role("heading", name=f"Merge #{source} into #{target}?")).to_be_visible()
    screenshot(page, "merge-confirm")
    page.get_by_role("button", name="Merge them").click()
    expect(page).to_have_url(f"{base_url}/desk/tickets/{target}?done=merged")
    expect(page.get_by_role("status")).to_contain_text("Merged")
    merged_in = page.locator(".message", has=page.get_by_role("link", name=f"from #{source}"))
    expect(merged_in).to_contain_text("Smoke everywhere.")
    screenshot(page, "merged-ticket")

    reply = email_bytes(
        sender=JO,
        subject=f"Re: [#{source}] VPN down",
        body="Now the printer too.",
        in_reply_to="<vpn-1@example.org>",
        references=("<vpn-1@example.org>",),
    )
    assert desk.mail(reply) == target
    page.reload()
    expect(page.locator(".message").last).to_contain_text("Now the printer too.")
    page.goto(f"{base_url}/desk/tickets/{source}")
    expect(page.get_by_text(f"This ticket was merged into #{target}")).to_be_visible()
    page.get_by_role("link", name=f"Open #{target}").click()
    expect(page).to_have_url(f"{base_url}/desk/tickets/{target}")
