"""What staff do to a ticket through the staff API, on SQLite and PostgreSQL: each action is
the desk's use case (the same message, outbox row and audit event as the command line),
recorded with the caller and their address; If-Match guards against unseen changes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from connectors.email.outbound import FileSender
from router.envelopes import OutboundMessage
from router.vocabulary import AuditAction, Channel, Priority
from store.models import AuditEvent, Message, OutboxItem, SlaTimer, Ticket
from tests.support.staff import StaffDesk, staff_desk
from workers.desk.sla_clocks import start_clocks

T = "/api/v1/desk/tickets/{}"


@pytest.fixture
def desk(database_url: str, tmp_path: Path) -> Iterator[StaffDesk]:
    files = str(tmp_path / "files")
    with staff_desk(database_url, relaydesk_email__attachments_dir=files) as staff:
        yield staff


def events(desk: StaffDesk, number: int, action: AuditAction) -> list[AuditEvent]:
    with desk.runtime.db.unit_of_work() as uow:
        query = select(AuditEvent).where(
            AuditEvent.ticket_id == number, AuditEvent.action == action.value
        )
        return list(uow.session.scalars(query))


def ticket(desk: StaffDesk, number: int) -> Ticket:
    with desk.runtime.db.unit_of_work() as uow:
        found = uow.session.get(Ticket, number)
        assert found is not None
        uow.session.expunge(found)
        return found


def etag(client: Any, number: int) -> str:
    return str(client.get(T.format(number)).headers["etag"])


def test_a_reply_goes_to_the_requester_and_is_audited_with_the_token_and_address(
    desk: StaffDesk,
) -> None:
    number = desk.ticket("support", "ana")
    client = desk.with_token("ana", address="198.51.100.23")
    before = etag(client, number)
    answer = client.post(T.format(number) + "/replies", json={"text": "Unplug it, please."})
    assert answer.status_code == 201, answer.text
    assert answer.headers["etag"] == f'"{answer.json()["version"]}"' != before
    with desk.runtime.db.unit_of_work() as uow:
        [message] = uow.session.scalars(select(Message).where(Message.ticket_id == number))
        [queued] = uow.session.scalars(select(OutboxItem).where(OutboxItem.ticket_id == number))
        assert (message.direction, message.author) == ("outbound", "agent:ana")
        assert "Unplug it, please." in message.body_text
        assert queued.recipient == "jo@x.test"
    [replied] = events(desk, number, AuditAction.MESSAGE_REPLIED)
    assert replied.actor == "agent:ana"
    origin = replied.data["origin"]
    assert (origin["via"], origin["address"]) == ("token", "198.51.100.23")
    assert origin["token_id"] > 0


def test_a_note_stays_inside_and_tells_the_agents_it_mentions(desk: StaffDesk) -> None:
    number = desk.ticket("support", "ana")
    client = desk.signed_in("ana")
    answer = client.post(T.format(number) + "/notes", json={"text": "@ben seen this?"})
    assert answer.status_code == 201, answer.text
    full = client.get(T.format(number)).json()
    assert [(m["body_text"], m["internal"]) for m in full["messages"]] == [
        ("@ben seen this?", True)
    ]
    with desk.runtime.db.unit_of_work() as uow:
        queued = list(uow.session.scalars(select(OutboxItem).where(OutboxItem.ticket_id == number)))
    assert [q.recipient for q in queued] == ["ben@x.test"]  # the mention, nothing to jo
    [noted] = events(desk, number, AuditAction.NOTE_ADDED)
    assert noted.data["origin"]["via"] == "session"


def test_a_reply_and_a_note_answer_with_the_version_a_read_gives_after_them(
    desk: StaffDesk,
) -> None:
    number = desk.ticket("support", "ana")
    client = desk.with_token("ana")
    version = etag(client, number)
    for path, text in (("/replies", "Unplug it."), ("/notes", "@ben"), ("/replies", "Done?")):
        # each answered on the version the last one gave (its ETag, made in its transaction)
        answer = client.post(
            T.format(number) + path, json={"text": text}, headers={"If-Match": version}
        )
        assert answer.status_code == 201, answer.text
        assert answer.headers["etag"] != version
        version = answer.headers["etag"]
        assert etag(client, number) == version == f'"{answer.json()["version"]}"'
    with_status = client.post(
        T.format(number) + "/replies",
        json={"text": "Solved.", "status": "resolved"},
        headers={"If-Match": version},
    )
    assert with_status.status_code == 201, with_status.text
    assert etag(client, number) == with_status.headers["etag"] != version


def test_if_match_refuses_a_change_made_on_an_older_read(desk: StaffDesk) -> None:
    number = desk.ticket("support", "ana")
    ana, sam = desk.signed_in("ana"), desk.with_token("sam")
    seen = etag(ana, number)
    assert sam.patch(T.format(number), json={"priority": "high"}).status_code == 200
    late = ana.put(
        T.format(number) + "/status", json={"status": "pending"}, headers={"If-Match": seen}
    )
    assert late.status_code == 412, late.text
    assert ticket(desk, number).status == "open"  # nothing written
    fresh = etag(ana, number)
    done = ana.put(
        T.format(number) + "/status",
        json={"status": "pending", "reason": "asked for the model"},
        headers={"If-Match": fresh},
    )
    assert done.status_code == 200, done.text
    assert ticket(desk, number).status == "pending"
    [moved] = events(desk, number, AuditAction.TICKET_STATUS)
    assert moved.detail == "open -> pending: asked for the model"
    assert ana.post(T.format(number) + "/notes", json={"text": "x"}, headers={"If-Match": "*"})
    stale_note = ana.post(
        T.format(number) + "/notes", json={"text": "y"}, headers={"If-Match": fresh}
    )
    assert stale_note.status_code == 412
    assert ana.put(T.format(number) + "/status", json={"status": "new"}).status_code == 409


def test_a_supervisor_assigns_transfers_and_unassigns_and_an_agent_claims(
    desk: StaffDesk,
) -> None:
    number = desk.ticket("support", None)
    sam, ana = desk.with_token("sam"), desk.signed_in("ana")
    assert ana.post(T.format(number) + "/assign", json={"agent": "ben"}).status_code == 403
    assert sam.post(T.format(number) + "/assign", json={"agent": "ben"}).status_code == 200
    assert ticket(desk, number).assignee_id is not None
    assert ana.post(T.format(number) + "/claim").status_code == 404  # ben's now: not in scope
    unassigned = sam.post(T.format(number) + "/unassign", json={"reason": "ben is out"})
    assert unassigned.status_code == 200, unassigned.text
    agents, _ = desk.ids()
    assert ticket(desk, number).assignee_id == agents["ana"]  # its queue drained: passed on
    other = desk.ticket("support", None)
    claimed = ana.post(T.format(other) + "/claim")
    assert claimed.status_code == 200, claimed.text
    assert ana.post(T.format(other) + "/claim").status_code == 409  # taken (by ana)
    moved = sam.post(T.format(other) + "/transfer", json={"team": "billing", "reason": "invoice"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["version"] is None  # billing's now: out of sam's scope
    assert "etag" not in moved.headers
    assert sam.get(T.format(other)).status_code == 404
    actors = [
        (e.action, e.actor)
        for e in desk_events(desk, number) + desk_events(desk, other)
        if e.action.startswith("ticket.")
    ]
    assert actors == [
        ("ticket.assigned", "agent:sam"),
        ("ticket.unassigned", "agent:sam"),
        ("ticket.assigned", "system:route"),
        ("ticket.claimed", "agent:ana"),
        ("ticket.transferred", "agent:sam"),
    ]
    refused = sam.post(T.format(desk.ticket("support", None)) + "/assign", json={"agent": "zed"})
    assert refused.status_code == 422


def desk_events(desk: StaffDesk, number: int) -> list[AuditEvent]:
    with desk.runtime.db.unit_of_work() as uow:
        return uow.audit.for_ticket(number)


def test_a_priority_change_plans_the_clocks_again_under_the_policy_that_now_matches(
    desk: StaffDesk,
) -> None:
    number = desk.ticket("support", "ana")
    with desk.runtime.db.unit_of_work() as uow:
        start_clocks(
            desk.runtime,
            uow,
            number,
            priority=Priority.NORMAL,
            category="general",
            team="support",
            tier=None,
            channel=Channel.EMAIL,
            now=desk.clock(),
        )
    desk.clock.advance(minutes=10)
    client = desk.with_token("ana")
    answer = client.patch(
        T.format(number),
        json={"priority": "urgent", "tags": ["vip", "vip", "printer"], "custom_fields": {"a": 1}},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["changed"] == ["priority", "tags", "custom_fields"]
    with desk.runtime.db.unit_of_work() as uow:
        timers = {t.kind: t for t in uow.session.scalars(select(SlaTimer))}
        edited = uow.session.get(Ticket, number)
        assert edited is not None
        assert (edited.priority, edited.priority_rank) == ("urgent", Priority.URGENT.rank)
        assert (edited.tags, edited.custom_fields) == (["vip", "printer"], {"a": 1})
    first = timers["first_response"]
    assert (first.policy, first.target_s, first.calendar) == ("urgent", 1800.0, "24x7")
    assert first.due_at is not None and first.due_at == first.started_at + _minutes(30)
    [change] = events(desk, number, AuditAction.TICKET_EDITED)
    assert change.detail.startswith("priority normal -> urgent; tags - -> vip, printer")
    assert change.data["changes"]["priority"] == {"before": "normal", "after": "urgent"}
    again = client.patch(T.format(number), json={"custom_fields": {"a": None}})
    assert again.json()["changed"] == ["custom_fields"]
    assert client.patch(T.format(number), json={"tags": ["a b"]}).status_code == 422
    assert client.patch(T.format(number), json={"team": "nope"}).status_code == 422


def _minutes(n: int) -> Any:
    from datetime import timedelta

    return timedelta(minutes=n)


def test_a_team_its_agent_is_not_in_puts_the_ticket_in_that_teams_queue(
    desk: StaffDesk,
) -> None:
    number = desk.ticket("support", "ana")
    answer = desk.with_token("ana").patch(
        T.format(number), json={"team": "billing", "reason": "an invoice question"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["version"] is None  # out of ana's scope now
    edited = ticket(desk, number)
    agents, teams = desk.ids()
    assert edited.team_id == teams["billing"]
    assert edited.assignee_id != agents["ana"]
    [change] = events(desk, number, AuditAction.TICKET_EDITED)
    assert change.data["taken_from"] == "ana"
    assert change.detail.endswith(", taken from ana: an invoice question")


PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def upload(client: Any, number: int, name: str, data: bytes) -> Any:
    return client.post(f"/api/v1/desk/uploads/{number}", files={"file": (name, data)})


def test_a_reply_with_files_attaches_them_to_the_mail_it_sends(
    desk: StaffDesk, tmp_path: Path
) -> None:
    number = desk.ticket("support", "ana")
    ana = desk.with_token("ana")
    kept = upload(ana, number, "quote.pdf", PDF)
    assert kept.status_code == 201, kept.text
    assert kept.json()["content_type"] == "application/pdf" and kept.json()["size"] == len(PDF)
    files = [{"sha256": kept.json()["sha256"], "filename": "Angebot März.pdf"}]
    answer = ana.post(T.format(number) + "/replies", json={"text": "The quote.", "files": files})
    assert answer.status_code == 201, answer.text
    with desk.runtime.db.unit_of_work() as uow:
        [row] = uow.session.scalars(select(OutboxItem).where(OutboxItem.ticket_id == number))
        message = OutboundMessage.from_payload(row.payload)
    sender = FileSender(tmp_path / "out", desk.runtime.settings.helpdesk, desk.runtime.files.read)
    sender.send(message)
    [eml] = (tmp_path / "out").iterdir()
    mail = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
    [attached] = list(mail.iter_attachments())
    assert attached.get_filename() == "Angebot März.pdf"
    assert attached.get_content_type() == "application/pdf"
    assert attached.get_content() == PDF
    shown = ana.get(T.format(number)).json()["messages"][-1]["attachments"]
    assert [(f["filename"], f["size"], f["kept"]) for f in shown] == [
        ("Angebot März.pdf", len(PDF), True)
    ]


def test_a_chat_customer_gets_each_file_as_a_document_after_the_text(desk: StaffDesk) -> None:
    number = desk.ticket("support", "ana", channel=Channel.TELEGRAM)
    ana = desk.signed_in("ana")
    sha = upload(ana, number, "a.pdf", PDF).json()["sha256"]
    files = [{"sha256": sha, "filename": "a.pdf"}, {"sha256": sha, "filename": "b.pdf"}]
    assert ana.post(T.format(number) + "/replies", json={"text": "two", "files": files}).is_success
    with desk.runtime.db.unit_of_work() as uow:
        rows = list(uow.session.scalars(select(OutboxItem).where(OutboxItem.ticket_id == number)))
    assert [r.kind for r in rows] == ["reply", "reply_file", "reply_file"]
    documents = [OutboundMessage.from_payload(r.payload) for r in rows[1:]]
    assert [(d.chat_action, d.attachments[0].filename) for d in documents] == [
        ("document", "a.pdf"),
        ("document", "b.pdf"),
    ]


def test_uploads_are_refused_by_type_size_and_emptiness_and_unknown_files_by_name(
    desk: StaffDesk,
) -> None:
    number = desk.ticket("support", "ana")
    ana = desk.with_token("ana")
    assert upload(ana, number, "run.pdf", b"MZ\x90\x00\x03" + bytes(200)).status_code == 422
    assert upload(ana, number, "empty.txt", b"").status_code == 422
    assert upload(ana, desk.ticket("billing", None), "a.pdf", PDF).status_code == 404
    unknown = [{"sha256": "0" * 64, "filename": "x.pdf"}]
    refused = ana.post(T.format(number) + "/replies", json={"text": "x", "files": unknown})
    assert refused.status_code == 422 and "upload it first" in refused.text
    with desk.runtime.db.unit_of_work() as uow:
        assert list(uow.session.scalars(select(OutboxItem))) == []  # nothing went out


def test_two_agents_editing_from_the_same_read_never_both_win(desk: StaffDesk) -> None:
    number = desk.ticket("support", "ana")
    clients = [desk.with_token("ana"), desk.with_token("sam")]
    seen = etag(clients[0], number)
    start = threading.Barrier(len(clients))
    answers: list[int] = []

    def edit(client: Any, priority: str) -> None:
        start.wait()
        answer = client.patch(
            T.format(number), json={"priority": priority}, headers={"If-Match": seen}
        )
        answers.append(answer.status_code)

    threads = [
        threading.Thread(target=edit, args=(client, priority))
        for client, priority in zip(clients, ("high", "low"), strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [200, 412]
    assert len(events(desk, number, AuditAction.TICKET_EDITED)) == 1
