"""SmtpSender against a real aiosmtpd server over loopback; FileSender on disk."""

from __future__ import annotations

import smtplib
import socket
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest

from config.settings import HelpdeskSettings, Settings, SmtpSettings
from connectors.email.outbound import FileSender, SmtpSender, make_email_sender
from router.envelopes import OutboundMessage
from router.errors import PermanentError, TransientError
from router.vocabulary import Channel
from tests.support import fixtures
from tests.support.smtp_sink import SmtpSink

pytestmark = pytest.mark.integration

smtp_sink = fixtures.smtp_sink  # until conftest.py provides it

HELPDESK = HelpdeskSettings(name="Relay Desk", address="support@relaydesk.example")


def outbound(number: int = 1, **changes: Any) -> OutboundMessage:
    fields: dict[str, Any] = {
        "channel": Channel.EMAIL,
        "recipient": "ana@customer.example",
        "recipient_name": "Ana Souza",
        "subject": f"Your ticket [#{number}]",
        "body_text": "We are on it.\n.\nA line with a lone dot stays.",
        "body_html": "<p>We are on it.</p>",
        "message_id": f"<out-{number}@relaydesk.example>",
        "in_reply_to": "<customer-1@customer.example>",
    }
    fields.update(changes)
    return OutboundMessage(**fields)


@pytest.fixture
def sender(smtp_sink: SmtpSink) -> Iterator[SmtpSender]:
    settings = SmtpSettings(host=smtp_sink.host, port=smtp_sink.port, timeout_s=2)
    sender = SmtpSender(settings, HELPDESK)
    yield sender
    sender.close()


def test_a_sent_message_arrives_intact_with_its_message_id(
    smtp_sink: SmtpSink, sender: SmtpSender
) -> None:
    result = sender.send(outbound(1))

    [received] = smtp_sink.wait_for(1)
    email = received.message
    assert result.external_id == "<out-1@relaydesk.example>"
    assert "accepted" in result.detail
    assert received.mail_from == "support@relaydesk.example"
    assert received.rcpt_tos == ("ana@customer.example",)
    assert email["Message-ID"] == "<out-1@relaydesk.example>"
    assert email["In-Reply-To"] == "<customer-1@customer.example>"
    assert email["Subject"] == "Your ticket [#1]"
    assert email["From"].addresses[0].display_name == "Relay Desk"
    plain = email.get_body(preferencelist=("plain",))
    assert plain is not None
    lines = plain.get_content().splitlines()
    assert lines == ["We are on it.", ".", "A line with a lone dot stays."]
    assert set(smtp_sink.by_message_id()) == {"<out-1@relaydesk.example>"}
    assert set(smtp_sink.arrival_times()) == {"<out-1@relaydesk.example>"}  # read unparsed


def test_the_envelope_is_sent_without_parsing_its_addresses_again(
    smtp_sink: SmtpSink, sender: SmtpSender, monkeypatch: pytest.MonkeyPatch
) -> None:
    """build_wire checked them: smtplib's quoteaddr (51 us an address) is not asked."""

    def parsed(address: str) -> str:
        raise AssertionError(f"{address} parsed again")

    monkeypatch.setattr(smtplib, "quoteaddr", parsed)
    sender.send(outbound(1, recipient="a.b+tag@customer.example"))

    [received] = smtp_sink.wait_for(1)
    assert received.mail_from == "support@relaydesk.example"
    assert received.rcpt_tos == ("a.b+tag@customer.example",)


def test_a_451_reply_is_a_transient_error(smtp_sink: SmtpSink, sender: SmtpSender) -> None:
    smtp_sink.fail_next(451)

    with pytest.raises(TransientError, match="451"):
        sender.send(outbound(1))

    assert smtp_sink.messages == []


def test_the_connection_stays_usable_after_a_refused_message(
    smtp_sink: SmtpSink, sender: SmtpSender
) -> None:
    smtp_sink.fail_next(451)
    with pytest.raises(TransientError):
        sender.send(outbound(1))

    sender.send(outbound(2))

    assert set(smtp_sink.by_message_id()) == {"<out-2@relaydesk.example>"}


def test_a_550_refused_recipient_is_a_permanent_error(
    smtp_sink: SmtpSink, sender: SmtpSender
) -> None:
    smtp_sink.reject_recipient("ana@customer.example", 550)

    with pytest.raises(PermanentError, match="550"):
        sender.send(outbound(1))


def test_a_554_reply_to_the_data_is_a_permanent_error(
    smtp_sink: SmtpSink, sender: SmtpSender
) -> None:
    smtp_sink.fail_next(554)

    with pytest.raises(PermanentError, match="554"):
        sender.send(outbound(1))


def test_a_stopped_server_is_a_transient_error(smtp_sink: SmtpSink, sender: SmtpSender) -> None:
    smtp_sink.stop()

    with pytest.raises(TransientError) as caught:
        sender.send(outbound(1))

    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_a_server_that_stops_after_a_send_is_a_transient_error(
    smtp_sink: SmtpSink, sender: SmtpSender
) -> None:
    sender.send(outbound(1))
    smtp_sink.stop()

    with pytest.raises(TransientError):
        sender.send(outbound(2))


def test_two_sends_from_one_thread_reuse_one_connection(
    smtp_sink: SmtpSink, sender: SmtpSender
) -> None:
    sender.send(outbound(1))
    sender.send(outbound(2))

    first, second = smtp_sink.wait_for(2)
    assert first.peer == second.peer


def test_a_connection_dropped_by_the_server_is_reopened_once_and_the_send_succeeds(
    smtp_sink: SmtpSink, sender: SmtpSender
) -> None:
    sender.send(outbound(1))
    smtp_sink.drop_connections()

    result = sender.send(outbound(2))

    first, second = smtp_sink.wait_for(2)
    assert result.external_id == "<out-2@relaydesk.example>"
    assert first.peer != second.peer
    assert len(smtp_sink.messages) == 2


def test_a_server_restarted_between_sends_gets_the_next_message(
    smtp_sink: SmtpSink, sender: SmtpSender
) -> None:
    sender.send(outbound(1))
    smtp_sink.stop()
    smtp_sink.start()

    sender.send(outbound(2))

    assert "<out-2@relaydesk.example>" in smtp_sink.by_message_id()


def test_each_thread_sends_on_its_own_connection(smtp_sink: SmtpSink, sender: SmtpSender) -> None:
    sender.send(outbound(1))
    worker = threading.Thread(target=sender.send, args=(outbound(2),))
    worker.start()
    worker.join(timeout=5)

    first, second = smtp_sink.wait_for(2)
    assert first.peer != second.peer


def test_close_quits_the_connection_and_a_later_send_reconnects(
    smtp_sink: SmtpSink, sender: SmtpSender
) -> None:
    sender.send(outbound(1))
    sender.close()

    sender.send(outbound(2))

    first, second = smtp_sink.wait_for(2)
    assert first.peer != second.peer


def test_a_sends_timeout_bounds_its_waits_on_a_silent_relay_and_is_its_own(
    smtp_sink: SmtpSink,
) -> None:
    """A relay that accepts and never answers: the send gives up after its ``timeout_s``,
    not the relay's 60 s (no interrupt reaches a thread blocked reading a socket); a
    connection reused after a send with one waits ``smtp.timeout_s`` again."""
    silent = socket.create_server(("127.0.0.1", 0))
    try:
        quiet = SmtpSender(
            SmtpSettings(host="127.0.0.1", port=silent.getsockname()[1], timeout_s=60), HELPDESK
        )
        started = time.monotonic()
        with pytest.raises(TransientError, match="timed out"):
            quiet.send(outbound(1), timeout_s=0.3)
        assert time.monotonic() - started < 5
        quiet.close()
    finally:
        silent.close()
    sender = SmtpSender(
        SmtpSettings(host=smtp_sink.host, port=smtp_sink.port, timeout_s=7), HELPDESK
    )
    try:
        sender.send(outbound(2), timeout_s=0.5)
        client = sender._local.client
        assert client.sock.gettimeout() == 7  # the relay's own, for the next send
        sender.send(outbound(3))
        assert len(smtp_sink.wait_for(2)) == 2
    finally:
        sender.close()


def test_file_sender_writes_a_parseable_eml_file(tmp_path: Path) -> None:
    sender = FileSender(tmp_path / "outbox", HELPDESK)

    result = sender.send(outbound(7, subject="Olá [#7]"))

    [path] = (tmp_path / "outbox").iterdir()
    assert path.name.endswith("-out-7@relaydesk.example.eml")
    assert result.detail == str(path)
    email = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert email["Message-ID"] == "<out-7@relaydesk.example>"
    assert email["Subject"] == "Olá [#7]"
    assert not list((tmp_path / "outbox").glob(".*"))  # no temporary file left behind


def test_file_sender_names_are_safe_whatever_the_message_id(tmp_path: Path) -> None:
    FileSender(tmp_path, HELPDESK).send(outbound(message_id="<../../etc/passwd@x>"))

    [path] = tmp_path.iterdir()
    assert path.parent == tmp_path
    assert "/" not in path.name


def test_the_transport_setting_chooses_the_sender(tmp_path: Path) -> None:
    file_settings = Settings(smtp=SmtpSettings(transport="file", file_dir=str(tmp_path)))

    assert isinstance(make_email_sender(file_settings), FileSender)
    assert isinstance(make_email_sender(Settings()), SmtpSender)
