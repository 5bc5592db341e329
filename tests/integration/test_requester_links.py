"""Every acknowledgement carries the ticket link: in the mail (in the requester's
language), as a button under the chat's acknowledgement; the link opens the ticket."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from connectors.web.requester.links import CATALOG
from router.vocabulary import Channel
from tests.conftest import make_settings
from tests.support.desk import Desk, desk_for
from tests.support.telegram_desk import Chat

pytestmark = pytest.mark.integration


@pytest.fixture
def desk(database_url: str) -> Iterator[Desk]:
    yield from desk_for(
        make_settings(database_url, relaydesk_web__public_url="https://help.example.com/desk/")
    )


def link_in(body: str) -> str:
    return next(w for w in body.split() if w.startswith("https://help.example.com/"))


def test_the_acknowledgement_mail_carries_the_ticket_link_in_the_requesters_language(
    desk: Desk,
) -> None:
    english = desk.submit("web:1", "jo@example.org", access_key="k" * 24)
    desk.submit("web:2", "li@example.org", access_key="z" * 24, language="zh-CN")

    (ack_en,) = desk.sender.to("jo@example.org")
    (ack_zh,) = desk.sender.to("li@example.org")
    assert link_in(ack_en.body_text) == (
        f"https://help.example.com/desk/api/v1/tickets/{english}?key={'k' * 24}"
    )
    assert "Follow your request, add to it or send files here:" in ack_en.body_text
    zh = CATALOG.texts("zh_CN").gettext(
        "Follow your request, add to it or send files here:\n%(link)s",
        link=link_in(ack_zh.body_text),
    )
    assert zh in ack_zh.body_text and zh.startswith("在这里查看您的请求")
    assert ack_en.body_text.rstrip().endswith("-- relaydesk demo")  # before the signature


def test_an_email_requesters_link_opens_their_ticket_with_its_own_key(desk: Desk) -> None:
    number = desk.submit("<m1@example.org>", "kim@example.org", channel=Channel.EMAIL)

    (ack,) = desk.sender.to("kim@example.org")
    query = parse_qs(urlsplit(link_in(ack.body_text)).query)
    view = desk.ticket(number)
    assert query["key"] == [view.access_key] and len(view.access_key) >= 24  # >= 144 bits


def test_a_chat_acknowledgement_has_a_button_to_the_ticket(chat: Chat) -> None:
    chat.says(9001, "My printer is on fire")

    ack = chat.expect(9001, "We have opened your request [#1]")
    (button,) = ack["reply_markup"]["inline_keyboard"][0]
    assert button["text"] == "Follow your request"
    assert button["url"] == (
        f"https://desk.example.com/api/v1/tickets/1?key={chat.ticket(1).access_key}"
    )
