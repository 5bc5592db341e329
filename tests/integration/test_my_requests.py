"""'My requests' on the real store (both databases): a one-time, expiring sign-in link by
mail (its GET only asks to confirm), then every ticket of the requester, newest first,
across channels; nothing says whether an address is known."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from connectors.web.app import create_app
from router.vocabulary import Channel
from tests.conftest import make_settings
from tests.support.desk import Desk, desk_for
from tests.support.web_fakes import post_form
from workers.desk.requester_ports import RequesterPorts

pytestmark = pytest.mark.integration


class Clock:
    def __init__(self) -> None:
        self.at = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def desk(database_url: str, clock: Clock) -> Iterator[Desk]:
    settings = make_settings(database_url, relaydesk_web__public_url="https://help.example.com")
    for desk in desk_for(settings):
        desk.runtime.clock = clock
        yield desk


@pytest.fixture
def client(desk: Desk) -> TestClient:
    app = create_app(
        intake=desk.intake,
        tickets=desk.intake,
        settings=desk.runtime.settings,
        requester=RequesterPorts(desk.runtime),
    )
    return TestClient(app, follow_redirects=False)


def ask_link(client: TestClient, email: str) -> str:
    page = client.get("/my-requests").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    return client.post("/my-requests/sign-in", data={"email": email, "csrf": csrf}).text


def link_in_mail(desk: Desk, email: str) -> str:
    desk.settle()
    (mail,) = [m for m in desk.sender.to(email) if "/my-requests/sign-in/" in m.body_text]
    found = re.search(r"https://help\.example\.com(/my-requests/sign-in/\S+)", mail.body_text)
    assert found is not None
    return found.group(1)


def test_a_requester_signs_in_by_a_one_time_link_and_sees_all_their_requests(
    desk: Desk, client: TestClient
) -> None:
    first = desk.submit("web:1", "jo@example.org", subject="Printer jams")
    second = desk.submit("<m2@example.org>", "jo@example.org", subject="VPN", channel=Channel.EMAIL)
    desk.submit("web:3", "someone@example.org", subject="Not Jo's")

    told = ask_link(client, "Jo@Example.org")
    link = link_in_mail(desk, "jo@example.org")
    for _ in range(2):  # a mail scanner's GETs use nothing up
        assert 'id="sign-in"' in client.get(link).text
    signed_in = client.post(link)
    page = client.get("/my-requests")

    assert "a link to your requests is on its way" in told
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/my-requests"
    subjects = re.findall(r'<a href="/api/v1/tickets/\d+\?key=[^"]+">#\d+ ([^<]+)</a>', page.text)
    assert subjects == ["VPN", "Printer jams"]  # newest first, web and email alike
    assert f"/api/v1/tickets/{first}?key=" in page.text and f"tickets/{second}?key=" in page.text
    other = TestClient(client.app, follow_redirects=False)
    assert other.post(link).status_code == 410  # once only
    assert 'id="ask-link"' in other.get("/my-requests").text  # no session: asked to sign in


def test_an_unknown_address_is_answered_alike_and_a_late_link_is_refused(
    desk: Desk, client: TestClient, clock: Clock
) -> None:
    desk.submit("web:1", "jo@example.org")

    unknown = ask_link(client, "nobody@example.org")
    known = ask_link(client, "jo@example.org")
    desk.settle()

    assert desk.sender.to("nobody@example.org") == []
    assert unknown.replace("nobody@example.org", "X") == known.replace("jo@example.org", "X")
    link = link_in_mail(desk, "jo@example.org")
    clock.at += timedelta(minutes=31)
    assert client.post(link).status_code == 410


def test_the_form_its_thanks_and_the_ticket_page_link_to_my_requests(
    desk: Desk, client: TestClient
) -> None:
    form = client.get("/")
    thanks = post_form(
        client, {"name": "Jo", "email": "jo@example.org", "subject": "Printer", "message": "jam"}
    )
    desk.settle()
    link = re.search(r'href="(/api/v1/tickets/\d+\?key=[^"]+)"', thanks.text)
    assert thanks.status_code == 201 and link is not None
    page = client.get(link.group(1), headers={"Accept": "text/html"})

    for shown in (form, thanks, page):
        assert '<a href="/my-requests" id="my-requests-link">See all my requests</a>' in shown.text
    assert "/my-requests/sign-in" in client.get("/my-requests").text  # where it leads
