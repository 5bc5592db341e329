"""Agents answering by mail, as their clients write it.

A reply to a notice about a customer's message is the agent's public answer; a
reply to a notice about an internal note stays an internal note. Mail from an
agent that names a ticket only by its tag or plus-address (Outlook keeps no
In-Reply-To, only Thread-Index) belongs to that ticket as an internal note: never
a new ticket with the agent as its requester, never sent on unverified.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.mail_desk import MailDesk, mail_desk
from tests.support.mail_samples import email_bytes
from workers.desk.replies import answer_ticket

pytestmark = pytest.mark.integration

JO = "jo@example.org"


@pytest.fixture
def desk(database_url: str, tmp_path: Path) -> Iterator[MailDesk]:
    yield from mail_desk(database_url, tmp_path)


def _tickets(desk: MailDesk) -> list[int]:
    with desk.runtime.db.unit_of_work() as uow:
        return sorted(t.id for t in uow.tickets.recent(limit=100))


def _to_customer(desk: MailDesk) -> list[object]:
    return [m for m in desk.sender.to(JO) if not m.automatic]


def _outlook_reply(agent: str, to: str, subject: str, body: str) -> bytes:
    """What Outlook sends: no In-Reply-To, no References, only Thread-Index."""
    return email_bytes(
        sender=f"{agent} <{agent}@relaydesk.localhost>",
        to=to,
        subject=f"RE: {subject}",
        body=body,
        headers={"Thread-Topic": subject, "Thread-Index": "AQHaBcDeFgHiJkLmNoPqRsTuVw=="},
    )


def test_an_agents_reply_from_outlook_joins_the_ticket_by_its_tag_as_an_internal_note(
    desk: MailDesk,
) -> None:
    number = desk.mail(email_bytes(body="The printer is on fire."))
    agent = desk.ticket(number).assignee
    assert agent is not None
    (notice,) = desk.sender.to(f"{agent}@relaydesk.localhost")
    reply = _outlook_reply(agent, "support@relaydesk.localhost", notice.subject, "Unplug it.")
    assert desk.mail(reply) == number
    assert _tickets(desk) == [number]
    assert desk.sender.to(f"{agent}@relaydesk.localhost") == [notice]  # no acknowledgement
    assert _to_customer(desk) == []  # unverified: never sent on
    last = desk.ticket(number).messages[-1]
    assert last.direction == "internal" and last.body_text == "Unplug it."
    assert desk.ticket(number).assignee == agent


def test_an_agents_mail_to_a_tickets_plus_address_is_a_note_on_it_whatever_the_subject(
    desk: MailDesk,
) -> None:
    number = desk.mail(email_bytes())
    plus = f"support+{number}@relaydesk.localhost"
    mail = _outlook_reply("ben", plus, "a subject of my own", "Called the customer.")
    assert desk.mail(mail) == number
    assert _tickets(desk) == [number] and _to_customer(desk) == []
    assert desk.ticket(number).messages[-1].direction == "internal"


def test_an_agents_reply_all_to_the_customers_thread_is_a_note_not_a_customer_message(
    desk: MailDesk,
) -> None:
    number = desk.mail(email_bytes(message_id="<cust-1@example.org>"))
    reply_all = email_bytes(
        sender="Ben <ben@relaydesk.localhost>",
        subject="Re: Printer on fire",
        in_reply_to="<cust-1@example.org>",
        body="I know this printer, it does that.",
    )
    assert desk.mail(reply_all) == number
    last = desk.ticket(number).messages[-1]
    assert last.direction == "internal" and last.author == "agent:ben"


def test_a_reply_to_a_notice_about_an_internal_note_stays_an_internal_note(
    desk: MailDesk,
) -> None:
    number = desk.mail(email_bytes())
    answer_ticket(desk.runtime, number, "ana", "Second reset this month, @ben", internal=True)
    desk.settle()
    (notice,) = desk.sender.to("ben@relaydesk.localhost")
    assert notice.subject.startswith("Internal note:")
    answer = email_bytes(
        sender="Ben <ben@relaydesk.localhost>",
        to=notice.reply_to or "support@relaydesk.localhost",
        subject=f"Re: {notice.subject}",
        in_reply_to=notice.message_id,
        body="Internal only, do not tell the customer.\n\nOn Wed, relaydesk wrote:\n> @ben",
    )
    assert desk.mail(answer) == number
    assert _to_customer(desk) == []
    last = desk.ticket(number).messages[-1]
    assert last.direction == "internal"
    assert last.body_text == "Internal only, do not tell the customer."


def test_a_notice_about_a_customer_message_says_a_reply_reaches_the_customer(
    desk: MailDesk,
) -> None:
    number = desk.mail(email_bytes(message_id="<c-1@example.org>"))
    agent = desk.ticket(number).assignee
    (assigned,) = desk.sender.to(f"{agent}@relaydesk.localhost")
    assert "answer the customer: what you write reaches them" in assigned.body_text
    desk.mail(email_bytes(subject=f"Re: [#{number}] Printer on fire", body="Still burning."))
    notice = desk.sender.to(f"{agent}@relaydesk.localhost")[-1]
    assert notice.subject.startswith("Customer reply:")
    answer = email_bytes(
        sender=f"{agent} <{agent}@relaydesk.localhost>",
        subject=f"Re: {notice.subject}",
        in_reply_to=notice.message_id,
        body="Fire brigade is on its way.",
    )
    assert desk.mail(answer) == number
    (reply,) = _to_customer(desk)
    assert reply.body_text.startswith("Fire brigade is on its way.")  # type: ignore[attr-defined]


def test_an_agent_who_is_the_requester_writes_as_the_requester(desk: MailDesk) -> None:
    number = desk.mail(email_bytes(sender="Ben <ben@relaydesk.localhost>", subject="My laptop"))
    again = email_bytes(
        sender="Ben <ben@relaydesk.localhost>", subject=f"Re: [#{number}] My laptop", body="Still"
    )
    assert desk.mail(again) == number
    assert desk.ticket(number).messages[-1].direction == "inbound"
