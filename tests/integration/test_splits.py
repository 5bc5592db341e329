"""Splitting a customer's message out into a new ticket, through the staff API and the
ticket page, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from router.vocabulary import AuditAction, Channel, Direction
from store.models import AuditEvent, Message, Ticket
from tests.support.staff import PASSWORD, StaffDesk, staff_desk

pytestmark = pytest.mark.integration


@pytest.fixture
def desk(database_url: str) -> Iterator[StaffDesk]:
    with staff_desk(database_url) as staff:
        yield staff


def with_messages(desk: StaffDesk, number: int, *texts: str) -> list[int]:
    ids = []
    with desk.runtime.db.unit_of_work() as uow:
        for text in texts:
            uow.messages.add(
                number,
                direction=Direction.INBOUND,
                channel=Channel.EMAIL,
                author="Jo <jo@x.test>",
                body_text=text,
                now=desk.clock(),
            )
        uow.session.flush()
        ids = list(
            uow.session.scalars(
                select(Message.id).where(Message.ticket_id == number).order_by(Message.id)
            )
        )
    return ids


def test_a_later_message_becomes_a_ticket_of_the_same_requester(desk: StaffDesk) -> None:
    number = desk.ticket("support", "ana")
    first, second = with_messages(desk, number, "printer on fire", "also: my VPN is down")
    client = desk.signed_in("ana")
    made = client.post(
        f"/api/v1/desk/tickets/{number}/split",
        json={"message_id": second, "subject": "VPN down"},
    )
    assert made.status_code == 201, made.text
    new = made.json()["number"]
    with desk.runtime.db.unit_of_work() as uow:
        old, split = uow.session.get(Ticket, number), uow.session.get(Ticket, new)
        assert old is not None and split is not None
        assert (split.subject, split.requester_id, split.team_id, split.parent_id) == (
            "VPN down",
            old.requester_id,
            old.team_id,
            number,
        )
        moved = uow.session.get(Message, second)
        assert moved is not None and moved.ticket_id == new
        [event] = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.TICKET_SPLIT)
        ).all()
        assert event.ticket_id == number and event.actor == "agent:ana"
    found = client.get("/api/v1/desk/tickets", params={"q": "VPN"}).json()
    assert [t["number"] for t in found["tickets"]] == [new]  # the search follows the move
    again = client.post(
        f"/api/v1/desk/tickets/{number}/split", json={"message_id": first, "subject": ""}
    )
    assert again.status_code == 409  # the first message stays
    elsewhere = client.post(
        f"/api/v1/desk/tickets/{number}/split", json={"message_id": second, "subject": ""}
    )
    assert elsewhere.status_code == 404  # not this ticket's any more


def test_the_ticket_page_splits_a_message_and_opens_the_new_ticket(desk: StaffDesk) -> None:
    number = desk.ticket("support", "ana")
    _, second = with_messages(desk, number, "printer on fire", "and the VPN")
    client = desk.client()
    page = client.post("/desk/sign-in", data={"name": "ana", "password": PASSWORD})
    page = client.get(f"/desk/tickets/{number}")
    assert page.text.count("Split into a new ticket") == 1  # not for the first message
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    done = client.post(
        f"/desk/tickets/{number}/split",
        data={"message_id": str(second), "subject": "VPN", "csrf_token": csrf.group(1)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    landed = client.get(done.headers["location"])
    assert f"A new ticket, split from #{number}." in landed.text and "and the VPN" in landed.text


def test_a_split_from_a_stale_read_is_refused_by_the_api_and_the_page(desk: StaffDesk) -> None:
    number = desk.ticket("support", "ana")
    _, second = with_messages(desk, number, "printer on fire", "and the VPN")
    client = desk.signed_in("ana")
    read = client.get(f"/api/v1/desk/tickets/{number}").headers["ETag"]
    page = desk.client()
    page.post("/desk/sign-in", data={"name": "ana", "password": PASSWORD})
    shown = page.get(f"/desk/tickets/{number}").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', shown)
    version = re.search(r'name="version" value="([^"]+)"', shown)
    assert csrf is not None and version is not None
    client.post(f"/api/v1/desk/tickets/{number}/notes", json={"text": "meanwhile"})
    stale = client.post(
        f"/api/v1/desk/tickets/{number}/split",
        json={"message_id": second},
        headers={"If-Match": read},
    )
    assert stale.status_code == 412
    form = {"message_id": str(second), "csrf_token": csrf.group(1), "version": version.group(1)}
    refused = page.post(f"/desk/tickets/{number}/split", data=form)
    assert refused.status_code == 409 and "Someone changed this ticket" in refused.text
    fresh = client.get(f"/api/v1/desk/tickets/{number}").headers["ETag"]
    done = client.post(
        f"/api/v1/desk/tickets/{number}/split",
        json={"message_id": second},
        headers={"If-Match": fresh},
    )
    assert done.status_code == 201
