"""Macros applied through the staff API on SQLite and PostgreSQL: the reply goes out on the
requester's channel with its placeholders filled, the status and team follow, all audited
as the macro; a macro that does not exist, or a ticket that cannot take it, sends nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from router.vocabulary import Status
from store.models import AuditEvent, Message, OutboxItem, Ticket
from tests.support.staff import StaffDesk, staff_desk
from workers.desk.ticket_status import set_ticket_status

pytestmark = pytest.mark.integration


@pytest.fixture
def desk(database_url: str) -> Iterator[StaffDesk]:
    with staff_desk(database_url) as staff:
        yield staff


def outgoing(desk: StaffDesk, number: int) -> list[OutboxItem]:
    with desk.runtime.db.unit_of_work() as uow:
        return list(uow.session.scalars(select(OutboxItem).where(OutboxItem.ticket_id == number)))


def test_a_macro_replies_sets_its_status_and_team_audited_as_the_macro(desk: StaffDesk) -> None:
    number = desk.ticket("support", "ana")
    client = desk.signed_in("ana")
    listed = client.get("/api/v1/macros").json()
    assert [m["name"] for m in listed] == ["thanks", "reset", "on-it"]
    assert listed[1]["status"] == "pending" and listed[1]["team"] == "billing"

    answer = client.post(f"/api/v1/desk/tickets/{number}/macro", json={"macro": "reset"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["text"] == "Reset done, Jo."

    with desk.runtime.db.unit_of_work() as uow:
        ticket = uow.session.get(Ticket, number)
        assert ticket is not None
        assert (ticket.status, ticket.team.name if ticket.team else None) == ("pending", "billing")
        [reply] = uow.session.scalars(select(Message).where(Message.ticket_id == number)).all()
        assert reply.direction == "outbound" and "Reset done, Jo." in reply.body_text
        [applied] = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "macro.applied")
        ).all()
        assert applied.actor == "agent:ana" and applied.data["macro"] == "reset"
        assert applied.data["origin"]["via"] == "session"
    [mail] = [o for o in outgoing(desk, number) if o.kind == "reply"]
    assert mail.recipient == "jo@x.test" and "Reset done, Jo." in str(mail.payload)


def test_placeholders_name_the_requester_the_ticket_and_the_agent(desk: StaffDesk) -> None:
    number = desk.ticket("support", None)
    answer = desk.signed_in("sam").post(
        f"/api/v1/desk/tickets/{number}/macro", json={"macro": "thanks"}
    )
    assert answer.json()["text"] == f"Hello Jo, thanks for writing about #{number}. Sam Novak"


def test_an_unknown_macro_or_a_ticket_that_cannot_take_it_sends_nothing(desk: StaffDesk) -> None:
    number = desk.ticket("support", "ana")
    client = desk.signed_in("ana")
    missing = client.post(f"/api/v1/desk/tickets/{number}/macro", json={"macro": "nope"})
    assert missing.status_code == 404
    set_ticket_status(desk.runtime, number, Status.CLOSED)
    closed = client.post(f"/api/v1/desk/tickets/{number}/macro", json={"macro": "reset"})
    assert closed.status_code == 409
    assert [o for o in outgoing(desk, number) if o.kind == "reply"] == []
