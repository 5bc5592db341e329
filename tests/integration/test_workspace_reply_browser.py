"""The issue's scenario in a real headless Chromium on a working desk whose mail goes out
over real SMTP (a dramatiq worker delivering to an aiosmtpd sink on loopback): an agent
signs in, finds a ticket by search, replies with a macro and a file and sets pending; the
requester's mail arrives threaded under their own, with the file attached; their answer
above the quoted reply shows with the history folded. SQLite here;
the same forms run on PostgreSQL in the HTTP tests (test_workspace_actions)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import dramatiq
import pytest
from playwright.sync_api import FilePayload, Page, expect

from router.vocabulary import AgentStatus
from tests.support.browser import screenshot
from tests.support.desk import stub_broker
from tests.support.mail_samples import email_bytes
from tests.support.served import served
from tests.support.smtp_sink import SmtpSink
from tests.support.staff import PASSWORD, StaffDesk, staff_desk
from workers.channels.intake import StoreIntake
from workers.channels.mail_intake import InboundMail
from workers.desk.agents import set_agent_status
from workers.runtime.queues import all_queues

pytestmark = pytest.mark.integration

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


class MailedDesk:
    def __init__(self, staff: StaffDesk, sink: SmtpSink) -> None:
        self.staff, self.runtime, self.sink = staff, staff.runtime, sink

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

    def reply_to(self, address: str, words: str, timeout: float = 30) -> EmailMessage:
        """The mail to ``address`` whose text says ``words``, as it arrived over SMTP."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for received in self.sink.messages:
                message = received.message
                body = message.get_body(preferencelist=("plain",))
                if address in str(message["To"]) and body and words in body.get_content():
                    return message
            time.sleep(0.1)
        raise AssertionError(f"no mail to {address} saying {words!r}")


@pytest.fixture
def desk(sqlite_url: str, tmp_path: Path, smtp_sink: SmtpSink) -> Iterator[MailedDesk]:
    with staff_desk(
        sqlite_url,
        relaydesk_email__attachments_dir=str(tmp_path / "files"),
        relaydesk_smtp__transport="smtp",
        relaydesk_smtp__host=smtp_sink.host,
        relaydesk_smtp__port=str(smtp_sink.port),
    ) as staff:
        worker = dramatiq.Worker(staff.runtime.broker, worker_threads=2, worker_timeout=50)
        worker.start()
        try:
            yield MailedDesk(staff, smtp_sink)
        finally:
            worker.stop()


@pytest.fixture
def base_url(desk: MailedDesk) -> Iterator[str]:
    with served(desk.staff.app) as url:
        yield url


def test_an_agent_replies_with_a_macro_and_a_file_and_the_requester_gets_it_threaded(
    desk: MailedDesk, base_url: str, page: Page, tmp_path: Path
) -> None:
    set_agent_status(desk.runtime, "ben", AgentStatus.OFFLINE)  # ana takes what comes
    customer_id = "<vpn-7@example.org>"
    number = desk.mail(
        email_bytes(
            sender="Kim Park <kim@example.org>",
            subject="VPN refuses my certificate",
            body="Since this morning the VPN refuses my certificate.",
            message_id=customer_id,
        )
    )
    desk.mail(email_bytes(subject="Printer on fire", body="Smoke everywhere."))

    page.goto(f"{base_url}/desk/")
    page.get_by_label("Name").fill("ana")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.wait_for_load_state("load")
    page.keyboard.press("/")
    page.keyboard.type("certificate")
    page.keyboard.press("Enter")
    expect(page.locator("tr[data-ticket]")).to_have_count(1)
    page.keyboard.press("j")
    page.keyboard.press("o")
    expect(
        page.get_by_role("heading", name=f"#{number} VPN refuses my certificate")
    ).to_be_visible()

    page.keyboard.press("?")  # the help lists the macro's key
    expect(page.get_by_role("dialog")).to_contain_text("Choose a macro for the reply")
    page.keyboard.press("Escape")
    page.keyboard.press("m")
    expect(page.get_by_label("Reply with a macro")).to_be_focused()
    page.get_by_label("Reply with a macro").select_option("on-it")
    reply_box = page.get_by_label("Reply to the requester")
    expect(reply_box).to_have_value("Hello Kim Park, I am on it. ana")  # filled to be read
    reply_box.fill("Hello Kim Park, I am on it. The steps to renew it are attached.")
    page.get_by_label(re.compile(r"^Files")).set_input_files(
        files=[FilePayload(name="renew-steps.pdf", mimeType="application/pdf", buffer=PDF)]
    )
    page.get_by_label("Then set the status").select_option("pending")
    screenshot(page, "ticket-reply-macro")
    page.get_by_role("button", name="Send", exact=True).click()

    expect(page.get_by_role("status")).to_contain_text("The macro was applied")
    expect(page.locator("dd.status")).to_have_text("Pending")
    outbound = page.locator(".message.outbound")
    expect(outbound.locator(".body")).to_contain_text("The steps to renew it are attached.")
    expect(outbound.get_by_role("link", name="renew-steps.pdf")).to_be_visible()
    screenshot(page, "ticket-after-reply")

    desk.settle()
    message = desk.reply_to("kim@example.org", "renew it are attached")
    assert message["To"].addresses[0].addr_spec == "kim@example.org"
    assert message["In-Reply-To"] == customer_id  # threaded under the customer's mail
    assert customer_id in message["References"]
    assert f"[#{number}]" in message["Subject"]
    [attached] = list(message.iter_attachments())
    assert attached.get_filename() == "renew-steps.pdf"
    assert attached.get_content_type() == "application/pdf"
    assert attached.get_content() == PDF

    # the customer answers above the quoted reply: the page shows what they wrote, the
    # history folded
    desk.mail(
        email_bytes(
            sender="Kim Park <kim@example.org>",
            subject=str(message["Subject"]),
            body="Renewed it, the VPN works again. Thanks!\n\n"
            "On Mon, 7 Dec 2026 at 09:00, Ana wrote:\n"
            "> Hello Kim Park, I am on it. The steps to renew it are attached.\n",
            message_id="<vpn-8@example.org>",
            in_reply_to=str(message["Message-ID"]),
        )
    )
    page.reload()
    answer = page.locator(".message.inbound").last
    expect(answer.locator(".body").first).to_have_text("Renewed it, the VPN works again. Thanks!")
    history = answer.locator("details.quoted")
    expect(history.locator(".body")).not_to_be_visible()
    history.get_by_text("Quoted history").click()
    expect(history.locator(".body")).to_contain_text("> Hello Kim Park, I am on it.")
    screenshot(page, "ticket-quoted-history")
