"""Every mail the desk sends on a ticket threads under the conversation the requester has.

In-Reply-To names the requester's latest message that has an id, else the latest
mail of ours (the acknowledgement included); References carries the whole chain,
the requester's own earlier References first.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from router.vocabulary import Status
from tests.support.mail_desk import MailDesk, mail_desk
from tests.support.mail_samples import email_bytes
from workers.desk.replies import answer_ticket
from workers.desk.ticket_status import set_ticket_status

pytestmark = pytest.mark.integration


@pytest.fixture
def desk(database_url: str, tmp_path: Path) -> Iterator[MailDesk]:
    yield from mail_desk(database_url, tmp_path)


def _without_message_id(**kw: object) -> bytes:
    raw = email_bytes(**kw)  # type: ignore[arg-type]
    head, _, body = raw.partition(b"\n\n")
    kept = [line for line in head.split(b"\n") if not line.lower().startswith(b"message-id:")]
    return b"\n".join(kept) + b"\n\n" + body


def _replies(desk: MailDesk, address: str = "jo@example.org") -> list:
    return [m for m in desk.sender.to(address) if not m.automatic]


def test_an_agent_reply_to_mail_without_a_message_id_threads_under_the_acknowledgement(
    desk: MailDesk,
) -> None:
    number = desk.mail(_without_message_id())
    (ack,) = desk.sender.to("jo@example.org")
    assert ack.in_reply_to is None  # nothing to answer: the mail named no id
    answer_ticket(desk.runtime, number, "ana", "Please try again now.")
    desk.settle()
    (reply,) = _replies(desk)
    assert reply.in_reply_to == ack.message_id
    assert reply.references == (ack.message_id,)


def test_an_agent_reply_on_a_web_ticket_threads_under_its_acknowledgement(desk: MailDesk) -> None:
    number = desk.submit("web-1", subject="Cannot log in")
    (ack,) = desk.sender.to("jo@example.org")
    answer_ticket(desk.runtime, number, "ana", "Reset it for you.")
    desk.settle()
    (reply,) = _replies(desk)
    assert reply.subject == f"Re: [#{number}] Cannot log in"
    assert reply.in_reply_to == ack.message_id
    assert reply.references == (ack.message_id,)


def test_a_second_reply_answers_the_customers_latest_message_and_references_them_all(
    desk: MailDesk,
) -> None:
    number = desk.mail(email_bytes(message_id="<q1@example.org>"))
    (ack,) = desk.sender.to("jo@example.org")
    answer_ticket(desk.runtime, number, "ana", "Which browser?")
    desk.settle()
    (first,) = _replies(desk)
    assert first.in_reply_to == "<q1@example.org>"
    assert first.references == ("<q1@example.org>", ack.message_id)
    follow_up = email_bytes(
        message_id="<q2@example.org>",
        subject=f"Re: {first.subject}",
        in_reply_to=first.message_id,
        references=("<q1@example.org>", ack.message_id, first.message_id),
    )
    assert desk.mail(follow_up) == number
    answer_ticket(desk.runtime, number, "ana", "Try Firefox.")
    desk.settle()
    second = _replies(desk)[-1]
    assert second.in_reply_to == "<q2@example.org>"
    assert second.references == (
        "<q1@example.org>",
        ack.message_id,
        first.message_id,
        "<q2@example.org>",
    )


def test_a_reply_after_a_customer_message_without_an_id_answers_our_latest_mail(
    desk: MailDesk,
) -> None:
    number = desk.mail(_without_message_id())
    answer_ticket(desk.runtime, number, "ana", "Which browser?")
    desk.settle()
    (first,) = _replies(desk)
    assert desk.mail(_without_message_id(subject=f"Re: {first.subject}", body="Edge")) == number
    answer_ticket(desk.runtime, number, "ana", "Try Firefox.")
    desk.settle()
    second = _replies(desk)[-1]
    assert second.in_reply_to == first.message_id
    assert second.references[-1] == first.message_id


def test_a_new_tickets_acknowledgement_carries_the_inbound_messages_own_references(
    desk: MailDesk,
) -> None:
    """A follow-up to a closed ticket keeps the older thread in clients that follow
    References, not only In-Reply-To."""
    old = desk.mail(email_bytes(message_id="<old-1@example.org>"))
    (old_ack,) = desk.sender.to("jo@example.org")
    set_ticket_status(desk.runtime, old, Status.RESOLVED, actor="agent:ana", reason="done")
    set_ticket_status(desk.runtime, old, Status.CLOSED, actor="agent:ana", reason="done")
    again = email_bytes(
        message_id="<again@example.org>",
        in_reply_to=old_ack.message_id,
        references=("<old-1@example.org>", old_ack.message_id),
        subject=f"Re: {old_ack.subject}",
    )
    number = desk.mail(again)
    assert number not in (0, old)
    # the new ticket's first mail to jo (the old one's resolution notice may leave after it)
    ack = next(m for m in desk.sender.to("jo@example.org") if f"[#{number}]" in (m.subject or ""))
    assert ack.in_reply_to == "<again@example.org>"
    assert ack.references == ("<old-1@example.org>", old_ack.message_id, "<again@example.org>")
    answer_ticket(desk.runtime, number, "ana", "Looking again.")
    desk.settle()
    (reply,) = _replies(desk)
    assert reply.references[:3] == ack.references
    assert reply.references[-1] == ack.message_id


def test_a_colleague_the_requester_copied_joins_the_ticket_with_its_tag(
    desk: MailDesk,
) -> None:
    first = email_bytes(headers={"Cc": "Kai Lee <kai@example.org>, support@relaydesk.localhost"})
    number = desk.mail(first)
    from_kai = email_bytes(
        sender="Kai Lee <kai@example.org>", subject=f"Re: [#{number}] Printer on fire"
    )
    assert desk.mail(from_kai) == number
    by_plus = email_bytes(
        sender="kai@example.org", subject="more", to=f"support+{number}@relaydesk.localhost"
    )
    assert desk.mail(by_plus) == number
    stranger = email_bytes(sender="eve@example.org", subject=f"Re: [#{number}] Printer on fire")
    assert desk.mail(stranger) not in (0, number)


def test_copied_people_take_no_part_when_cc_participants_is_off(
    database_url: str, tmp_path: Path
) -> None:
    for desk in mail_desk(database_url, tmp_path, relaydesk_email__cc_participants="false"):
        number = desk.mail(email_bytes(headers={"Cc": "kai@example.org"}))
        from_kai = email_bytes(sender="kai@example.org", subject=f"Re: [#{number}] Printer")
        assert desk.mail(from_kai) not in (0, number)
