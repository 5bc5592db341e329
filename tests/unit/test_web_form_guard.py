"""The form at ``/`` is guarded as the scenario forms are, by the same ``SubmissionGuard``:
a post without the page's CSRF token (double submit: cookie and field) is a 403 page in
the reader's language with everything they typed kept and a token that works; a filled
honeypot is thanked and nothing is kept; the JSON API needs none of it."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from connectors.web.app import create_app
from connectors.web.requester.submission_guard import CSRF_COOKIE, HONEYPOT
from tests.support.catalog_texts import said
from tests.support.web_fakes import (
    SETTINGS,
    FakeHelpdesk,
    client_for,
    form_fields,
    post_form,
    ticket_json,
)

REQUESTER = "connectors/web/requester"
FORGED = (
    "This page was open too long or came from elsewhere: please check the form and send it again."
)
CHINESE = {"Accept-Language": "zh-CN,zh;q=0.9"}


def form_data(**changes: str) -> dict[str, str]:
    data = {
        "name": "李雷",
        "email": "lei@example.cn",
        "subject": "打印机坏了",
        "category": "billing",
        "priority": "",
        "message": "一直卡纸 <b>",
    }
    data.update(changes)
    return data


def test_the_page_hands_out_its_token_as_a_strict_cookie_and_a_field() -> None:
    client = client_for(FakeHelpdesk())
    page = client.get("/")

    fields = form_fields(page.text)
    assert fields["csrf"] and fields["csrf"] == client.cookies[CSRF_COOKIE]
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert f'name="{HONEYPOT}"' in page.text and 'class="trap" aria-hidden="true"' in page.text
    assert "my-requests" not in page.text  # this app has no requester's pages to link to
    again = client.get("/")  # the browser keeps its token while it has it
    assert form_fields(again.text)["csrf"] == fields["csrf"]


def test_a_post_without_the_pages_token_is_403_in_the_readers_language_with_all_kept() -> None:
    desk = FakeHelpdesk()
    elsewhere = client_for(desk)  # another site's page posting here: no cookie of ours

    refused = elsewhere.post("/", data=form_data(language="zh_CN"), headers=CHINESE)

    assert refused.status_code == 403 and desk.accepted == {}
    assert said(REQUESTER, "zh_CN", FORGED) in refused.text
    assert '<html lang="zh-CN">' in refused.text
    for kept in ('value="李雷"', 'value="lei@example.cn"', 'value="打印机坏了"'):
        assert kept in refused.text
    assert ">一直卡纸 &lt;b&gt;</textarea>" in refused.text
    assert '<option value="billing" selected>' in refused.text
    # the page shown again carries a token that works: sending it again is taken
    fields = form_fields(refused.text)
    assert fields["csrf"] == elsewhere.cookies[CSRF_COOKIE]
    sent = elsewhere.post("/", data={**form_data(language="zh_CN"), **fields}, headers=CHINESE)
    assert sent.status_code == 201 and len(desk.accepted) == 1


def test_a_token_that_is_not_the_cookies_is_refused_in_english_too() -> None:
    desk = FakeHelpdesk()
    client = client_for(desk)
    fields = form_fields(client.get("/").text)

    forged = client.post("/", data={**form_data(), **fields, "csrf": "guessed"})
    empty = client.post("/", data={**form_data(), **fields, "csrf": ""})

    assert forged.status_code == empty.status_code == 403
    assert FORGED in forged.text and desk.accepted == {}


def test_a_filled_honeypot_is_thanked_and_nothing_is_kept() -> None:
    desk = FakeHelpdesk()
    client = client_for(desk)

    robot = post_form(client, {**form_data(), HONEYPOT: "http://spam.example"}, CHINESE)

    assert robot.status_code == 200 and desk.accepted == {}
    assert said("connectors/web", "zh_CN", "Thank you, your request was received") in robot.text
    assert "/api/v1/" not in robot.text  # no link: there is no ticket
    assert re.search(r'href="/"', robot.text)  # the way back


def test_the_json_api_needs_no_token_and_keeps_its_idempotency() -> None:
    desk = FakeHelpdesk()
    client = TestClient(create_app(intake=desk, tickets=desk, settings=SETTINGS))
    key = {"Idempotency-Key": "same-request-1"}

    first = client.post("/api/v1/tickets", json=ticket_json(), headers=key)
    second = client.post("/api/v1/tickets", json=ticket_json(), headers=key)

    assert first.status_code == second.status_code == 201
    assert first.json()["ticket_number"] == second.json()["ticket_number"]
    assert len(desk.accepted) == 1
