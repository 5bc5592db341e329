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


ESCALATE = {
    "name": "escalate-vpn",
    "title": "Escalate to billing",
    "body": "Hello {requester_name}, billing takes #{ticket_number} from here.",
    "status": "pending",
    "priority": "high",
    "tags": ["vpn", "escalated"],
    "team": "billing",
}


def test_an_admin_keeps_macros_through_the_api_and_the_configs_stay_read_only(
    desk: StaffDesk,
) -> None:
    root, ana = desk.signed_in("root"), desk.signed_in("ana")
    assert ana.post("/api/v1/macros", json=ESCALATE).status_code == 403
    made = root.post("/api/v1/macros", json=ESCALATE)
    assert made.status_code == 201, made.text
    listed = {m["name"]: m for m in ana.get("/api/v1/macros").json()}
    assert listed["thanks"]["source"] == "config"
    assert listed["escalate-vpn"] == {**ESCALATE, "source": "api"}
    assert root.post("/api/v1/macros", json=ESCALATE).status_code == 409  # taken
    assert root.post("/api/v1/macros", json={**ESCALATE, "name": "thanks"}).status_code == 409
    assert root.put("/api/v1/macros/thanks", json={**ESCALATE, "name": "thanks"}).status_code == 409
    assert root.delete("/api/v1/macros/thanks").status_code == 409
    unknown = {**ESCALATE, "name": "x", "body": "Hi {customer}"}
    assert root.post("/api/v1/macros", json=unknown).status_code == 422
    assert (
        root.post("/api/v1/macros", json={**ESCALATE, "name": "y", "team": "nope"}).status_code
        == 422
    )
    changed = root.put("/api/v1/macros/escalate-vpn", json={**ESCALATE, "title": "To billing"})
    assert changed.status_code == 200 and changed.json()["title"] == "To billing"
    assert ana.put("/api/v1/macros/escalate-vpn", json=ESCALATE).status_code == 403
    assert root.delete("/api/v1/macros/escalate-vpn").status_code == 204
    assert root.delete("/api/v1/macros/escalate-vpn").status_code == 404
    assert "escalate-vpn" not in {m["name"] for m in ana.get("/api/v1/macros").json()}


def test_a_kept_macro_changes_every_field_with_its_reply_in_one_action(desk: StaffDesk) -> None:
    assert desk.signed_in("root").post("/api/v1/macros", json=ESCALATE).status_code == 201
    number = desk.ticket("support", "ana")
    ana = desk.signed_in("ana")
    upload = ana.post(
        f"/api/v1/desk/uploads/{number}", files={"file": ("log.txt", b"vpn: refused\n")}
    )
    assert upload.status_code == 201, upload.text
    etag = ana.get(f"/api/v1/desk/tickets/{number}").headers["ETag"]
    stale = ana.post(
        f"/api/v1/desk/tickets/{number}/macro",
        json={"macro": "escalate-vpn"},
        headers={"If-Match": '"0-stale"'},
    )
    assert stale.status_code == 412
    applied = ana.post(
        f"/api/v1/desk/tickets/{number}/macro",
        json={
            "macro": "escalate-vpn",
            "text": "Hello Jo, billing will call you today.",
            "files": [{"sha256": upload.json()["sha256"], "filename": "log.txt"}],
        },
        headers={"If-Match": etag},
    )
    assert applied.status_code == 200, applied.text
    assert applied.json()["files"] == ["log.txt"]
    with desk.runtime.db.unit_of_work() as uow:
        ticket = uow.session.get(Ticket, number)
        assert ticket is not None
        assert (ticket.status, ticket.priority, ticket.tags) == (
            "pending",
            "high",
            ["vpn", "escalated"],
        )
        assert ticket.team is not None and ticket.team.name == "billing"
        assert ticket.assignee_id is None  # ana is not in billing: back to its queue
        [reply] = uow.session.scalars(select(Message).where(Message.ticket_id == number)).all()
        assert reply.body_text.startswith("Hello Jo, billing will call you today.")
        assert [a.filename for a in reply.attachments] == ["log.txt"]
        events = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.ticket_id == number).order_by(AuditEvent.id)
        ).all()
        [macro] = [e for e in events if e.action == "macro.applied"]
        assert macro.detail == (
            "macro escalate-vpn: reply with 1 file(s), status pending, priority high, "
            "tags +vpn +escalated, team billing"
        )
        assert macro.data["source"] == "api" and macro.data["edited_text"] is True
        assert {e.action for e in events if e.actor == "agent:ana"} == {
            "message.replied",
            "ticket.edited",
            "ticket.status",
            "macro.applied",
        }
    [mail] = [o for o in outgoing(desk, number) if o.kind == "reply"]
    assert "log.txt" in str(mail.payload)
