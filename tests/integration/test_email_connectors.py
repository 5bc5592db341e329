"""The email channel over real protocols: smtplib -> our SMTP server, Dovecot -> our poller.

A customer writes to the inbound SMTP server; the acknowledgement leaves by
SMTP to a sink; the customer answers it into an IMAP mailbox (Dovecot); the
poller brings the answer to the same ticket. Duplicates across both paths and
an IMAP resynchronisation leave one message per email.
"""

from __future__ import annotations

import smtplib
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from config.email_settings import SmtpInboundSettings
from config.settings import Settings
from connectors.email.imap import ImapPoller
from router.vocabulary import RowState
from tests.conftest import make_settings
from tests.support.desk import Desk, desk_for
from tests.support.dovecot import ImapAccount, poll_through_reconnects
from tests.support.mail_samples import body_text, email_bytes
from tests.support.smtp_sink import SmtpSink
from workers.channels.mail_connectors import MailConnectors
from workers.channels.mail_intake import ImapMessageSink, StoreMailboxState
from workers.desk.replies import answer_ticket

pytestmark = pytest.mark.integration


def _with_email(settings: Settings, **changes: Any) -> Settings:
    return settings.model_copy(update={"email": settings.email.model_copy(update=changes)})


SEEN = b"\\Seen"


def _eventually(check: Callable[[], object], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


@pytest.fixture
def settings_with_mail(
    database_url: str, tmp_path: Path, smtp_sink: SmtpSink, imap_mailbox: ImapAccount
) -> Settings:
    base = make_settings(
        database_url,
        relaydesk_smtp__transport="smtp",
        relaydesk_smtp__host=smtp_sink.host,
        relaydesk_smtp__port=str(smtp_sink.port),
        relaydesk_email__attachments_dir=str(tmp_path / "files"),
    )
    inbound = SmtpInboundSettings(
        enabled=True, port=0, addresses=("support@relaydesk.localhost",), timeout_s=5
    )
    mailbox = imap_mailbox.settings("support", address="support@relaydesk.localhost")
    return _with_email(base, inbound_smtp=inbound, mailboxes=(mailbox,))


@pytest.fixture
def running(settings_with_mail: Settings) -> Iterator[tuple[Desk, MailConnectors]]:
    for desk in desk_for(settings_with_mail, real_email=True):
        connectors = MailConnectors(desk.runtime)
        connectors.start()
        try:
            yield desk, connectors
        finally:
            connectors.stop()


def _smtp_send(connectors: MailConnectors, raw: bytes, to: str) -> None:
    assert connectors.smtp_address is not None
    host, port = connectors.smtp_address
    with smtplib.SMTP(host, port, timeout=5) as client:
        client.sendmail("jo@example.org", [to], raw)


def _tickets(desk: Desk) -> list[int]:
    with desk.runtime.db.unit_of_work() as uow:
        return sorted(t.id for t in uow.tickets.recent(limit=100))


def test_a_conversation_by_smtp_and_imap_stays_on_one_ticket(
    running: tuple[Desk, MailConnectors], smtp_sink: SmtpSink, imap_mailbox: ImapAccount
) -> None:
    desk, connectors = running
    _smtp_send(
        connectors, email_bytes(message_id="<c1@example.org>"), "support@relaydesk.localhost"
    )
    acks = smtp_sink.wait_for(2)  # the acknowledgement and the agent's notice
    (ack,) = [m for m in acks if m.rcpt_tos == ("jo@example.org",)]
    (number,) = _eventually(lambda: _tickets(desk))
    assert ack.message["In-Reply-To"] == "<c1@example.org>"
    assert ack.message["Reply-To"] == f"support+{number}@relaydesk.localhost"
    assert ack.message["Auto-Submitted"] == "auto-replied"
    assert ack.message["X-Loop"] == "support@relaydesk.localhost"
    assert ack.message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in ack.message.iter_parts()] == ["text/plain", "text/html"]
    reply = email_bytes(
        subject=f"Re: {ack.message['Subject']}",
        in_reply_to=ack.message["Message-ID"],
        references=("<c1@example.org>", ack.message["Message-ID"]),
        body="Thanks, it still smokes.\n\n> We got your request",
    )
    uid = imap_mailbox.append(reply)
    messages = _eventually(lambda: len(desk.ticket(number).messages) == 2 and desk.ticket(number))
    assert messages, "the answer never reached the ticket"
    assert _tickets(desk) == [number]
    assert _eventually(lambda: b"\\Seen" in imap_mailbox.flags().get(uid, ()))


def test_the_same_email_by_smtp_and_by_imap_is_one_message(
    running: tuple[Desk, MailConnectors], imap_mailbox: ImapAccount
) -> None:
    desk, connectors = running
    raw = email_bytes(message_id="<both@example.org>")
    _smtp_send(connectors, raw, "support@relaydesk.localhost")
    imap_mailbox.append(b"Return-Path: <jo@example.org>\r\n" + raw)
    (number,) = _eventually(lambda: _tickets(desk))
    seen = _eventually(lambda: SEEN in imap_mailbox.flags().get(1, ()), timeout=40)
    assert seen, "the IMAP copy was never read"
    desk.settle()

    def cursor() -> tuple[int, int] | None:
        with desk.runtime.db.unit_of_work() as uow:
            return uow.mailboxes.load("support")

    # \Seen is set when the batch is committed; the cursor is saved after it, when the poll ends
    last_uid = max(imap_mailbox.flags())
    saved = _eventually(lambda: (cursor() or (0, 0))[1] == last_uid)
    assert saved, f"the cursor stayed at {cursor()}, not UID {last_uid}"
    with desk.runtime.db.unit_of_work() as uow:
        (row,) = uow.inbox.recent()  # the IMAP copy was the SMTP one's: no second row
    assert row.ticket_id == number and row.state == RowState.DONE.value
    assert _tickets(desk) == [number] and len(desk.ticket(number).messages) == 1


def test_a_stranger_address_is_refused_and_nothing_is_stored(
    running: tuple[Desk, MailConnectors],
) -> None:
    desk, connectors = running
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        _smtp_send(connectors, email_bytes(), "someone@elsewhere.example")
    assert refused.value.recipients["someone@elsewhere.example"][0] == 550
    with desk.runtime.db.unit_of_work() as uow:
        assert uow.inbox.recent() == []


def test_an_imap_resynchronisation_duplicates_nothing(
    settings_with_mail: Settings, imap_mailbox: ImapAccount
) -> None:
    for desk in desk_for(settings_with_mail):
        mailbox = settings_with_mail.email.mailboxes[0]
        poller = ImapPoller(mailbox, ImapMessageSink(desk.runtime), StoreMailboxState(desk.runtime))
        for i in range(3):
            imap_mailbox.append(email_bytes(subject=f"resync {i}"))
        imap_mailbox.append(b"From: anon@example.org\r\nSubject: no id\r\n\r\nno Message-ID\r\n")
        assert poller.poll_once() == 4
        imap_mailbox.server.set_uidvalidity(imap_mailbox.user, 424242)
        assert poll_through_reconnects(poller) == 4  # all again, under the new UIDVALIDITY
        desk.settle()
        with desk.runtime.db.unit_of_work() as uow:
            rows = uow.inbox.recent()
            assert uow.mailboxes.load("support") == (424242, max(imap_mailbox.flags()))
        assert len(rows) == 4 and {r.state for r in rows} == {RowState.DONE.value}
        assert len(_tickets(desk)) == 4


def test_a_fetch_is_committed_in_one_transaction_and_a_copy_within_it_is_one_row(
    settings_with_mail: Settings,
) -> None:
    for desk in desk_for(settings_with_mail):
        sink = ImapMessageSink(desk.runtime)
        first, second = email_bytes(subject="first"), email_bytes(subject="second")
        sink.deliver_many("support", 7, [(1, first), (2, second), (3, first)])
        desk.settle()
        with desk.runtime.db.unit_of_work() as uow:
            rows = uow.inbox.recent()
            subjects = sorted(t.subject for t in uow.tickets.recent(limit=10))
        assert len(rows) == 2 and {r.state for r in rows} == {RowState.DONE.value}
        assert subjects == ["first", "second"]


def test_a_mail_past_the_mailboxs_size_limit_is_a_failed_row_saying_where_it_is(
    settings_with_mail: Settings, imap_mailbox: ImapAccount
) -> None:
    for desk in desk_for(settings_with_mail):
        mailbox = settings_with_mail.email.mailboxes[0].model_copy(
            update={"max_message_bytes": 100_000}
        )
        poller = ImapPoller(mailbox, ImapMessageSink(desk.runtime), StoreMailboxState(desk.runtime))
        huge = email_bytes(
            subject="huge", attachments=(("scan.pdf", "application/pdf", b"%" * 200_000),)
        )
        imap_mailbox.append(huge)
        imap_mailbox.append(email_bytes(subject="small"))
        assert poller.poll_once() == 1
        assert poller.poll_once() == 0  # kept once, not again
        desk.settle()
        with desk.runtime.db.unit_of_work() as uow:
            (failed,) = uow.inbox.recent(state=RowState.FAILED)
            (done,) = uow.inbox.recent(state=RowState.DONE)
            subjects = [t.subject for t in uow.tickets.recent(limit=10)]
        assert failed.payload["subject"] == "huge" and failed.raw and b"%%%" not in failed.raw
        assert "past max_message_bytes (100000)" in (failed.error or "")
        assert f"UID {min(imap_mailbox.flags())}" in (failed.error or "")
        assert subjects == ["small"] and done.ticket_id is not None
        assert len(imap_mailbox.flags()) == 2  # the huge one is still there, for a person


def test_answers_come_from_the_address_the_customer_wrote_to(
    settings_with_mail: Settings, imap_mailbox: ImapAccount, smtp_sink: SmtpSink
) -> None:
    """A second mailbox (sales@) answers as itself: the acknowledgement and the agent's
    reply come From it, with Reply-To its plus-address, which threads the answer."""
    sales = imap_mailbox.settings("sales", address="sales@example.com")
    settings = _with_email(settings_with_mail, mailboxes=(sales,))
    for desk in desk_for(settings, real_email=True):
        poller = ImapPoller(sales, ImapMessageSink(desk.runtime), StoreMailboxState(desk.runtime))
        imap_mailbox.append(email_bytes(to="Sales <sales@example.com>", subject="Quote please"))
        assert poller.poll_once() == 1
        desk.settle()
        (number,) = _tickets(desk)
        (ack,) = [m.message for m in smtp_sink.messages if "jo@example.org" in m.rcpt_tos]
        assert ack["From"].addresses[0].addr_spec == "sales@example.com"
        assert str(ack["Reply-To"]) == f"sales+{number}@example.com"

        imap_mailbox.append(
            email_bytes(to=f"sales+{number}@example.com", subject="no tag: the address threads")
        )
        assert poller.poll_once() == 1
        desk.settle()
        assert _tickets(desk) == [number] and len(desk.ticket(number).messages) == 2

        answer_ticket(desk.runtime, number, desk.ticket(number).assignee or "ana", "On its way.")
        desk.settle()
        to_jo = [m.message for m in smtp_sink.messages if "jo@example.org" in m.rcpt_tos]
        replies = [r for r in to_jo if "On its way." in body_text(r, ("related", "html", "plain"))]
        assert [r["From"].addresses[0].addr_spec for r in replies] == ["sales@example.com"]


def test_an_unavailable_store_answers_451_so_the_sender_retries(tmp_path: Path) -> None:
    settings = make_settings("postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    inbound = SmtpInboundSettings(port=0, addresses=("support@relaydesk.localhost",))
    settings = _with_email(settings, inbound_smtp=inbound)
    from workers.runtime.build import build_runtime

    runtime = build_runtime(settings)
    connectors = MailConnectors(runtime, imap=False)
    connectors.start()
    try:
        with pytest.raises(smtplib.SMTPDataError) as failed:
            _smtp_send(connectors, email_bytes(), "support@relaydesk.localhost")
        assert failed.value.smtp_code == 451
    finally:
        connectors.stop()
        runtime.close()


def test_the_connectors_warn_when_answers_to_our_mail_would_not_come_back(
    database_url: str,
) -> None:
    inbound = SmtpInboundSettings(port=0, addresses=("help@example.com",))
    settings = _with_email(make_settings(database_url), inbound_smtp=inbound)
    for desk in desk_for(settings):
        connectors = MailConnectors(desk.runtime, imap=False)
        lines = connectors.start()
        connectors.stop()
        assert any(
            line.startswith("warning: helpdesk.address support@relaydesk.localhost")
            for line in lines
        ), lines


def test_connector_status_shows_each_mailbox_cursor_and_a_bad_password_clearly(
    tmp_path: Path, imap_mailbox: ImapAccount
) -> None:
    from click.testing import CliRunner

    from config import load_settings
    from router.errors import PermanentError
    from workers.cli import main
    from workers.runtime.build import build_runtime
    from workers.runtime.processes import prepare_database

    config = tmp_path / "relaydesk.toml"
    config.write_text(
        f'database_url = "sqlite:///{tmp_path / "desk.db"}"\n'
        "[[email.mailboxes]]\n"
        'name = "support"\n'
        f'host = "127.0.0.1"\nport = {imap_mailbox.server.port}\nsecurity = "none"\n'
        f'username = "{imap_mailbox.user}"\npassword = "wrong-secret"\n'
    )
    settings = load_settings(str(config))
    runtime = build_runtime(settings)
    try:
        prepare_database(runtime)
        poller = ImapPoller(
            settings.email.mailboxes[0], ImapMessageSink(runtime), StoreMailboxState(runtime)
        )
        with pytest.raises(PermanentError):
            poller.poll_once()
    finally:
        runtime.close()
    result = CliRunner().invoke(main, ["--config", str(config), "connector", "status"])
    assert result.exit_code == 0, result.output
    assert "support" in result.output and "login failed" in result.output
    assert imap_mailbox.user in result.output and "wrong-secret" not in result.output
    refused = CliRunner().invoke(main, ["--config", str(config), "connector", "smtp"])
    assert refused.exit_code == 2 and "inbound_smtp" in refused.output


def test_a_missing_password_file_is_reported_as_such(
    tmp_path: Path, imap_mailbox: ImapAccount
) -> None:
    from router.errors import PermanentError

    class Memory:
        errors: list[str | None] = []

        def load(self, mailbox: str) -> None:
            return None

        def save(self, mailbox: str, uidvalidity: int, last_uid: int) -> None: ...

        def report(self, mailbox: str, error: str | None) -> None:
            self.errors.append(error)

    settings = imap_mailbox.settings(password="", password_file=str(tmp_path / "missing"))
    poller = ImapPoller(settings, ImapMessageSink.__new__(ImapMessageSink), Memory())
    with pytest.raises(PermanentError, match="cannot read password_file"):
        poller.poll_once()


def _null_sender_bounce(message_id: str) -> bytes:
    return (
        "From: MAILER DAEMON <>\r\nTo: support@relaydesk.localhost\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: {message_id}\r\nDate: Wed, 25 Nov 2026 09:30:00 +0000\r\n"
        "Content-Type: text/plain\r\n\r\n"
        f"Your message {message_id} could not be delivered.\r\n"
    ).encode()


def test_a_bounce_from_mailer_daemon_with_a_null_address_ends_quiet_by_smtp_and_by_imap(
    running: tuple[Desk, MailConnectors], imap_mailbox: ImapAccount
) -> None:
    """One message, one outcome, whichever way it came (and whatever Return-Path the
    delivering server stamped on the IMAP copy)."""
    desk, connectors = running
    assert connectors.smtp_address is not None
    with smtplib.SMTP(*connectors.smtp_address, timeout=5) as client:
        client.sendmail("", ["support@relaydesk.localhost"], _null_sender_bounce("<b1@mx.test>"))
    imap_mailbox.append(b"Return-Path: <>\r\n" + _null_sender_bounce("<b2@mx.test>"))
    imap_mailbox.append(_null_sender_bounce("<b3@mx.test>"))

    def finished() -> list[Any]:
        desk.settle()
        with desk.runtime.db.unit_of_work() as uow:
            rows = uow.inbox.recent()
        return rows if len(rows) == 3 and all(r.state != "pending" for r in rows) else []

    rows = _eventually(finished, timeout=40)
    assert [(r.state, r.error) for r in rows] == [(RowState.QUIET.value, "null sender")] * 3
    assert _tickets(desk) == [] and desk.sender.sent == []


def test_a_message_waits_for_the_other_open_sessions_one_and_they_share_a_commit(
    settings_with_mail: Settings,
) -> None:
    # two MTAs connected: the first message's commit (and its 250) waits for the second
    # session's message, and both rows are written by one transaction
    inbound = settings_with_mail.email.inbound_smtp.model_copy(update={"commit_wait_ms": 10_000})
    settings = _with_email(settings_with_mail, inbound_smtp=inbound)
    for desk in desk_for(settings):
        connectors = MailConnectors(desk.runtime, imap=False)
        connectors.start()
        try:
            assert connectors.smtp_address is not None
            host, port = connectors.smtp_address
            server = connectors._server
            assert server is not None
            groups = server._sink.inner.mail.intake._groups  # type: ignore[attr-defined]
            to = ["support@relaydesk.localhost"]
            with smtplib.SMTP(host, port, timeout=20) as one, smtplib.SMTP(host, port) as two:
                one.ehlo()
                two.ehlo()
                first = threading.Thread(
                    target=one.sendmail, args=("jo@example.org", to, email_bytes(subject="one"))
                )
                first.start()
                waiting = groups._waiting  # the first message, gathering its group
                assert _eventually(lambda: len(waiting) == 1), "one was committed alone"  # noqa: B023
                two.sendmail("al@example.org", to, email_bytes(subject="two"))
                first.join(20)
                assert not first.is_alive()
            with desk.runtime.db.unit_of_work() as uow:
                rows = uow.inbox.recent()
            assert len(rows) == 2
            assert rows[0].received_at == rows[1].received_at  # one transaction's `now`
        finally:
            connectors.stop()
