"""The requester's pages opened by their link speak the language kept for the requester
(the one the desk writes to them in), whatever their browser says; an explicit choice
(``?lang``, then its cookie) wins. On the real store, both databases."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from connectors.web.app import create_app
from connectors.web.requester.page_language import LANGUAGE_COOKIE
from connectors.web.requester.ticket_page import CATALOG
from tests.conftest import make_settings
from tests.support.desk import Desk, desk_for
from workers.desk.requester_ports import RequesterPorts

pytestmark = pytest.mark.integration

ENGLISH_BROWSER = {"Accept": "text/html", "Accept-Language": "en-US,en;q=0.9"}
ZH = CATALOG.texts("zh_CN")


@pytest.fixture
def desk(database_url: str) -> Iterator[Desk]:
    settings = make_settings(database_url, relaydesk_web__public_url="https://help.example.com")
    yield from desk_for(settings)


@pytest.fixture
def client(desk: Desk) -> TestClient:
    app = create_app(
        intake=desk.intake,
        tickets=desk.intake,
        settings=desk.runtime.settings,
        requester=RequesterPorts(desk.runtime),
    )
    return TestClient(app, follow_redirects=False)


def chinese_requesters_link(desk: Desk) -> tuple[int, str]:
    number = desk.submit("web:zh", "li@example.cn", name="李雷", language="zh-CN")
    return number, f"/api/v1/tickets/{number}?key={desk.ticket(number).access_key}"


def is_chinese(page: str) -> bool:
    return '<html lang="zh-CN">' in page


def test_the_ticket_link_opens_in_the_requesters_language_not_the_browsers(
    desk: Desk, client: TestClient
) -> None:
    _, link = chinese_requesters_link(desk)

    page = client.get(link, headers=ENGLISH_BROWSER)

    assert is_chinese(page.text)
    assert ZH.gettext("Add a message") in page.text and "Add a message" not in page.text
    assert LANGUAGE_COOKIE not in page.cookies  # nothing was chosen


def test_a_choice_on_the_link_wins_and_is_kept_for_the_next_pages(
    desk: Desk, client: TestClient
) -> None:
    number, link = chinese_requesters_link(desk)

    chosen = client.get(f"{link}&lang=en", headers=ENGLISH_BROWSER)
    again = client.get(link, headers=ENGLISH_BROWSER)  # the cookie the choice left
    form = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', again.text))
    sent = client.post(f"/requests/{number}/reply", data={**form, "body": "It works now."})
    after = client.get(sent.headers["location"], headers=ENGLISH_BROWSER)
    desk.settle()

    assert '<html lang="en">' in chosen.text and chosen.cookies[LANGUAGE_COOKIE] == "en"
    assert '<html lang="en">' in again.text
    assert sent.status_code == 303 and '<html lang="en">' in after.text
    # the message states the language of the page it was written on: the choice
    assert desk.ticket(number).requester_language == "en"
    client.cookies.set(LANGUAGE_COOKIE, "zh_CN")
    assert is_chinese(client.get(link, headers=ENGLISH_BROWSER).text)  # the cookie's choice


def test_a_message_from_the_page_keeps_the_requesters_language(
    desk: Desk, client: TestClient
) -> None:
    number, link = chinese_requesters_link(desk)
    page = client.get(link, headers=ENGLISH_BROWSER).text
    form = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', page))

    client.post(
        f"/requests/{number}/reply", data={**form, "body": "还是不行"}, headers=ENGLISH_BROWSER
    )
    desk.settle()

    assert desk.ticket(number).requester_language == "zh_CN"  # not the browser's English


def test_a_requester_without_a_known_language_gets_the_browsers(
    desk: Desk, client: TestClient
) -> None:
    number = desk.submit("web:none", "kim@example.org")  # states nothing
    link = f"/api/v1/tickets/{number}?key={desk.ticket(number).access_key}"

    chinese_browser = {"Accept": "text/html", "Accept-Language": "zh-CN"}
    assert desk.ticket(number).requester_language is None
    assert is_chinese(client.get(link, headers=chinese_browser).text)
    assert '<html lang="en">' in client.get(link, headers=ENGLISH_BROWSER).text


def test_the_sign_in_link_and_my_requests_speak_the_requesters_language(
    desk: Desk, client: TestClient
) -> None:
    chinese_requesters_link(desk)
    asked = client.get("/my-requests", headers=ENGLISH_BROWSER)
    csrf = re.search(r'name="csrf" value="([^"]+)"', asked.text).group(1)  # type: ignore[union-attr]
    client.post("/my-requests/sign-in", data={"email": "li@example.cn", "csrf": csrf})
    desk.settle()
    (mail,) = [m for m in desk.sender.to("li@example.cn") if "/my-requests/sign-in/" in m.body_text]
    link = re.search(r"https://help\.example\.com(/my-requests/sign-in/\S+)", mail.body_text)
    assert link is not None

    confirm = client.get(link.group(1), headers=ENGLISH_BROWSER)
    client.post(link.group(1), headers=ENGLISH_BROWSER)
    mine = client.get("/my-requests", headers=ENGLISH_BROWSER)
    chosen = client.get("/my-requests?lang=en", headers=ENGLISH_BROWSER)

    assert '<html lang="en">' in asked.text  # nobody known yet: the browser's
    assert is_chinese(confirm.text) and 'id="sign-in"' in confirm.text
    assert is_chinese(mine.text) and "help with web:zh" in mine.text
    assert '<html lang="en">' in chosen.text
