"""Merging a ticket into another of the same requester through the staff API, on SQLite
and PostgreSQL: with the running pipeline (mail in and out, webhooks written), and each
refusal."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from router.vocabulary import AuditAction, Channel, Priority, Status
from store.models import AuditEvent, Message, SlaTimer, Ticket, WebhookEventRow
from tests.support.mail_desk import MailDesk, mail_desk
from tests.support.mail_samples import email_bytes
from tests.support.staff import DIRECTORY, PASSWORD, StaffDesk, staff_desk
from workers.desk.sign_in import set_password
from workers.desk.ticket_status import set_ticket_status
from workers.desk.webhooks import add_webhook, pause_webhook
from workers.runtime.processes import make_web_app

pytestmark = pytest.mark.integration

JO = "Jo Doe <jo@example.org>"


@pytest.fixture
def desk(database_url: str, tmp_path: Path) -> Iterator[MailDesk]:
    yield from mail_desk(database_url, tmp_path, **DIRECTORY)


def signed_in(desk: MailDesk, name: str) -> TestClient:
    set_password(desk.runtime, name, PASSWORD)
    client = TestClient(make_web_app(desk.runtime), base_url="http://desk.test")
    answer = client.post("/api/v1/session", json={"name": name, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
    return client


def test_a_merged_ticket_closes_its_messages_move_and_its_thread_lands_in_the_target(
    desk: MailDesk,
) -> None:
    hook = add_webhook(
        desk.runtime, "https://93.184.216.34/hooks", ["ticket.merged", "ticket.replied"]
    )
    pause_webhook(desk.runtime, hook.webhook.id)  # its deliveries are written, and wait
    first = email_bytes(sender=JO, subject="Printer on fire", message_id="<one@example.org>")
    source = desk.mail(first)
    target = desk.mail(email_bytes(sender=JO, subject="Printer burns", body="Still smoking."))
    assert source and target and source != target
    client = signed_in(desk, "sam")  # supervises support, where both are
    read = client.get(f"/api/v1/desk/tickets/{source}")
    merged = client.post(
        f"/api/v1/desk/tickets/{source}/merge",
        json={"into": target},
        headers={"If-Match": read.headers["ETag"]},
    )
    assert merged.status_code == 200, merged.text
    assert merged.json()["into"] == target and merged.json()["moved"] == 1
    assert merged.headers["ETag"] != read.headers["ETag"]
    desk.settle()

    old = client.get(f"/api/v1/desk/tickets/{source}").json()
    assert (old["status"], old["merged_into"], old["messages"]) == ("closed", target, [])
    new = client.get(f"/api/v1/desk/tickets/{target}").json()
    assert [(m["body_text"].strip(), m["merged_from"]) for m in new["messages"]] == [
        ("Smoke everywhere.", source),
        ("Still smoking.", None),
    ]
    assert "ticket.merged" in [e["action"] for e in old["audit"]]
    assert "ticket.merged_in" in [e["action"] for e in new["audit"]]
    with desk.runtime.db.unit_of_work() as uow:
        clocks = uow.session.scalars(select(SlaTimer).where(SlaTimer.ticket_id == source)).all()
        assert clocks and all(c.stopped_at is not None for c in clocks)
        [event] = uow.session.scalars(
            select(WebhookEventRow).where(WebhookEventRow.type == "ticket.merged")
        ).all()
        assert (event.ticket_id, event.data["source"], event.data["target"]) == (
            source,
            source,
            target,
        )
        assert event.data["ticket"]["status"] == "closed"

    # the requester's link of the merged ticket opens the other
    key = desk.ticket(source).access_key
    link = client.get(f"/api/v1/tickets/{source}", params={"key": key}, follow_redirects=False)
    assert link.status_code == 303
    assert link.headers["location"].startswith(f"/api/v1/tickets/{target}?key=")
    assert client.get(link.headers["location"]).json()["number"] == target
    assert client.get(f"/api/v1/tickets/{source}", params={"key": "wrong"}).status_code == 404

    # the requester is told in the thread they know, under the target's tag
    [told] = [m for m in desk.sender.to("jo@example.org") if "merged" in m.body_text]
    assert f"[#{target}]" in told.subject
    assert told.in_reply_to == "<one@example.org>"
    assert f"[#{source}]" in told.body_text and f"[#{target}]" in told.body_text

    # what comes later on the merged ticket's thread joins the target
    late = email_bytes(
        sender=JO,
        subject=f"Re: [#{source}] Printer on fire",
        body="It is out now.",
        in_reply_to="<one@example.org>",
        references=("<one@example.org>",),
    )
    assert desk.mail(late) == target
    answered = email_bytes(
        sender=JO, subject=told.subject, body="Thanks.", in_reply_to=told.message_id
    )
    assert desk.mail(answered) == target
    from_page = desk.submit(  # as the requester's page of the merged ticket posts it
        "page-late", ticket_number=source, subject="Printer on fire", body="From the page."
    )
    assert from_page == target
    tagged = email_bytes(sender=JO, subject=f"[#{source}] one more thing", body="Really.")
    assert desk.mail(tagged) == target
    with desk.runtime.db.unit_of_work() as uow:
        texts = uow.session.scalars(
            select(Message.body_text).where(Message.ticket_id == target).order_by(Message.id)
        ).all()
        assert [t.strip() for t in texts][-4:] == [
            "It is out now.",
            "Thanks.",
            "From the page.",
            "Really.",
        ]
        replied = uow.session.scalars(
            select(WebhookEventRow)
            .where(WebhookEventRow.type == "ticket.replied")
            .order_by(WebhookEventRow.id)
        ).all()
        assert replied[-1].data["message"]["text"].strip() == "Really."
        assert replied[-1].data["ticket"]["number"] == target


class Staff(StaffDesk):
    def runtime_ticket(self, number: int) -> Ticket:
        with self.runtime.db.unit_of_work() as uow:
            found = uow.session.get(Ticket, number)
            assert found is not None
            uow.session.expunge(found)
            return found


@pytest.fixture
def staff(database_url: str) -> Iterator[Staff]:
    with staff_desk(database_url) as made:
        yield Staff(runtime=made.runtime, app=made.app, clock=made.clock, clients=made.clients)


def other_requesters_ticket(staff: Staff) -> int:
    _, teams = staff.ids()
    with staff.runtime.db.unit_of_work() as uow:
        someone = uow.customers.identify(Channel.EMAIL, "kai@x.test", "Kai", staff.clock())
        return uow.tickets.create(
            subject="another question",
            channel=Channel.EMAIL,
            requester_id=someone.id,
            requester_address="kai@x.test",
            priority=Priority.NORMAL,
            category="general",
            team_id=teams["support"],
            now=staff.clock(),
        )


def merge(client: TestClient, source: int, into: Any, **headers: str) -> tuple[int, str]:
    answer = client.post(
        f"/api/v1/desk/tickets/{source}/merge", json={"into": into}, headers=headers
    )
    return answer.status_code, answer.text


def test_a_merge_is_refused_with_its_reason(staff: Staff) -> None:
    ana = staff.signed_in("ana")
    mine, other = staff.ticket("support", "ana"), staff.ticket("support", None)
    billing = staff.ticket("billing", None)  # jo's too, outside ana's scope
    theirs = other_requesters_ticket(staff)
    assert merge(ana, mine, mine)[0] == 409
    status, text = merge(ana, mine, theirs)
    assert status == 409 and "different requesters" in text
    assert merge(ana, mine, billing)[0] == 404  # as if it did not exist
    assert merge(ana, billing, mine)[0] == 404
    assert merge(ana, mine, 999_999)[0] == 404
    assert merge(ana, mine, "seven")[0] == 422
    stale = ana.get(f"/api/v1/desk/tickets/{mine}").headers["ETag"]
    ana.post(f"/api/v1/desk/tickets/{mine}/notes", json={"text": "looking"})
    assert merge(ana, mine, other, **{"If-Match": stale})[0] == 412
    closed = staff.ticket("support", "ana")
    set_ticket_status(staff.runtime, closed, Status.CLOSED)
    status, text = merge(ana, mine, closed)
    assert status == 409 and "closed" in text
    assert merge(ana, closed, mine)[0] == 409
    assert merge(ana, mine, other)[0] == 200
    status, text = merge(ana, mine, other)
    assert status == 409 and "merged into" in text
    third = staff.ticket("support", "ana")
    status, text = merge(ana, third, mine)
    assert status == 409 and "merged into" in text  # not into a merged one either
    with staff.runtime.db.unit_of_work() as uow:
        events = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.TICKET_MERGED)
        ).all()
        assert [(e.ticket_id, e.actor) for e in events] == [(mine, "agent:ana")]
        merged = uow.session.get(Ticket, mine)
        assert merged is not None and merged.merged_into_id == other


def test_the_ticket_page_merges_after_a_confirmation(staff: Staff) -> None:
    source, target = staff.ticket("support", "ana"), staff.ticket("support", "ana")
    client = staff.client()
    client.post("/desk/sign-in", data={"name": "ana", "password": PASSWORD})
    page = client.get(f"/desk/tickets/{source}")
    assert "Merge into another ticket" in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    version = re.search(r'name="version" value="([^"]+)"', page.text)
    assert csrf is not None and version is not None
    form = {"csrf_token": csrf.group(1), "version": version.group(1)}
    asked = client.post(f"/desk/tickets/{source}/merge", data={**form, "into": f"#{target}"})
    assert asked.status_code == 200
    assert f"Merge #{source} into #{target}?" in asked.text
    assert staff.runtime_ticket(source).merged_into_id is None  # nothing yet
    nobody = client.post(f"/desk/tickets/{source}/merge", data={**form, "into": "999999"})
    assert nobody.status_code == 404 and "there is no ticket #999999" in nobody.text
    itself = client.post(f"/desk/tickets/{source}/merge", data={**form, "into": str(source)})
    assert itself.status_code == 409 and "cannot be merged into itself" in itself.text
    unsigned = client.post(
        f"/desk/tickets/{source}/merge", data={"version": version.group(1), "into": str(target)}
    )
    assert unsigned.status_code == 403  # no CSRF token
    done = client.post(
        f"/desk/tickets/{source}/merge",
        data={**form, "into": str(target), "confirm": "1"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"].endswith(f"/desk/tickets/{target}?done=merged")
    landed = client.get(done.headers["location"])
    assert "Merged: the messages of the other ticket" in landed.text
    old = client.get(f"/desk/tickets/{source}")
    assert f"This ticket was merged into #{target}" in old.text
    assert "Merge into another ticket" not in old.text
    assert staff.runtime_ticket(source).merged_into_id == target


def test_a_stale_merge_form_changes_nothing_and_says_so(staff: Staff) -> None:
    source, target = staff.ticket("support", "ana"), staff.ticket("support", "ana")
    client = staff.client()
    client.post("/desk/sign-in", data={"name": "ana", "password": PASSWORD})
    page = client.get(f"/desk/tickets/{source}")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    version = re.search(r'name="version" value="([^"]+)"', page.text)
    assert csrf is not None and version is not None
    api = staff.signed_in("ana")
    api.post(f"/api/v1/desk/tickets/{source}/notes", json={"text": "meanwhile"})
    stale = client.post(
        f"/desk/tickets/{source}/merge",
        data={
            "csrf_token": csrf.group(1),
            "version": version.group(1),
            "into": str(target),
            "confirm": "1",
        },
    )
    assert stale.status_code == 409 and "Someone changed this ticket" in stale.text
    assert staff.runtime_ticket(source).merged_into_id is None
