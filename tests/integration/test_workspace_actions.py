"""The ticket page's actions through the real app on SQLite and PostgreSQL: each form is
the API's action with the page's version (If-Match); a stale form writes nothing and the
page says what changed, keeping the text; the board assigns a waiting ticket."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from store.models import AuditEvent, Message, OutboxItem, Ticket
from tests.support.staff import PASSWORD, StaffDesk, staff_desk

pytestmark = pytest.mark.integration


@pytest.fixture
def desk(database_url: str) -> Iterator[StaffDesk]:
    with staff_desk(database_url) as staff:
        yield staff


def signed_in(desk: StaffDesk, name: str) -> TestClient:
    client = desk.client()
    assert client.post("/desk/sign-in", data={"name": name, "password": PASSWORD}).is_success
    return client


def form_of(html: str, action: str) -> dict[str, str]:
    """The hidden fields of the form posting to ``action``."""
    found = re.search(
        rf'<form method="post" action="{re.escape(action)}"[^>]*>(.*?)</form>', html, re.S
    )
    assert found is not None, action
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', found.group(1)))


def ticket_row(desk: StaffDesk, number: int) -> Ticket:
    with desk.runtime.db.unit_of_work() as uow:
        ticket = uow.session.get(Ticket, number)
        assert ticket is not None
        uow.session.expunge(ticket)
        return ticket


def test_a_reply_from_the_page_goes_out_and_sets_the_status_in_one_submit(
    desk: StaffDesk,
) -> None:
    number = desk.ticket("support", "ana")
    ana = signed_in(desk, "ana")
    page = ana.get(f"/desk/tickets/{number}").text
    fields = form_of(page, f"/desk/tickets/{number}/reply")
    sent = ana.post(
        f"/desk/tickets/{number}/reply",
        data={**fields, "text": "Replaced the fuse.", "status": "pending"},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text[:500]
    assert ticket_row(desk, number).status == "pending"
    with desk.runtime.db.unit_of_work() as uow:
        [reply] = uow.session.scalars(select(Message).where(Message.ticket_id == number)).all()
        assert reply.direction == "outbound" and "Replaced the fuse." in reply.body_text


def test_a_stale_form_writes_nothing_and_tells_what_changed_keeping_the_text(
    desk: StaffDesk,
) -> None:
    number = desk.ticket("support", "ana")
    ana, sam = signed_in(desk, "ana"), signed_in(desk, "sam")
    anas_form = form_of(ana.get(f"/desk/tickets/{number}").text, f"/desk/tickets/{number}/reply")
    sams_form = form_of(sam.get(f"/desk/tickets/{number}").text, f"/desk/tickets/{number}/note")
    assert sam.post(
        f"/desk/tickets/{number}/note", data={**sams_form, "text": "VIP customer, careful"}
    ).is_success
    late = ana.post(f"/desk/tickets/{number}/reply", data={**anas_form, "text": "My long answer"})
    assert late.status_code == 409
    assert "Someone changed this ticket while you were working on it." in late.text
    assert "agent:sam" in late.text and "note.added" in late.text  # what changed
    assert "My long answer</textarea>" in late.text  # the text is kept
    with desk.runtime.db.unit_of_work() as uow:
        directions = uow.session.scalars(
            select(Message.direction).where(Message.ticket_id == number)
        ).all()
    assert directions == ["internal"]  # the stale reply was not sent


def test_claim_status_and_field_edits_from_the_page(desk: StaffDesk) -> None:
    number = desk.ticket("support", None)
    ana = signed_in(desk, "ana")
    page = ana.get(f"/desk/tickets/{number}").text
    claimed = ana.post(
        f"/desk/tickets/{number}/claim", data=form_of(page, f"/desk/tickets/{number}/claim")
    )
    assert claimed.is_success and ticket_row(desk, number).assignee_id is not None
    page = claimed.text
    edited = ana.post(
        f"/desk/tickets/{number}/fields",
        data={
            **form_of(page, f"/desk/tickets/{number}/fields"),
            "priority": "high",
            "category": "general",
            "tags": "printer, fire",
        },
    )
    assert edited.is_success
    row = ticket_row(desk, number)
    assert (row.priority, row.tags) == ("high", ["printer", "fire"])
    no_csrf = ana.post(f"/desk/tickets/{number}/status", data={"status": "resolved"})
    assert no_csrf.status_code == 403 and ticket_row(desk, number).status != "resolved"


def test_a_supervisor_assigns_a_waiting_ticket_from_the_board(desk: StaffDesk) -> None:
    number = desk.ticket("support", None)
    sam = signed_in(desk, "sam")
    board = sam.get("/desk/board").text
    fields = form_of(board, f"/desk/tickets/{number}/assign")
    assert fields["back"] == "board"
    done = sam.post(
        f"/desk/tickets/{number}/assign", data={**fields, "agent": "ben"}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == "/desk/board?done=assign"
    agents, _ = desk.ids()
    assert ticket_row(desk, number).assignee_id == agents["ben"]
    with desk.runtime.db.unit_of_work() as uow:
        [event] = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "ticket.assigned")
        ).all()
        assert event.actor == "agent:sam" and "from the board" in event.detail
    ana = signed_in(desk, "ana")  # an agent may not assign
    other = desk.ticket("support", None)
    refused = ana.post(
        f"/desk/tickets/{other}/assign",
        data={
            **form_of(ana.get(f"/desk/tickets/{other}").text, f"/desk/tickets/{other}/claim"),
            "agent": "ben",
        },
    )
    assert refused.status_code == 403


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201a5d4e5d40000000049454e44ae426082"
)


def test_a_reply_from_the_page_carries_its_files_and_sets_pending(desk: StaffDesk) -> None:
    number = desk.ticket("support", "ana")
    ana = signed_in(desk, "ana")
    fields = form_of(ana.get(f"/desk/tickets/{number}").text, f"/desk/tickets/{number}/reply")
    sent = ana.post(
        f"/desk/tickets/{number}/reply",
        data={**fields, "text": "The wiring diagram.", "status": "pending"},
        files=[
            ("files", ("diagram.png", PNG, "image/png")),
            ("files", ("steps.txt", b"1. unplug\n2. wait\n", "text/plain")),
        ],
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text[:500]
    assert ticket_row(desk, number).status == "pending"
    with desk.runtime.db.unit_of_work() as uow:
        [reply] = uow.session.scalars(select(Message).where(Message.ticket_id == number)).all()
        kept = sorted((a.filename, a.content_type, a.size) for a in reply.attachments)
        [mail] = uow.session.scalars(
            select(OutboxItem).where(OutboxItem.ticket_id == number, OutboxItem.kind == "reply")
        ).all()
        payload = str(mail.payload)
    assert kept == [("diagram.png", "image/png", len(PNG)), ("steps.txt", "text/plain", 18)]
    assert "diagram.png" in payload and "steps.txt" in payload  # they go with the mail
    page = ana.get(f"/desk/tickets/{number}").text
    assert 'alt="diagram.png"' in page  # the picture previewed on the page


def test_a_reply_with_a_refused_file_sends_nothing_and_keeps_the_text(desk: StaffDesk) -> None:
    number = desk.ticket("support", "ana")
    ana = signed_in(desk, "ana")
    fields = form_of(ana.get(f"/desk/tickets/{number}").text, f"/desk/tickets/{number}/reply")
    executable = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(200)
    refused = ana.post(
        f"/desk/tickets/{number}/reply",
        data={**fields, "text": "Run this tool", "status": "pending"},
        files=[("files", ("tool.pdf", executable, "application/pdf"))],
    )
    assert refused.status_code == 422
    assert "tool.pdf is a kind of file the desk does not send" in refused.text
    assert "Run this tool</textarea>" in refused.text
    too_many = ana.post(
        f"/desk/tickets/{number}/reply",
        data={**fields, "text": "Six files"},
        files=[("files", (f"f{i}.txt", b"text", "text/plain")) for i in range(6)],
    )
    assert too_many.status_code == 422 and "Attach at most 5 files" in too_many.text
    no_csrf = ana.post(
        f"/desk/tickets/{number}/reply",
        data={"text": "hi", "version": fields["version"]},
        files=[("files", ("a.txt", b"text", "text/plain"))],
    )
    assert no_csrf.status_code == 403
    with desk.runtime.db.unit_of_work() as uow:
        assert uow.session.scalars(select(Message).where(Message.ticket_id == number)).all() == []
    assert ticket_row(desk, number).status == "open"


def test_a_macro_chosen_in_the_reply_form_goes_with_its_files_and_changes_in_one_submit(
    desk: StaffDesk,
) -> None:
    number = desk.ticket("support", "ana")
    ana = signed_in(desk, "ana")
    page = ana.get(f"/desk/tickets/{number}").text
    assert f'data-text="Hello Jo, thanks for writing about #{number}. ana"' in page
    fields = form_of(page, f"/desk/tickets/{number}/reply")
    sent = ana.post(
        f"/desk/tickets/{number}/reply",
        data={**fields, "macro": "on-it", "text": ""},
        files=[("files", ("diagram.png", PNG, "image/png"))],
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text[:500]
    assert sent.headers["location"].endswith("?done=macro")
    assert ticket_row(desk, number).status == "pending"  # the macro's status
    with desk.runtime.db.unit_of_work() as uow:
        [reply] = uow.session.scalars(select(Message).where(Message.ticket_id == number)).all()
        assert "Hello Jo, I am on it. ana" in reply.body_text
        assert [a.filename for a in reply.attachments] == ["diagram.png"]
        [applied] = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "macro.applied")
        ).all()
        assert applied.actor == "agent:ana" and applied.data["files"] == ["diagram.png"]
    # the agent's own words with a macro: sent instead of its text, its changes made
    other = desk.ticket("support", "ana")
    fields = form_of(ana.get(f"/desk/tickets/{other}").text, f"/desk/tickets/{other}/reply")
    assert ana.post(
        f"/desk/tickets/{other}/reply",
        data={**fields, "macro": "on-it", "text": "Looking now, Jo.", "status": "open"},
    ).is_success
    assert ticket_row(desk, other).status == "open"  # the form's status wins
    with desk.runtime.db.unit_of_work() as uow:
        [reply] = uow.session.scalars(select(Message).where(Message.ticket_id == other)).all()
        assert "Looking now, Jo." in reply.body_text and "I am on it" not in reply.body_text
