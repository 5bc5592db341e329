"""Each thing the desk tells a requester on its own can be switched off in config
(``[requester]``), on the real store (both databases): the resolution notice, the rating
question in it (and on the ticket's page), the pending notice. On is the default and is
checked beside off, so a test that finds nothing cannot pass by finding nothing anyway."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from connectors.web.app import create_app
from router.vocabulary import Status
from store.models import Rating
from tests.conftest import make_settings
from tests.support.desk import Desk, desk_for
from workers.desk.assignments import assign_ticket
from workers.desk.replies import answer_ticket
from workers.desk.requester_ports import RequesterPorts
from workers.desk.ticket_status import set_ticket_status

pytestmark = pytest.mark.integration
HTML = {"Accept": "text/html"}


@pytest.fixture
def desks(database_url: str, request: pytest.FixtureRequest) -> Iterator[Desk]:
    switches = {f"relaydesk_requester__{name}": "false" for name in request.param}
    yield from desk_for(make_settings(database_url, **switches))


def to_jo(desk: Desk, needle: str) -> list[str]:
    return [m.body_text for m in desk.sender.to("jo@example.org") if needle in m.body_text]


def resolve(desk: Desk) -> int:
    number = desk.submit("web:printer", "jo@example.org", subject="Printer jams")
    assign_ticket(desk.runtime, number, "ana", force=True)
    answer_ticket(desk.runtime, number, "ana", "Cleaned the rollers.", status=Status.RESOLVED)
    desk.settle()
    return number


def client_of(desk: Desk) -> TestClient:
    app = create_app(
        intake=desk.intake,
        tickets=desk.intake,
        settings=desk.runtime.settings,
        requester=RequesterPorts(desk.runtime),
    )
    return TestClient(app, follow_redirects=False)


def ratings(desk: Desk, number: int) -> int:
    with desk.runtime.db.unit_of_work() as uow:
        return uow.session.query(Rating).filter(Rating.ticket_id == number).count()


@pytest.mark.parametrize("desks", [(), ("resolved_notice",)], indirect=True, ids=["on", "off"])
def test_the_resolution_notice_can_be_switched_off(desks: Desk) -> None:
    number = resolve(desks)

    assert len(to_jo(desks, "Cleaned the rollers.")) == 1  # the answer goes either way
    notices = to_jo(desks, f"we have resolved your request [#{number}]")
    assert len(notices) == (1 if desks.runtime.settings.requester.resolved_notice else 0)


@pytest.mark.parametrize("desks", [(), ("ratings",)], indirect=True, ids=["on", "off"])
def test_the_rating_question_can_be_switched_off_in_the_notice_and_on_the_page(
    desks: Desk,
) -> None:
    asked = desks.runtime.settings.requester.ratings
    number = resolve(desks)

    (notice,) = to_jo(desks, f"we have resolved your request [#{number}]")
    assert ("/rating?" in notice) is asked
    client, key = client_of(desks), desks.ticket(number).access_key
    page = client.get(f"/api/v1/tickets/{number}?key={key}", headers=HTML)
    assert page.status_code == 200 and ('id="rating-form"' in page.text) is asked
    sent = client.post(f"/requests/{number}/rating", data={"key": key, "good": "1"})
    assert sent.status_code == 303  # back to the page, which says what became of it
    assert ratings(desks, number) == (1 if asked else 0)


@pytest.mark.parametrize("desks", [(), ("pending_notice",)], indirect=True, ids=["on", "off"])
def test_the_pending_notice_can_be_switched_off(desks: Desk) -> None:
    number = desks.submit("web:1", "jo@example.org", subject="Printer jams")
    assign_ticket(desks.runtime, number, "ana", force=True)
    set_ticket_status(desks.runtime, number, Status.PENDING, actor="agent:ana")
    desks.settle()

    notices = to_jo(desks, "waiting for your answer")
    assert len(notices) == (1 if desks.runtime.settings.requester.pending_notice else 0)
