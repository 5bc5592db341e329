"""Tickets in the staff API, through the real app on SQLite and PostgreSQL: the list (scope,
filters, sort, cursor pages, full-text search) and a ticket in full with its ETag."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from router.envelopes import AttachmentRef
from router.vocabulary import AuditAction, Channel, Direction, Priority
from store.models import SlaTimer, Ticket
from store.models.mail import Attachment
from tests.support.staff import StaffDesk, staff_desk

LIST = "/api/v1/desk/tickets"


@pytest.fixture
def desk(database_url: str, tmp_path: Path) -> Iterator[StaffDesk]:
    with staff_desk(database_url, relaydesk_email__attachments_dir=str(tmp_path)) as staff:
        yield staff


def edit(desk: StaffDesk, number: int, **values: Any) -> None:
    with desk.runtime.db.unit_of_work() as uow:
        ticket = uow.session.get(Ticket, number)
        assert ticket is not None
        for name, value in values.items():
            setattr(ticket, name, value)


def write(desk: StaffDesk, number: int, text: str, direction: Direction = Direction.INBOUND) -> int:
    with desk.runtime.db.unit_of_work() as uow:
        return uow.messages.add(
            number,
            direction=direction,
            channel=Channel.EMAIL,
            author="agent:ana" if direction is not Direction.INBOUND else "Jo <jo@x.test>",
            body_text=text,
            now=desk.clock(),
        )


def numbers(answer: Any) -> list[int]:
    assert answer.status_code == 200, answer.text
    return [t["number"] for t in answer.json()["tickets"]]


def test_a_list_shows_exactly_the_tickets_one_may_open(desk: StaffDesk) -> None:
    made = {
        "ana's": desk.ticket("support", "ana"),
        "support's": desk.ticket("support", None),
        "ben's": desk.ticket("support", "ben"),
        "billing's": desk.ticket("billing", None),
        "nobody's": desk.ticket(None, None),
    }
    for name, expected in {
        "ana": {"ana's", "support's"},
        "sam": {"ana's", "support's", "ben's"},  # supervises support
        "kim": {"billing's"},  # supervises billing
        "root": set(made),
    }.items():
        client = desk.with_token(name)
        listed = set(numbers(client.get(LIST)))
        assert listed == {made[k] for k in expected}, name
        openable = {n for n in made.values() if client.get(f"{LIST}/{n}").status_code == 200}
        assert openable == listed, name


def test_filters_narrow_the_list_each_by_any_of_its_values(desk: StaffDesk) -> None:
    a = desk.ticket("support", "ana")
    b = desk.ticket("support", None)
    c = desk.ticket("billing", None, channel=Channel.TELEGRAM)
    edit(desk, a, priority="urgent", priority_rank=Priority.URGENT.rank, tags=["vip", "printer"])
    edit(desk, b, category="billing", tags=["printer"])
    desk.clock.advance(hours=2)
    d = desk.ticket("billing", "kim")
    root = desk.with_token("root")
    assert numbers(root.get(LIST, params={"priority": "urgent"})) == [a]
    assert set(numbers(root.get(LIST, params={"tag": ["printer", "nope"]}))) == {a, b}
    assert numbers(root.get(LIST, params={"channel": "telegram"})) == [c]
    assert set(numbers(root.get(LIST, params={"team": "billing"}))) == {c, d}
    assert set(numbers(root.get(LIST, params={"assignee": ["ana", "kim"]}))) == {a, d}
    assert set(numbers(root.get(LIST, params={"unassigned": "true"}))) == {b, c}
    assert set(numbers(root.get(LIST, params={"status": "open"}))) == {a, d}
    assert numbers(root.get(LIST, params={"category": "billing"})) == [b]
    after = (desk.clock.now - timedelta(hours=1)).isoformat()
    assert numbers(root.get(LIST, params={"created_from": after})) == [d]
    assert set(numbers(root.get(LIST, params={"created_to": after}))) == {a, b, c}
    assert numbers(root.get(LIST, params={"updated_from": after, "team": "support"})) == []
    with desk.runtime.db.unit_of_work() as uow:
        customer = uow.session.get(Ticket, a).requester_id  # type: ignore[union-attr]
    assert set(numbers(root.get(LIST, params={"customer": customer}))) == {a, b, d}  # c: chat
    assert numbers(root.get(LIST, params={"customer": customer + 1})) == [c]
    assert root.get(LIST, params={"customer": 0}).status_code == 422


def test_sla_filters_find_the_breached_and_those_due_soon(desk: StaffDesk) -> None:
    breached, soon, later, none = (desk.ticket("support", None) for _ in range(4))
    now = desk.clock.now
    with desk.runtime.db.unit_of_work() as uow:
        for number, due, breached_at in (
            (breached, None, now - timedelta(minutes=5)),
            (soon, now + timedelta(minutes=20), None),
            (later, now + timedelta(hours=3), None),
        ):
            uow.session.add(
                SlaTimer(
                    ticket_id=number,
                    kind="first_response",
                    policy="p",
                    calendar="c",
                    target_s=3600.0,
                    warn_share=0.8,
                    consumed_s=0.0,
                    started_at=now - timedelta(hours=1),
                    running_since=now - timedelta(hours=1),
                    due_at=due,
                    breached_at=breached_at,
                )
            )
    root = desk.with_token("root")
    assert numbers(root.get(LIST, params={"breached": "true"})) == [breached]
    assert numbers(root.get(LIST, params={"due_within": 30})) == [soon]
    assert set(numbers(root.get(LIST, params={"due_within": 240}))) == {soon, later}
    rows = {t["number"]: t for t in root.get(LIST).json()["tickets"]}
    assert rows[breached]["breached"] and not rows[soon]["breached"]
    due = datetime.fromisoformat(rows[soon]["next_due_at"])
    assert due == now + timedelta(minutes=20)
    assert rows[none]["next_due_at"] is None


@pytest.mark.parametrize("sort", ["-updated", "created", "priority", "number", "-number"])
def test_cursor_pages_walk_the_whole_list_once_in_order(desk: StaffDesk, sort: str) -> None:
    made = []
    for i in range(7):
        number = desk.ticket("support", None)
        priority = list(Priority)[i % 4]
        edit(desk, number, priority=priority.value, priority_rank=priority.rank)
        made.append(number)
        desk.clock.advance(minutes=1 if i != 3 else 0)  # two tickets share an instant
    edit(desk, made[0], updated_at=desk.clock.now)
    root = desk.with_token("root")
    everything = numbers(root.get(LIST, params={"sort": sort, "limit": 100}))
    assert sorted(everything) == made
    walked, cursor = [], None
    while True:
        params: dict[str, Any] = {"sort": sort, "limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = root.get(LIST, params=params).json()
        walked += [t["number"] for t in page["tickets"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert walked == everything
    if sort == "number":
        assert walked == made
    if sort == "-updated":
        assert walked[0] == made[0]


def test_a_cursor_of_another_order_or_a_made_up_one_is_refused(desk: StaffDesk) -> None:
    for _ in range(3):
        desk.ticket("support", None)
    root = desk.with_token("root")
    cursor = root.get(LIST, params={"sort": "created", "limit": 1}).json()["next_cursor"]
    assert cursor
    assert root.get(LIST, params={"sort": "created", "cursor": cursor}).status_code == 200
    assert root.get(LIST, params={"sort": "number", "cursor": cursor}).status_code == 422
    for junk in ("x", "!!!", "W10", "WyJjcmVhdGVkIiwxLDJd", "eyJhIjoxfQ"):
        assert root.get(LIST, params={"cursor": junk}).status_code == 422, junk


def test_search_finds_words_in_subjects_and_in_messages_as_they_arrive(desk: StaffDesk) -> None:
    printer = desk.ticket("support", None)  # "printer on fire"
    other = desk.ticket("support", None)
    edit(desk, other, subject="Invoice for März")
    root = desk.with_token("root")
    assert numbers(root.get(LIST, params={"q": "printer"})) == [printer]
    assert numbers(root.get(LIST, params={"q": "FIRE printer"})) == [printer]
    assert numbers(root.get(LIST, params={"q": "printer invoice"})) == []
    assert numbers(root.get(LIST, params={"q": "toner"})) == []
    write(desk, other, "The toner cartridge leaks everywhere")
    assert numbers(root.get(LIST, params={"q": "toner"})) == [other]
    write(desk, printer, "escalated to facilities", Direction.INTERNAL)  # notes count too
    assert numbers(root.get(LIST, params={"q": "facilities"})) == [printer]
    assert numbers(root.get(LIST, params={"q": "März"})) == [other]
    edit(desk, other, subject="Refund request")
    assert numbers(root.get(LIST, params={"q": "refund"})) == [other]
    assert numbers(root.get(LIST, params={"q": "invoice"})) == []


def test_search_is_scoped_and_takes_any_text_without_failing(desk: StaffDesk) -> None:
    desk.ticket("billing", None)
    theirs = desk.ticket("support", "ben")
    ana, root = desk.with_token("ana"), desk.with_token("root")
    assert numbers(ana.get(LIST, params={"q": "printer"})) == []
    assert len(numbers(root.get(LIST, params={"q": "printer"}))) == 2
    assert numbers(root.get(LIST, params={"q": "printer", "assignee": "ben"})) == [theirs]
    for text in ('"', 'printer"', "AND (", "-", "*", "NEAR(a b)", "a:b", "'; --", "\x00", "🔥"):
        assert root.get(LIST, params={"q": text}).status_code == 200, text
    assert root.get(LIST, params={"q": "x" * 201}).status_code == 422
    ranked = root.get(LIST, params={"q": "printer", "sort": "relevance", "limit": 1})
    assert len(numbers(ranked)) == 1 and ranked.json()["next_cursor"]
    assert root.get(LIST, params={"sort": "relevance"}).status_code == 422  # nothing to rank


def test_a_ticket_in_full_has_notes_marked_files_clocks_reasons_and_an_etag(
    desk: StaffDesk,
) -> None:
    number = desk.ticket("support", "ana")
    inbound = write(desk, number, "It smokes.")
    write(desk, number, "call facilities", Direction.INTERNAL)
    with desk.runtime.db.unit_of_work() as uow:
        uow.session.add(
            Attachment(
                message_id=inbound,
                filename="smoke.jpg",
                content_type="image/jpeg",
                size=3,
                sha256="ab" * 32,
            )
        )
        uow.audit.record(
            ticket_id=number,
            actor="system:route",
            action=AuditAction.TICKET_ASSIGNED,
            detail="assigned to ana: skill printers>=1, load 0/5",
            now=desk.clock(),
        )
    ana = desk.signed_in("ana")
    answer = ana.get(f"{LIST}/{number}")
    assert answer.status_code == 200
    ticket = answer.json()
    assert answer.headers["etag"] == f'"{ticket["version"]}"'
    assert [(m["body_text"], m["internal"]) for m in ticket["messages"]] == [
        ("It smokes.", False),
        ("call facilities", True),
    ]
    [file] = ticket["messages"][0]["attachments"]
    assert (file["filename"], file["kept"], file["size"]) == ("smoke.jpg", True, 3)
    [reason] = ticket["assignment_reasons"]
    assert "skill printers>=1" in reason["detail"]
    assert (ticket["assignee"], ticket["team"], ticket["requester_name"]) == (
        "ana",
        "support",
        "Jo",
    )
    assert ticket["clocks"] == []
    write(desk, number, "any news?")
    again = ana.get(f"{LIST}/{number}")
    assert again.headers["etag"] != answer.headers["etag"]
    assert ana.get(f"{LIST}/{number}").headers["etag"] == again.headers["etag"]


def test_a_file_is_downloaded_with_the_scope_of_its_ticket(desk: StaffDesk) -> None:
    number, elsewhere = desk.ticket("support", "ana"), desk.ticket("billing", None)
    data = b"%PDF-1.4 invoice"
    with desk.runtime.db.unit_of_work() as uow:
        message = uow.messages.add(
            number,
            direction=Direction.INBOUND,
            channel=Channel.EMAIL,
            author="Jo <jo@x.test>",
            body_text="attached",
            now=desk.clock(),
            attachments=[
                AttachmentRef(
                    "Rechnung März.pdf", "application/pdf", 16, desk.runtime.files.put(data)
                ),
                AttachmentRef(
                    "huge.iso", "application/x-iso9660-image", 10**9, None, skipped="too big"
                ),
            ],
        )
        kept, skipped = (a.id for a in uow.messages.attachments(message))
    ana = desk.signed_in("ana")
    answer = ana.get(f"{LIST}/{number}/attachments/{kept}")
    assert answer.status_code == 200 and answer.content == data
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"] == (
        "attachment; filename=\"Rechnung M?rz.pdf\"; filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf"
    )
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert ana.get(f"{LIST}/{number}/attachments/{skipped}").status_code == 404
    assert ana.get(f"{LIST}/{elsewhere}/attachments/{kept}").status_code == 404  # not in scope
    root = desk.with_token("root")
    assert root.get(f"{LIST}/{elsewhere}/attachments/{kept}").status_code == 404  # not its file
    assert desk.with_token("kim").get(f"{LIST}/{number}/attachments/{kept}").status_code == 404


def test_a_read_with_the_etag_it_had_is_304_until_the_ticket_changes(desk: StaffDesk) -> None:
    number = desk.ticket("support", "ana")
    ana = desk.signed_in("ana")
    tag = ana.get(f"{LIST}/{number}").headers["ETag"]
    same = ana.get(f"{LIST}/{number}", headers={"If-None-Match": tag})
    assert (same.status_code, same.headers["ETag"], same.content) == (304, tag, b"")
    weak = ana.get(f"{LIST}/{number}", headers={"If-None-Match": f'"other", W/{tag}'})
    assert weak.status_code == 304
    assert ana.get(f"{LIST}/{number}", headers={"If-None-Match": '"other"'}).status_code == 200
    ana.post(f"{LIST}/{number}/notes", json={"text": "looking at it"})
    changed = ana.get(f"{LIST}/{number}", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag
    assert changed.json()["version"] == changed.headers["ETag"].strip('"')
    elsewhere = desk.ticket("billing", None)  # the scope first: 404 whatever the header
    assert ana.get(f"{LIST}/{elsewhere}", headers={"If-None-Match": "*"}).status_code == 404
