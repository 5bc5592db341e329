"""Email through the whole pipeline: threading, duplicates, loops, bounces, attachments.

Raw messages go in where the SMTP server and the IMAP poller hand them over
(``InboundMail``), then through real ingest, routing and delivery workers on
SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from router.vocabulary import RowState, Status
from tests.support.desk import desk_for
from tests.support.mail_desk import MailDesk, mail_desk
from tests.support.mail_samples import bounce_bytes, email_bytes
from workers.desk.replies import answer_ticket
from workers.desk.ticket_status import set_ticket_status

pytestmark = pytest.mark.integration


@pytest.fixture
def desk(database_url: str, tmp_path: Path) -> Iterator[MailDesk]:
    yield from mail_desk(database_url, tmp_path)


def test_an_email_opens_a_ticket_and_the_acknowledgement_threads_back_to_it(
    desk: MailDesk,
) -> None:
    raw = email_bytes(message_id="<first@example.org>", body="Smoke everywhere.\n\n-- \nJo")
    number = desk.mail(raw)
    view = desk.ticket(number)
    assert view.subject == "Printer on fire" and view.channel == "email"
    assert view.messages[0].body_text.strip() == "Smoke everywhere."
    (ack,) = desk.sender.to("jo@example.org")
    assert ack.in_reply_to == "<first@example.org>" and f"[#{number}]" in ack.subject
    assert ack.reply_to == f"support+{number}@relaydesk.localhost" and ack.automatic


def test_a_reply_to_our_acknowledgement_joins_the_ticket(desk: MailDesk) -> None:
    number = desk.mail(email_bytes(message_id="<a1@example.org>"))
    (ack,) = desk.sender.to("jo@example.org")
    reply = email_bytes(
        subject="Re: it is still smoking",  # no tag: the headers alone must find the ticket
        in_reply_to=ack.message_id,
        references=("<a1@example.org>", ack.message_id),
        body="Still smoking.\n\nOn Tue, support wrote:\n> We got your request",
    )
    assert desk.mail(reply) == number
    view = desk.ticket(number)
    assert [m.body_text.strip() for m in view.messages] == ["Smoke everywhere.", "Still smoking."]
    assert len(desk.sender.to("jo@example.org")) == 1  # a reply is not acknowledged again


def test_the_subject_tag_counts_from_a_participant_but_not_from_a_stranger(
    desk: MailDesk,
) -> None:
    number = desk.mail(email_bytes())
    tagged = f"Re: [#{number}] Printer on fire"
    assert desk.mail(email_bytes(subject=tagged)) == number
    stranger = desk.mail(email_bytes(sender="mallory@evil.example", subject=tagged))
    assert stranger not in (0, number)


def test_a_plus_address_finds_its_ticket_for_a_participant_only(desk: MailDesk) -> None:
    number = desk.mail(email_bytes())
    plus = f"support+{number}@relaydesk.localhost"
    changed = email_bytes(subject="a new subject, no tag", to=plus)
    assert desk.mail(changed) == number  # the requester, whatever the subject
    stranger = email_bytes(sender="mallory@evil.example", subject="hi", to="x@y.org")
    assert desk.mail(stranger, recipients=(plus,)) not in (0, number)


def test_the_rules_apply_in_order_headers_then_subject_tag_then_plus_address(
    desk: MailDesk,
) -> None:
    """When a reply's clues disagree, In-Reply-To/References win over the subject tag,
    and the subject tag wins over the plus-address."""
    first = desk.mail(email_bytes(subject="first", message_id="<first@example.org>"))
    second = desk.mail(email_bytes(subject="second", message_id="<second@example.org>"))
    third = desk.mail(email_bytes(subject="third"))
    plus_third = f"support+{third}@relaydesk.localhost"
    by_headers = email_bytes(
        subject=f"Re: [#{second}] first", in_reply_to="<first@example.org>", to=plus_third
    )
    assert desk.mail(by_headers) == first
    by_tag = email_bytes(subject=f"Re: [#{second}] again", to=plus_third)
    assert desk.mail(by_tag) == second
    by_plus = email_bytes(subject="no tag, no headers", to=plus_third)
    assert desk.mail(by_plus) == third


def test_a_reused_message_id_never_takes_a_conversation_away(desk: MailDesk) -> None:
    victim = desk.mail(email_bytes(message_id="<victim-1@example.org>"))
    copycat = email_bytes(sender="mallory@evil.example", message_id="<victim-1@example.org>")
    assert desk.mail(copycat) not in (0, victim)
    reply = email_bytes(subject="Re: x", references=("<victim-1@example.org>",))
    assert desk.mail(reply) == victim


def test_the_same_email_by_smtp_and_by_imap_is_one_message(desk: MailDesk) -> None:
    raw = email_bytes(message_id="<twice@example.org>")
    number = desk.mail(raw, source="smtp")
    as_stored_by_imap = b"Return-Path: <jo@example.org>\r\nDelivered-To: support\r\n" + raw
    assert desk.mail(as_stored_by_imap, source="imap:support") == number
    assert len(desk.ticket(number).messages) == 1
    assert len(desk.sender.to("jo@example.org")) == 1


def test_an_auto_reply_is_recorded_quietly_and_never_answered(desk: MailDesk) -> None:
    number = desk.mail(email_bytes())
    (ack,) = desk.sender.to("jo@example.org")
    out_of_office = email_bytes(
        subject="Automatic reply: Printer on fire",
        body="I am out of the office until Monday.",
        in_reply_to=ack.message_id,
        headers={"Auto-Submitted": "auto-replied"},
    )
    assert desk.mail(out_of_office) == number
    assert "message.quiet" in desk.actions(number)
    assert len(desk.ticket(number).messages) == 2
    unthreaded = email_bytes(subject="Out of office", headers={"X-Autoreply": "yes"})
    row = desk.inbox_row(unthreaded)
    assert row.state == RowState.QUIET.value and row.ticket_id is None
    assert len(desk.sender.to("jo@example.org")) == 1


def test_list_mail_opens_a_ticket_but_is_never_answered(desk: MailDesk) -> None:
    relayed = email_bytes(subject="Help from our group", headers={"List-Id": "<help.x.org>"})
    number = desk.mail(relayed)
    assert number and desk.sender.to("jo@example.org") == []
    with desk.runtime.db.unit_of_work() as uow:
        (created,) = [e for e in uow.audit.for_ticket(number) if e.action == "ticket.created"]
    assert "List-Id" in created.detail and "not acknowledged" in created.detail


def test_a_persons_reply_through_a_mailing_list_reopens_and_is_told_never_answered(
    desk: MailDesk,
) -> None:
    number = desk.mail(email_bytes(message_id="<list-q@example.org>"))
    agent = desk.ticket(number).assignee
    set_ticket_status(desk.runtime, number, Status.RESOLVED, actor="agent:ana", reason="done")
    through_list = email_bytes(
        subject=f"Re: [#{number}] Printer on fire",
        in_reply_to="<list-q@example.org>",
        body="No, it is burning again.",
        headers={
            "List-Id": "Users <users.lists.example.org>",
            "List-Unsubscribe": "<mailto:users-leave@lists.example.org>",
            "Precedence": "list",
        },
    )
    row = desk.inbox_row(through_list)
    assert row.state == RowState.DONE.value and row.ticket_id == number
    assert desk.ticket(number).status == "open"
    assert "ticket.reopened" in desk.actions(number) and "message.quiet" not in desk.actions(number)
    notices = desk.sender.to(f"{agent}@relaydesk.localhost")
    assert any(n.subject.startswith("Customer reply:") for n in notices)
    sent = desk.sender.to("jo@example.org")  # the acknowledgement, the resolution's notice
    assert len(sent) == 2 and "resolved" in sent[1].body_text  # and no answer to the list


def test_an_auto_reply_relayed_by_a_list_stays_quiet(desk: MailDesk) -> None:
    number = desk.mail(email_bytes(message_id="<list-a@example.org>"))
    vacation = email_bytes(
        in_reply_to="<list-a@example.org>",
        body="I am away.",
        headers={"List-Id": "<users.lists.example.org>", "Auto-Submitted": "auto-replied"},
    )
    row = desk.inbox_row(vacation)
    assert row.state == RowState.QUIET.value and row.ticket_id == number


def test_mail_from_our_own_address_is_a_loop_and_is_not_answered(desk: MailDesk) -> None:
    looped = email_bytes(sender="relaydesk <support@relaydesk.localhost>", subject="[#9] hi")
    row = desk.inbox_row(looped)
    assert row.state == RowState.QUIET.value
    assert desk.sender.to("support@relaydesk.localhost") == []


def test_mail_from_a_plus_address_of_ours_is_a_loop_too(desk: MailDesk) -> None:
    looped = email_bytes(sender="relaydesk <support+7@relaydesk.localhost>", subject="hi")
    row = desk.inbox_row(looped)
    assert row.state == RowState.QUIET.value and row.ticket_id is None
    assert desk.sender.sent == []


def test_a_bounce_fails_our_message_and_stops_automatic_mail_to_that_address(
    desk: MailDesk,
) -> None:
    number = desk.mail(email_bytes(sender="gone@example.org"))
    (ack,) = desk.sender.to("gone@example.org")
    bounce = bounce_bytes(original_message_id=ack.message_id, recipient="gone@example.org")
    assert desk.mail(bounce) == number
    with desk.runtime.db.unit_of_work() as uow:
        (row,) = [r for r in uow.outbox.recent(ticket_id=number) if r.kind == "acknowledgement"]
        assert row.state == RowState.FAILED.value and "5.1.1" in (row.error or "")
        assert "gone@example.org" in uow.customers.bounces(["gone@example.org"])
    assert "outbox.bounced" in desk.actions(number)
    second = desk.mail(email_bytes(sender="gone@example.org", subject="another"))
    assert "acknowledgement.suppressed" not in desk.actions(second)  # it wrote: it works again


def test_a_delay_notice_changes_nothing(desk: MailDesk) -> None:
    number = desk.mail(email_bytes(sender="slow@example.org"))
    (ack,) = desk.sender.to("slow@example.org")
    delayed = bounce_bytes(
        original_message_id=ack.message_id,
        recipient="slow@example.org",
        status="4.4.7",
        action="delayed",
    )
    desk.mail(delayed)
    assert "outbox.bounced" not in desk.actions(number)


def test_acknowledgements_to_one_sender_stop_at_the_hourly_limit(desk: MailDesk) -> None:
    numbers = [desk.mail(email_bytes(subject=f"loop {i}")) for i in range(7)]
    assert len(set(numbers)) == 7
    assert len(desk.sender.to("jo@example.org")) == 5
    assert "acknowledgement.suppressed" in desk.actions(numbers[-1])


def test_a_reply_reopens_a_resolved_ticket_and_a_closed_one_gets_a_linked_successor(
    desk: MailDesk,
) -> None:
    number = desk.mail(email_bytes(message_id="<r1@example.org>"))
    set_ticket_status(desk.runtime, number, Status.RESOLVED, actor="test")
    desk.settle()
    assert desk.mail(email_bytes(subject="Re: x", in_reply_to="<r1@example.org>")) == number
    assert desk.ticket(number).status in ("open", "new")
    set_ticket_status(desk.runtime, number, Status.CLOSED, actor="test")
    desk.settle()
    successor = desk.mail(email_bytes(subject="Re: y", in_reply_to="<r1@example.org>"))
    assert successor != number and desk.ticket(successor).parent == number


def test_attachments_are_kept_by_content_hash_outside_the_database(
    desk: MailDesk, tmp_path: Path
) -> None:
    pdf = b"%PDF-1.4 invoice " * 100
    raw = email_bytes(attachments=(("../../etc/invoice.pdf", "application/pdf", pdf),))
    number = desk.mail(raw)
    with desk.runtime.db.unit_of_work() as uow:
        message_id = uow.tickets.get(number).messages[0].id  # type: ignore[union-attr]
        (kept,) = uow.messages.attachments(message_id)
    assert kept.filename == "invoice.pdf" and kept.content_type == "application/pdf"
    assert kept.size == len(pdf) and kept.sha256 is not None
    assert desk.runtime.files.read(kept.sha256) == pdf
    assert (tmp_path / "files").is_dir()
    (shown,) = desk.ticket(number).messages[0].attachments
    assert (shown.filename, shown.size, shown.kept) == ("invoice.pdf", len(pdf), True)


def test_an_attachment_over_the_limit_is_listed_but_not_kept(
    database_url: str, tmp_path: Path
) -> None:
    for desk in mail_desk(database_url, tmp_path, relaydesk_email__max_attachment_bytes="1000"):
        raw = email_bytes(attachments=(("big.bin", "application/octet-stream", b"x" * 5000),))
        (shown,) = desk.ticket(desk.mail(raw)).messages[0].attachments
        assert shown.filename == "big.bin" and shown.size == 5000 and not shown.kept
        assert "limit" in shown.note and not (tmp_path / "files").exists()


def test_a_missing_sender_comes_first_in_the_reason_before_other_problems(
    desk: MailDesk,
) -> None:
    raw = (
        b"Subject: who am I\r\nMessage-ID: <anon-2@x>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/alternative; boundary="never-used"\r\n\r\n'
        b"no parts at all\r\n"
    )
    row = desk.inbox_row(raw)
    assert row.state == RowState.FAILED.value
    assert (row.error or "").startswith(
        "PermanentError: unreadable email: no sender address (no From, Sender or Return-Path"
    ), row.error
    assert "boundary" in (row.error or "")


def test_a_quiet_row_says_why_it_is_quiet(desk: MailDesk) -> None:
    row = desk.inbox_row(email_bytes(subject="Out of office", headers={"X-Autoreply": "yes"}))
    assert row.state == RowState.QUIET.value and row.error == "X-Autoreply: yes"
    number = desk.mail(email_bytes(message_id="<q-why@example.org>"))
    (ack,) = desk.sender.to("jo@example.org")
    joined = desk.inbox_row(
        email_bytes(in_reply_to=ack.message_id, headers={"Auto-Submitted": "auto-replied"})
    )
    assert joined.state == RowState.QUIET.value and joined.ticket_id == number
    assert joined.error == "Auto-Submitted: auto-replied"


def test_a_bounce_from_a_null_address_is_quiet_and_still_fails_our_message(
    desk: MailDesk,
) -> None:
    number = desk.mail(email_bytes(sender="gone@example.org"))
    (ack,) = desk.sender.to("gone@example.org")
    bounce = bounce_bytes(original_message_id=ack.message_id, recipient="gone@example.org")
    bounce = bounce.replace(
        b"From: Mail Delivery System <MAILER-DAEMON@mx.example.org>", b"From: MAILER DAEMON <>"
    )
    row = desk.inbox_row(bounce)
    assert row.state == RowState.QUIET.value and row.ticket_id == number, row.error
    assert row.error == "delivery status notification"
    with desk.runtime.db.unit_of_work() as uow:
        (sent,) = [r for r in uow.outbox.recent(ticket_id=number) if r.kind == "acknowledgement"]
        assert sent.state == RowState.FAILED.value
    assert "outbox.bounced" in desk.actions(number)
    assert desk.sender.to("") == [] and desk.sender.to("gone@example.org") == [ack]


def test_an_email_naming_no_sender_is_kept_failed_with_its_reason(desk: MailDesk) -> None:
    raw = b"Subject: who am I\r\nMessage-ID: <anon@x>\r\n\r\nno From at all\r\n"
    row = desk.inbox_row(raw)
    assert row.state == RowState.FAILED.value and "no sender" in (row.error or "")
    assert row.raw == raw and row.attempts == 1


def test_a_damaged_email_still_opens_a_ticket_from_what_could_be_read(desk: MailDesk) -> None:
    raw = (
        b"From: Jo <jo@example.org>\r\nSubject: =?x-unknown?q?broken?=\r\n"
        b"Content-Type: text/plain; charset=x-unknown\r\nMessage-ID: <dmg@example.org>\r\n\r\n"
        b"caf\xe9 au lait\r\n"
    )
    number = desk.mail(raw)
    assert number and "caf" in desk.ticket(number).messages[0].body_text
    assert "message.problems" in desk.actions(number)


CORPUS = Path(__file__).resolve().parent.parent / "data" / "email"
UNREADABLE = {"zero-bytes.eml", "garbage-bytes.eml"}  # no sender: kept, failed, with the reason
ANSWERS_NOTHING = {  # automatic mail that threads nowhere: kept quietly, no ticket
    "auto-reply-exchange-legacy.eml",
    "auto-reply-exchange-oof.eml",
    "auto-reply-gmail-vacation.eml",
    "bounce-delayed-dsn.eml",
    "bounce-exchange-ndr.eml",
    "bounce-exim-plain-text.eml",
    "bounce-gmail-dsn-failure.eml",
    "bounce-postfix-dsn.eml",
    "bounce-qmail-plain-text.eml",
    "noreply-sender.eml",
    "read-receipt.eml",
    "x-loop-from-us.eml",
}


def test_every_corpus_message_becomes_a_ticket_or_a_kept_row_with_its_reason(
    desk: MailDesk,
) -> None:
    outcomes = {}
    for path in sorted(CORPUS.glob("*.eml")):
        row = desk.inbox_row(path.read_bytes())
        outcomes[path.name] = (row.state, row.ticket_id, row.error)
        assert row.raw == path.read_bytes(), f"{path.name}: the original bytes were not kept"
    for name, (state, ticket, error) in outcomes.items():
        if name in UNREADABLE:
            assert state == RowState.FAILED.value and "no sender" in (error or ""), name
        elif name in ANSWERS_NOTHING:
            assert state == RowState.QUIET.value and ticket is None, (name, state, error)
        else:
            assert state in (RowState.DONE.value, RowState.QUIET.value), (name, state, error)
            assert ticket is not None, (name, state, error)
    acknowledged = {m.recipient for m in desk.sender.sent if m.automatic}
    assert not acknowledged & {"mailer-daemon@mx.example.org", "noreply@example.com"}


def test_an_agent_reply_reaches_the_requester_threaded_and_stops_the_response_clock(
    desk: MailDesk,
) -> None:
    number = desk.mail(email_bytes(message_id="<q1@example.org>"))
    agent = desk.ticket(number).assignee
    assert agent is not None
    answer_ticket(desk.runtime, number, agent, "Please try again now.")
    desk.settle()
    (reply,) = [m for m in desk.sender.to("jo@example.org") if not m.automatic]
    assert reply.subject == f"Re: [#{number}] Printer on fire"
    assert reply.in_reply_to == "<q1@example.org>" and "<q1@example.org>" in reply.references
    assert reply.body_text.startswith("Please try again now.")
    view = desk.ticket(number)
    assert view.first_response_at is not None
    assert [m.direction for m in view.messages] == ["inbound", "outbound"]
    answer = email_bytes(subject=f"Re: {reply.subject}", in_reply_to=reply.message_id)
    assert desk.mail(answer) == number  # the customer's answer to the reply joins too


def test_mail_from_an_agent_address_without_our_notification_is_not_an_answer(
    desk: MailDesk,
) -> None:
    number = desk.mail(email_bytes())
    forged = email_bytes(
        sender="ana <ana@relaydesk.localhost>",
        subject=f"Re: [#{number}] Printer on fire",
        to=f"support+{number}@relaydesk.localhost",
        body="Please send me your password.",
    )
    assert desk.mail(forged) == number  # a note on the ticket it names, never sent on
    assert [m for m in desk.sender.to("jo@example.org") if not m.automatic] == []
    assert "message.replied" not in desk.actions(number)
    assert desk.ticket(number).messages[-1].direction == "internal"


def test_an_agent_reply_with_nothing_new_is_kept_as_a_note_and_sends_nothing(
    desk: MailDesk,
) -> None:
    number = desk.mail(email_bytes(body="The printer is on fire."))
    agent = desk.ticket(number).assignee
    (notice,) = desk.sender.to(f"{agent}@relaydesk.localhost")
    quote_only = email_bytes(
        sender=f"{agent}@relaydesk.localhost",
        subject=f"Re: {notice.subject}",
        in_reply_to=notice.message_id,
        body="On Wed, relaydesk wrote:\n> Ticket assigned to you. Why you: load 0/5",
    )
    assert desk.mail(quote_only) == number
    assert [m for m in desk.sender.to("jo@example.org") if not m.automatic] == []
    assert desk.ticket(number).messages[-1].direction == "internal"


def test_an_agent_answering_a_notification_by_email_answers_the_requester(
    desk: MailDesk,
) -> None:
    number = desk.mail(email_bytes(body="The printer is on fire."))
    agent = desk.ticket(number).assignee
    (notice,) = desk.sender.to(f"{agent}@relaydesk.localhost")
    by_mail = email_bytes(
        sender=f"{agent} <{agent}@relaydesk.localhost>",
        to=notice.reply_to or "support@relaydesk.localhost",
        subject=f"Re: {notice.subject}",
        in_reply_to=notice.message_id,
        body="Unplug it and step away.\n\nOn Wed, relaydesk wrote:\n> The printer is on fire.",
    )
    assert desk.mail(by_mail) == number
    (reply,) = [m for m in desk.sender.to("jo@example.org") if not m.automatic]
    assert reply.body_text.startswith("Unplug it and step away.")
    assert "> The printer" not in reply.body_text
    assert "message.replied" in desk.actions(number)
    assert len(_tickets_of(desk)) == 1


def test_an_internal_note_is_never_sent_to_the_requester(desk: MailDesk) -> None:
    number = desk.mail(email_bytes())
    answer_ticket(desk.runtime, number, "ana", "Customer is a VIP.", internal=True)
    desk.settle()
    assert all(m.automatic for m in desk.sender.to("jo@example.org"))
    assert desk.ticket(number).messages[-1].direction == "internal"
    assert desk.ticket(number).first_response_at is None


def _tickets_of(desk: MailDesk) -> list[int]:
    with desk.runtime.db.unit_of_work() as uow:
        return [t.id for t in uow.tickets.recent(limit=100)]


def test_an_email_without_message_id_by_smtp_and_by_imap_is_one_message(
    desk: MailDesk,
) -> None:
    raw = (
        b"From: Jo <jo@example.org>\r\nTo: support@relaydesk.localhost\r\n"
        b"Subject: no id\r\nDate: Wed, 25 Nov 2026 09:30:00 +0000\r\n\r\nHello\r\n"
    )
    number = desk.mail(b"Return-Path: <jo@example.org>\r\n" + raw, source="smtp")
    stored = b"Received: from mx by imap; Wed, 25 Nov 2026\r\nDelivered-To: support\r\n" + raw
    assert desk.mail(stored, source="imap:support") == number
    assert len(desk.ticket(number).messages) == 1


def test_a_bounce_sent_from_the_null_sender_by_smtp_is_never_answered(desk: MailDesk) -> None:
    from workers.channels.mail_intake import SmtpMailSink

    vacation = email_bytes(sender="Jo <jo@example.org>", subject="Away", body="on holiday")
    SmtpMailSink(desk.runtime).deliver(vacation, mail_from="", recipients=("support@x.org",))
    desk.settle()
    with desk.runtime.db.unit_of_work() as uow:
        (row,) = uow.inbox.recent()
    assert row.state == RowState.QUIET.value and desk.sender.sent == []


def test_rules_see_the_language_an_email_declares(database_url: str, tmp_path: Path) -> None:
    config = tmp_path / "relaydesk.toml"
    config.write_text(
        f'database_url = "{database_url}"\n'
        '[[teams]]\nname = "support"\n[[teams]]\nname = "dach"\n'
        '[[rules.first_match]]\nname = "german"\nwhen = { language = "de" }\n'
        'set = { team = "dach" }\n'
    )
    from config import load_settings

    for plain in desk_for(load_settings(config, environ={})):
        desk = MailDesk(runtime=plain.runtime, intake=plain.intake, sender=plain.sender)
        german = email_bytes(headers={"Content-Language": "de-AT"}, subject="Drucker brennt")
        assert desk.ticket(desk.mail(german)).team == "dach"
        assert desk.ticket(desk.mail(email_bytes(subject="printer"))).team == "support"


def test_a_chinese_clients_reply_shows_what_was_written_and_keeps_the_whole_text(
    desk: MailDesk,
) -> None:
    replies = Path(__file__).parents[1] / "data" / "email" / "replies"
    number = desk.mail(email_bytes(sender="张伟 <zhangwei@foxmail.com>", subject="VPN down"))
    (ack,) = desk.sender.to("zhangwei@foxmail.com")
    raw = (replies / "zh-foxmail.eml").read_bytes()
    raw = raw.replace(b"<relaydesk.ack12@relaydesk.localhost>", ack.message_id.encode())
    assert desk.mail(raw) == number
    with desk.runtime.db.unit_of_work() as uow:
        stored = uow.messages.latest_inbound_texts([number])[number]
        (kept,) = [m.full_text for m in uow.tickets.get(number).messages if m.full_text]  # type: ignore[union-attr]
    expected = (replies / "zh-foxmail.visible.txt").read_text(encoding="utf-8").rstrip("\n")
    assert stored == expected
    assert "原始邮件" in kept and "we have received your request" in kept
