"""An agent's day in a real headless Chromium on a working desk (real ingest, routing and
delivery by a dramatiq worker; mail collected as it is sent): search, the ticket page, a
macro reply threaded to the customer's mail; another team's agent gets 404; what customers
wrote (an email's HTML, a Telegram message) is shown as text, never run. SQLite here; the
same pages run on PostgreSQL in the HTTP tests."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path

import dramatiq
import pytest
from playwright.sync_api import Page, expect

from connectors.telegram.intake import UpdateSink
from router.vocabulary import AgentStatus, Channel
from tests.support.browser import screenshot
from tests.support.desk import CollectingSender, stub_broker
from tests.support.mail_samples import email_bytes
from tests.support.served import served
from tests.support.staff import PASSWORD, StaffDesk, staff_desk
from workers.channels.intake import StoreIntake
from workers.channels.mail_intake import InboundMail
from workers.desk.agents import set_agent_status
from workers.runtime.queues import all_queues

pytestmark = pytest.mark.integration

PNG = base64.b64decode(  # a 1x1 picture
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


class WorkingDesk:
    def __init__(self, staff: StaffDesk, sender: CollectingSender) -> None:
        self.staff = staff
        self.runtime = staff.runtime
        self.sender = sender

    def settle(self) -> None:
        for _ in range(3):
            for queue in all_queues(self.runtime.channels):
                stub_broker(self.runtime).join(queue, fail_fast=False)

    def mail(self, raw: bytes) -> int:
        inbox_id = InboundMail(self.runtime).accept(raw, recipients=(), source="smtp")
        self.settle()
        receipt = StoreIntake(self.runtime).receipt(inbox_id)
        assert receipt is not None and receipt.ticket_number, receipt
        return receipt.ticket_number

    def telegram(self, chat_id: int, text: str) -> int:
        update = {
            "update_id": chat_id,
            "message": {
                "message_id": 1,
                "date": 1_796_000_000,
                "chat": {"id": chat_id, "type": "private", "first_name": "Kim"},
                "from": {"id": chat_id, "is_bot": False, "first_name": "Kim"},
                "text": text,
            },
        }
        receipt = UpdateSink(StoreIntake(self.runtime), source="telegram")(update)
        self.settle()
        found = StoreIntake(self.runtime).receipt(receipt.inbox_id)
        assert found is not None and found.ticket_number, found
        return found.ticket_number


@pytest.fixture
def desk(sqlite_url: str, tmp_path: Path) -> Iterator[WorkingDesk]:
    with staff_desk(
        sqlite_url,
        relaydesk_email__attachments_dir=str(tmp_path / "files"),
        relaydesk_telegram__token="123456:not-a-real-token",  # read, never sent anywhere
    ) as staff:
        sender = CollectingSender()
        staff.runtime._senders[Channel.EMAIL] = sender
        worker = dramatiq.Worker(staff.runtime.broker, worker_threads=2, worker_timeout=50)
        worker.start()
        try:
            yield WorkingDesk(staff, sender)
        finally:
            worker.stop()


@pytest.fixture
def base_url(desk: WorkingDesk) -> Iterator[str]:
    with served(desk.staff.app) as url:
        yield url


def sign_in(page: Page, base_url: str, name: str, path: str = "/desk/") -> None:
    page.goto(f"{base_url}{path}")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.wait_for_load_state("load")


def test_an_agent_finds_a_ticket_by_search_and_answers_it_with_a_macro_threaded_to_the_mail(
    desk: WorkingDesk, base_url: str, page: Page
) -> None:
    set_agent_status(desk.runtime, "ben", AgentStatus.OFFLINE)  # ana takes what comes
    customer_id = "<vpn-1@example.org>"
    number = desk.mail(
        email_bytes(
            sender="Kim Park <kim@example.org>",
            subject="VPN refuses my certificate",
            body="Since this morning the VPN refuses my certificate.",
            message_id=customer_id,
            attachments=(("error.png", "image/png", PNG),),
        )
    )
    desk.mail(email_bytes(subject="Printer on fire", body="Smoke everywhere."))
    sign_in(page, base_url, "ana")
    expect(page.get_by_role("link", name=re.compile("Mine, open"))).to_contain_text("2")
    screenshot(page, "views")

    page.keyboard.press("/")
    page.keyboard.type("certificate")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Search: certificate")).to_be_visible()
    rows = page.locator("tr[data-ticket]")
    expect(rows).to_have_count(1)
    page.keyboard.press("j")
    page.keyboard.press("o")
    expect(
        page.get_by_role("heading", name=f"#{number} VPN refuses my certificate")
    ).to_be_visible()
    expect(page.locator(".message.inbound .body")).to_contain_text("refuses my certificate")
    expect(page.get_by_role("link", name="error.png", exact=True).first).to_be_visible()
    preview = page.get_by_role("img", name="error.png")
    expect(preview).to_be_visible()
    preview.scroll_into_view_if_needed()  # lazy: it loads in view
    # it loaded (decode() waits for the image: on a busy machine it may still be coming)
    assert preview.evaluate("img => img.decode().then(() => img.naturalWidth)") == 1

    page.get_by_label("Reply with a macro").select_option("on-it")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("The macro was applied")
    expect(page.locator("dd.status")).to_have_text("Pending")
    expect(page.locator(".message.outbound .body")).to_contain_text("Hello Kim Park, I am on it.")
    screenshot(page, "ticket")

    desk.settle()
    [reply] = [m for m in desk.sender.to("kim@example.org") if "I am on it" in m.body_text]
    assert reply.in_reply_to == customer_id  # threaded to the customer's own mail
    assert f"[#{number}]" in reply.subject


def test_customers_words_are_text_and_another_teams_agent_gets_404(
    desk: WorkingDesk, base_url: str, page: Page
) -> None:
    attack = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'
    html_mail = (
        email_bytes(subject="Look <script>window.pwned=3</script>", body="placeholder")
        .replace(b'Content-Type: text/plain; charset="utf-8"', b"Content-Type: text/html")
        .replace(b"placeholder", f"<p>Hello</p>{attack}<b>bold</b>".encode())
    )
    by_mail = desk.mail(html_mail)
    by_chat = desk.telegram(620_001, f"Hi {attack} </div></main>")
    pwned: list[str] = []
    page.on("dialog", lambda d: pwned.append(d.message))

    sign_in(page, base_url, "root", f"/desk/tickets/{by_chat}")
    body = page.locator(".message.inbound .body")
    expect(body).to_contain_text("<script>window.pwned=2</script>")  # shown, as written
    assert page.locator(".message img, .message script").count() == 0
    page.goto(f"{base_url}/desk/tickets/{by_mail}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("<script>window.pwned=3</script>")
    expect(page.locator(".message.inbound .body")).to_contain_text("Hello")
    assert page.locator(".message img, .message script, .message b").count() == 0
    assert page.evaluate("typeof window.pwned") == "undefined" and pwned == []

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, base_url, "kim")
    page.goto(f"{base_url}/desk/tickets/{by_mail}")  # support's ticket: not kim's team
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    answer = page.request.get(f"{base_url}/desk/tickets/{by_mail}")
    assert answer.status == 404
