"""Satisfaction ratings on the real store, both databases: the resolution mail's links
(whose GET records nothing), the page's form, one rating per resolution changeable for a
week, the reports' table; and the chat's buttons."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from connectors.web.app import create_app
from connectors.web.requester.notices import CATALOG
from router.report_figures import ReportFilters
from router.vocabulary import Status
from store.models import Rating
from store.report_queries import ReportQueries
from tests.conftest import make_settings
from tests.support.desk import Desk, desk_for
from tests.support.telegram_desk import Chat
from workers.desk.assignments import assign_ticket
from workers.desk.replies import answer_ticket
from workers.desk.reports import report_period
from workers.desk.requester_ports import RequesterPorts
from workers.desk.ticket_status import set_ticket_status

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
def desk(database_url: str, tmp_path: Path, clock: Clock) -> Iterator[Desk]:
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


def resolved_ticket(desk: Desk) -> int:
    number = desk.submit("web:printer", "jo@example.org", subject="Printer jams")
    assign_ticket(desk.runtime, number, "ana", force=True)
    answer_ticket(desk.runtime, number, "ana", "Cleaned the rollers.", status=Status.RESOLVED)
    desk.settle()
    return number


def ratings(desk: Desk, number: int) -> list[tuple[int, bool, str, str]]:
    with desk.runtime.db.unit_of_work() as uow:
        rows = uow.session.query(Rating).filter(Rating.ticket_id == number).all()
        return [(r.resolution, r.good, r.comment, r.via) for r in rows]


def links_in(body: str) -> dict[str, str]:
    return dict(re.findall(r"^(Good|Bad): (\S+)$", body, flags=re.M))


def test_the_resolution_mail_asks_for_a_rating_and_a_scanners_get_records_nothing(
    desk: Desk, client: TestClient
) -> None:
    number = resolved_ticket(desk)

    mail = next(m for m in desk.sender.to("jo@example.org") if "resolved" in m.body_text)
    links = links_in(mail.body_text)
    assert mail.subject == f"Re: [#{number}] Printer jams" and mail.in_reply_to
    assert set(links) == {"Good", "Bad"}
    for link in links.values():  # a mail scanner follows every link, twice
        for _ in range(2):
            shown = client.get(link.removeprefix("https://help.example.com"))
            assert shown.status_code == 200 and 'id="rating-form"' in shown.text
    good_page = client.get(links["Good"].removeprefix("https://help.example.com")).text
    assert 'id="rate-good" checked' in good_page and 'id="rate-bad" checked' not in good_page

    assert ratings(desk, number) == []
    with desk.runtime.db.unit_of_work() as uow:
        assert "ticket.rated" not in [e.action for e in uow.audit.for_ticket(number)]


def test_one_rating_per_resolution_changeable_for_a_week_for_the_agent_and_team(
    desk: Desk, client: TestClient, clock: Clock
) -> None:
    number = resolved_ticket(desk)
    key = desk.ticket(number).access_key
    rate = f"/requests/{number}/rating"

    first = client.post(rate, data={"key": key, "good": "1", "via": "email", "comment": "quick"})
    changed = client.post(rate, data={"key": key, "good": "0", "comment": "it jams again"})
    assert "done=recorded" in first.headers["location"]
    assert "done=changed" in changed.headers["location"]
    assert ratings(desk, number) == [(0, False, "it jams again", "page")]
    assert client.post(rate, data={"key": "wrong", "good": "1"}).status_code == 404

    with desk.runtime.db.unit_of_work() as uow:
        period = report_period(desk.runtime, since="7d")
        by_agent = ReportQueries(uow.session).ratings(period, ReportFilters(), by="agent")
        by_team = ReportQueries(uow.session).ratings(period, ReportFilters(), by="team")
        rated = [e for e in uow.audit.for_ticket(number) if e.action == "ticket.rated"]
    assert by_agent == {"ana": (0, 1)} and by_team == {"support": (0, 1)}
    assert [e.detail for e in rated] == ["rated good via email", "rated bad via page (was good)"]

    clock.at += timedelta(days=7, minutes=1)
    late = client.post(rate, data={"key": key, "good": "1"})
    assert "done=too_late" in late.headers["location"]
    assert ratings(desk, number) == [(0, False, "it jams again", "page")]

    set_ticket_status(desk.runtime, number, Status.OPEN, actor="agent:ana")  # reopened
    set_ticket_status(desk.runtime, number, Status.RESOLVED, actor="agent:ana")
    again = client.post(rate, data={"key": key, "good": "1"})
    assert "done=recorded" in again.headers["location"]
    assert ratings(desk, number) == [
        (0, False, "it jams again", "page"),
        (1, True, "", "page"),
    ]


def test_the_page_offers_the_rating_only_after_a_resolution(desk: Desk, client: TestClient) -> None:
    number = desk.submit("web:vpn", "kim@example.org")
    key = desk.ticket(number).access_key
    link = f"/api/v1/tickets/{number}?key={key}"
    browser = {"Accept": "text/html"}

    assert 'id="rating-form"' not in client.get(link, headers=browser).text
    early = client.post(f"/requests/{number}/rating", data={"key": key, "good": "1"})
    assert "done=not_resolved" in early.headers["location"] and ratings(desk, number) == []

    set_ticket_status(desk.runtime, number, Status.RESOLVED, actor="agent:ana")
    page = client.get(link, headers=browser).text
    assert 'id="rating-form"' in page
    client.post(f"/requests/{number}/rating", data={"key": key, "good": "1"})
    after = client.get(link + "&done=recorded", headers=browser).text
    assert 'id="rated"' in after and "Thank you, your rating was saved." in after


def test_a_chat_requester_rates_with_the_buttons_under_the_resolution_notice(
    chat: Chat,
) -> None:
    chat.says(9001, "My printer is on fire")
    chat.expect(9001, "We have opened your request [#1]")
    set_ticket_status(chat.desk.runtime, 1, Status.RESOLVED, actor="agent:ana")
    notice = chat.expect(9001, "is resolved")
    buttons = notice["reply_markup"]["inline_keyboard"][0]
    texts = CATALOG.texts("en")
    assert [b["text"] for b in buttons] == [
        texts.pgettext("rating", "Good"),
        texts.pgettext("rating", "Bad"),
    ]

    chat.server.callback(9001, notice["message_id"], buttons[0]["callback_data"], user_id=9001)
    chat.server.wait_until(lambda: bool(chat.server.callback_answers))
    assert chat.server.callback_answers[-1]["text"] == "Thank you, your rating was saved."
    assert ratings(chat.desk, 1) == [(0, True, "", "telegram")]
