"""The requester's side in a real headless Chromium, in English and in Chinese: the form,
the link on its thank-you page, the ticket's page, a message with a file, the resolution,
the rating and "this solved it"; every word checked against the page's catalog."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, FilePayload, Page

from connectors.web.requester.ticket_page import CATALOG
from router.requester_view import capitalised
from router.vocabulary import Status
from router.vocabulary_texts import requester_state_word
from store.models import Rating
from tests.conftest import make_settings
from tests.support.browser import screenshot
from tests.support.desk import Desk, desk_for
from tests.support.services import free_port
from workers.desk.replies import answer_ticket
from workers.runtime.processes import make_web_app

pytestmark = pytest.mark.integration

FORMS = [
    {"slug": "it-fault", "title": {"en": "IT fault", "zh_CN": "IT 故障"}, "fields": [
        {"name": "device", "label": {"en": "Device", "zh_CN": "设备"}, "type": "choice",
         "required": True, "choices": ["laptop", "printer"],
         "choice_labels": {"printer": {"en": "Printer", "zh_CN": "打印机"}}},
        {"name": "since", "label": {"en": "Since", "zh_CN": "开始日期"}, "type": "date"},
        {"name": "photo", "label": {"en": "Photo", "zh_CN": "照片"}, "type": "file"},
    ]},
    {"slug": "refund", "title": "Refund", "fields": [
        {"name": "order", "label": "Order number", "required": True},
        {"name": "amount", "label": "Amount", "type": "number", "min": 0.01},
    ]},
]  # fmt: skip
FORM_WORDS = {  # the form's own words, as FORMS gives them per language
    "en": {"title": "IT fault", "device": "Device", "printer": "Printer"},
    "zh_CN": {"title": "IT 故障", "device": "设备", "printer": "打印机"},
}
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")


@pytest.fixture
def desk(sqlite_url: str, tmp_path: Path) -> Iterator[Desk]:
    yield from desk_for(
        make_settings(
            sqlite_url,
            relaydesk_email__attachments_dir=str(tmp_path / "files"),
            relaydesk_web__forms=json.dumps(FORMS),
        )
    )


@pytest.fixture
def base_url(desk: Desk) -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(
        make_web_app(desk.runtime), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def follow_a_request(desk: Desk, base_url: str, page: Page, language: str) -> None:
    texts = CATALOG.texts(language)
    _ = texts.gettext

    def state(status: str) -> str:  # the vocabulary's word, as the page labels it
        return capitalised(requester_state_word(status, language))

    words = FORM_WORDS[language]
    page.goto(f"{base_url}/")  # lists the forms: the requester picks one
    page.click("a[href='/forms/it-fault']")
    assert page.inner_text("h1") == words["title"]  # the form in the reader's language
    assert page.inner_text("legend") == f"{words['device']} *"
    assert page.inner_text("label.choice:has(input[value=printer])").strip() == words["printer"]
    page.fill("#name", "Li Wei")
    page.fill("#email", f"li.{language.lower()}@example.org")
    page.check("input[name=device][value=printer]")
    page.fill("#since", "2026-12-01")
    page.set_input_files("#photo", [FilePayload(name="jam.png", mimeType="image/png", buffer=PNG)])
    page.fill("#details", "It jams on every page.")
    page.click("#send")
    assert page.inner_text("h1").startswith(
        _("Thank you, your request #%(number)s is open", number=0)[:4]
    )
    page.click("#follow")  # the thank-you page's link to the ticket

    number = int(page.url.split("/api/v1/tickets/")[1].split("?")[0])
    assert page.inner_text("#state") in (state("new"), state("open"))
    assert page.locator("html").get_attribute("lang") == language.replace("_", "-")
    page.fill("#body", "Here is a photo of the jam.")
    page.set_input_files("#files", [FilePayload(name="jam.png", mimeType="image/png", buffer=PNG)])
    page.click("#send")
    assert page.inner_text("p[role=status]") == _("Your message was added.")
    assert page.locator("ol.conversation a", has_text="jam.png").count() == 2  # form, reply
    assert f"{words['device']}: printer" in page.inner_text("ol.conversation")
    desk.settle()
    assert [m.body_text for m in desk.ticket(number).messages][-1] == "Here is a photo of the jam."

    answer_ticket(desk.runtime, number, "ana", "Cleaned the rollers.", status=Status.RESOLVED)
    page.reload()
    assert page.inner_text("#state") == state("resolved")
    assert "Cleaned the rollers." in page.inner_text("ol.conversation")
    screenshot(page, f"requester-resolved-{language}")
    page.check("#rate-good")
    page.fill("#rating-comment", "Quick and kind")
    page.click("#send-rating")
    assert page.inner_text("p[role=status]") == _("Thank you, your rating was saved.")
    page.click("#solved")
    assert page.inner_text("#state") == state("closed")
    assert page.locator("#reply").count() == 0
    screenshot(page, f"requester-closed-{language}")

    assert desk.ticket(number).status == "closed"
    with desk.runtime.db.unit_of_work() as uow:
        rating = uow.session.query(Rating).filter(Rating.ticket_id == number).one()
        assert (rating.good, rating.comment, rating.via) == (True, "Quick and kind", "page")


def test_a_requester_follows_replies_rates_and_confirms_in_english(
    desk: Desk, base_url: str, page: Page
) -> None:
    follow_a_request(desk, base_url, page, "en")


def test_the_same_in_chinese(desk: Desk, base_url: str, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    context.set_default_timeout(15_000)
    try:
        follow_a_request(desk, base_url, context.new_page(), "zh_CN")
    finally:
        context.close()
