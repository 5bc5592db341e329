"""SmtpInboundServer against smtplib over loopback: relay policy, limits, the sink, TLS, AUTH."""

from __future__ import annotations

import base64
import logging
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest

from config import ConfigError
from config.email_settings import SmtpInboundSettings
from connectors.email.smtp_inbound import SmtpInboundServer
from router.errors import PermanentError, TransientError
from tests.support.tls import self_signed

pytestmark = pytest.mark.integration

OURS = "support@example.com"
SENDER = "ana@customer.example"
PASSWORD = "correct horse battery staple"
BASE: dict[str, Any] = {
    "host": "127.0.0.1",
    "port": 0,
    "hostname": "mx.relaydesk.test",
    "addresses": (OURS,),
    "domains": ("help.example.org",),
    "max_recipients": 3,
    "max_message_bytes": 10_000,
    "max_commands": 10,
    "timeout_s": 5,
}


@dataclass(frozen=True)
class Delivery:
    raw: bytes
    mail_from: str
    recipients: tuple[str, ...]


class FakeSink:
    """An in-memory MailSink: records deliveries; can fail the next ones or block."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.calls = 0
        self.entered = threading.Event()
        self._failures: list[Exception] = []
        self._gate: threading.Event | None = None
        self._lock = threading.Lock()

    def fail_next(self, error: Exception) -> None:
        with self._lock:
            self._failures.append(error)

    def block(self) -> threading.Event:
        """Make deliveries wait until the returned event is set."""
        self._gate = threading.Event()
        return self._gate

    def release(self) -> None:
        if self._gate is not None:
            self._gate.set()

    def deliver(self, raw: bytes, *, mail_from: str, recipients: tuple[str, ...]) -> None:
        with self._lock:
            self.calls += 1
        self.entered.set()
        if self._gate is not None:
            self._gate.wait(timeout=10)
        with self._lock:
            if self._failures:
                raise self._failures.pop(0)
            self.deliveries.append(Delivery(raw, mail_from, recipients))


Serve = Callable[..., SmtpInboundServer]


@pytest.fixture
def sink() -> FakeSink:
    return FakeSink()


@pytest.fixture
def serve(sink: FakeSink) -> Iterator[Serve]:
    """Start a server with BASE settings plus overrides; every one is stopped afterwards."""
    servers: list[SmtpInboundServer] = []

    def start(**overrides: Any) -> SmtpInboundServer:
        server = SmtpInboundServer(SmtpInboundSettings(**{**BASE, **overrides}), sink)
        server.start()
        servers.append(server)
        return server

    yield start
    sink.release()
    for server in servers:
        server.stop()


@pytest.fixture
def server(serve: Serve) -> SmtpInboundServer:
    return serve()


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 and its key, made now with openssl."""
    return self_signed(tmp_path_factory.mktemp("tls"))


def client_tls(tls_files: tuple[str, str]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=tls_files[0])


def connect(server: SmtpInboundServer) -> smtplib.SMTP:
    host, port = server.address
    return smtplib.SMTP(host, port, local_hostname="client.test", timeout=5)


def message(
    message_id: str = "<m1@customer.example>", body: str = "My printer is on fire."
) -> bytes:
    return (
        f"From: Ana <{SENDER}>\r\nTo: <{OURS}>\r\nSubject: Help\r\n"
        f"Message-ID: {message_id}\r\n\r\n{body}\r\n"
    ).encode()


def send(server: SmtpInboundServer, raw: bytes, recipients: tuple[str, ...] = (OURS,)) -> Any:
    with connect(server) as client:
        return client.sendmail(SENDER, list(recipients), raw)


def send_blocked(
    server: SmtpInboundServer, sink: FakeSink, pool: ThreadPoolExecutor
) -> Future[Any]:
    """Start sending one message in ``pool`` and return once the sink holds it."""
    future = pool.submit(send, server, message())
    assert sink.entered.wait(5), "the sink was never called"
    return future


# -- accepting mail ----------------------------------------------------------------


def test_mail_for_a_configured_address_is_committed_before_250(
    server: SmtpInboundServer, sink: FakeSink
) -> None:
    gate = sink.block()
    with ThreadPoolExecutor(1) as pool:
        try:
            future = send_blocked(server, sink, pool)
            time.sleep(0.2)
            assert not future.done(), "the client got its reply before the sink returned"
        finally:
            gate.set()
        assert future.result(timeout=5) == {}

    assert sink.deliveries == [Delivery(message(), SENDER, (OURS,))]


def test_the_server_binds_a_free_port_for_port_0_and_greets_with_its_hostname(
    server: SmtpInboundServer,
) -> None:
    host, port = server.address
    client = smtplib.SMTP(timeout=5)
    try:
        code, greeting = client.connect(host, port)
        assert (host, code) == ("127.0.0.1", 220)
        assert port != 0
        assert greeting.startswith(b"mx.relaydesk.test ")
        code, ehlo = client.ehlo("client.test")
        assert (code, ehlo.splitlines()[0]) == (250, b"mx.relaydesk.test")
    finally:
        client.close()


def test_mail_for_a_plus_address_of_a_configured_address_is_accepted(
    server: SmtpInboundServer, sink: FakeSink
) -> None:
    assert send(server, message(), ("Support+1234@Example.com",)) == {}

    assert [d.recipients for d in sink.deliveries] == [("Support+1234@Example.com",)]


@pytest.mark.parametrize(
    "recipient",
    [
        "support@example.com",
        "SUPPORT@EXAMPLE.COM",
        "support+1234@example.com",
        "anyone@help.example.org",
        "Billing+7@HELP.Example.org",
    ],
)
def test_a_configured_address_or_any_address_at_a_configured_domain_is_accepted(
    server: SmtpInboundServer, recipient: str
) -> None:
    with connect(server) as client:
        client.ehlo()
        client.mail(SENDER)
        assert client.rcpt(recipient)[0] == 250


@pytest.mark.parametrize(
    "recipient",
    [
        "someone@elsewhere.net",
        "sales@example.com",  # example.com is an address of ours, not a domain
        "supportx@example.com",
        "support@example.com.evil.net",
        "x@evil.help.example.org",  # a subdomain is not the domain
        "support@[127.0.0.1]",
    ],
)
def test_a_stranger_domain_is_refused_with_550_never_an_open_relay(
    server: SmtpInboundServer, sink: FakeSink, recipient: str
) -> None:
    with connect(server) as client:
        client.ehlo()
        client.mail(SENDER)
        code, reply = client.rcpt(recipient)
        assert code == 550
        assert b"5.7.1" in reply
        assert b"relay access denied" in reply
        client.rset()
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            client.sendmail(SENDER, [recipient], message())

    assert sink.calls == 0


@pytest.mark.parametrize("argument", ["TO:<support>", "TO:<>", "TO:<a@b@c>", "TO:<@example.com>"])
def test_a_malformed_recipient_is_refused_with_553_or_501(
    server: SmtpInboundServer, argument: str
) -> None:
    with connect(server) as client:
        client.ehlo()
        client.mail(SENDER)
        code, _ = client.docmd("RCPT", argument)
        assert code in (553, 501)


def test_the_recipient_past_max_recipients_gets_452(
    server: SmtpInboundServer, sink: FakeSink
) -> None:
    recipients = [OURS, "a@help.example.org", "b@help.example.org", "c@help.example.org"]
    with connect(server) as client:
        refused = client.sendmail(SENDER, recipients, message())

    assert refused == {"c@help.example.org": (452, b"4.5.3 Too many recipients")}
    assert [d.recipients for d in sink.deliveries] == [tuple(recipients[:3])]


def test_a_message_to_three_recipients_is_delivered_once_with_all_three(
    server: SmtpInboundServer, sink: FakeSink
) -> None:
    recipients = (OURS, "billing@help.example.org", "support+7@example.com")

    assert send(server, message(), recipients) == {}

    assert sink.calls == 1
    assert sink.deliveries == [Delivery(message(), SENDER, recipients)]


def test_a_repeated_recipient_is_accepted_but_delivered_to_once(
    server: SmtpInboundServer, sink: FakeSink
) -> None:
    assert send(server, message(), (OURS, OURS.upper(), OURS, OURS)) == {}

    assert [d.recipients for d in sink.deliveries] == [(OURS,)]


def test_raw_8bit_bytes_arrive_unchanged(server: SmtpInboundServer, sink: FakeSink) -> None:
    raw = (
        b"From: <ana@customer.example>\r\nSubject: caf\xc3\xa9\r\n"
        b"Content-Type: text/plain; charset=latin-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        b"na\xefve \xff\xfe\x80 bytes\r\n.a line with a leading dot\r\n..two dots\r\n\r\n"
    )
    with connect(server) as client:
        assert client.sendmail(SENDER, [OURS], raw, mail_options=["BODY=8BITMIME"]) == {}

    assert [d.raw for d in sink.deliveries] == [raw]


def many_lines(count: int) -> bytes:
    """A message of an attachment's 500 base64 lines, then ``count`` lines of all kinds:
    base64, dot-stuffed ones, bare LFs, empty ones."""
    kinds = [b"", b".", b"..two", b"a bare\nLF inside"]
    lines = [base64.b64encode(bytes([i % 256]) * 57) for i in range(500)]
    for i in range(count):
        kind = kinds[i % 4] + str(i).encode() if i % 7 > 2 else base64.b64encode(b"x" * 57)
        lines.append(kind)
    return message(body="start").rstrip(b"\r\n") + b"\r\n" + b"\r\n".join(lines) + b"\r\n"


def test_a_message_of_many_lines_with_dots_arrives_byte_for_byte(
    serve: Serve, sink: FakeSink
) -> None:
    """The DATA lines already received are read together (``smtp_session.DataReader``): dots,
    empty lines and bare LFs between them come through as they were sent."""
    server = serve(max_message_bytes=1_000_000, max_line_bytes=2_000)
    raws = [many_lines(3_000), many_lines(7), message(body=".")]
    with connect(server) as client:
        for raw in raws:
            assert client.sendmail(SENDER, [OURS], raw) == {}

    assert [d.raw for d in sink.deliveries] == raws
    assert len(raws[1]) > 10 * 2_000  # its 500 lines are far more than a chunk may hold


def test_a_whole_pipelined_session_in_one_write_delivers_its_messages_intact(
    serve: Serve, sink: FakeSink
) -> None:
    server = serve(max_message_bytes=1_000_000, max_line_bytes=2_000)
    first, second = many_lines(40), message("<m2@customer.example>", body="..dotted")
    stuffed = [raw.replace(b"\r\n.", b"\r\n..") for raw in (first, second)]
    session = b"EHLO client.test\r\n" + b"".join(
        f"MAIL FROM:<{SENDER}>\r\nRCPT TO:<{OURS}>\r\nDATA\r\n".encode() + data + b".\r\n"
        for data in stuffed
    )
    with socket.create_connection(server.address, timeout=5) as sock:
        sock.recv(1024)  # the greeting
        sock.sendall(session + b"QUIT\r\n")
        replies = b""
        while not replies.endswith(b"221 Bye\r\n"):
            chunk = sock.recv(4096)
            assert chunk, replies
            replies += chunk

    assert [d.raw for d in sink.deliveries] == [first, second]
    assert replies.count(b"\r\n250 ") + replies.startswith(b"250 ") >= 6  # MAIL, RCPT, 250 twice


def test_an_smtputf8_sender_and_recipient_are_accepted(
    server: SmtpInboundServer, sink: FakeSink
) -> None:
    raw = "From: José <josé@exämple.com>\r\nSubject: olá\r\n\r\nçà\r\n".encode()
    with connect(server) as client:
        refused = client.sendmail(
            "josé@exämple.com", ["søren@help.example.org"], raw, mail_options=["SMTPUTF8"]
        )

    assert refused == {}
    assert sink.deliveries == [Delivery(raw, "josé@exämple.com", ("søren@help.example.org",))]


def test_a_bounce_from_the_null_sender_is_delivered_with_an_empty_mail_from(
    server: SmtpInboundServer, sink: FakeSink
) -> None:
    with connect(server) as client:
        assert client.sendmail("", [OURS], message()) == {}

    assert [d.mail_from for d in sink.deliveries] == [""]


def test_an_accepted_message_is_logged_with_its_size_but_not_its_content(
    server: SmtpInboundServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    raw = message(body="the secret body marker")

    send(server, raw, (OURS, "billing@help.example.org"))

    [record] = [r for r in caplog.records if r.getMessage().startswith("accepted message")]
    assert record.levelno == logging.INFO
    assert f"from <{SENDER}> for 2 recipient(s), {len(raw)} bytes" in record.getMessage()
    assert "secret body marker" not in caplog.text


# -- limits ------------------------------------------------------------------------


def test_a_message_past_the_size_limit_on_mail_from_gets_552(
    server: SmtpInboundServer, sink: FakeSink
) -> None:
    with connect(server) as client:
        client.ehlo()
        assert client.esmtp_features["size"] == "10000"
        code, reply = client.mail(SENDER, ["SIZE=10001"])
        assert code == 552
        assert b"size" in reply
        assert client.mail(SENDER, ["SIZE=10000"])[0] == 250

    assert sink.calls == 0


def test_a_message_past_the_size_limit_in_its_data_gets_552(
    server: SmtpInboundServer, sink: FakeSink
) -> None:
    big = message(body="x" * 70 + "\r\n") * 200  # 20 KB in lines of 72 bytes
    with connect(server) as client:
        client.ehlo()
        client.mail(SENDER)  # no SIZE= announced: the DATA bytes are counted
        client.rcpt(OURS)
        code, _ = client.data(big)
        assert code == 552
        assert sink.calls == 0
        assert client.sendmail(SENDER, [OURS], message()) == {}  # the session goes on

    assert sink.calls == 1


def test_too_many_commands_in_one_session_are_cut_off_with_421(
    server: SmtpInboundServer,
) -> None:
    with connect(server) as client:
        for _ in range(10):  # max_commands = 10 per command verb
            assert client.noop()[0] == 250
        code, reply = client.noop()
        assert (code, reply) == (421, b"4.7.0 NOOP sent too many times")
        with pytest.raises(smtplib.SMTPServerDisconnected):
            client.noop()
            client.noop()


def test_an_idle_session_is_closed_after_the_timeout(serve: Serve) -> None:
    server = serve(timeout_s=0.3)
    with socket.create_connection(server.address, timeout=5) as conn:
        assert conn.recv(1024).startswith(b"220 ")
        started = time.monotonic()
        assert conn.recv(1024) == b""
        assert time.monotonic() - started < 3


# -- the sink's failures -----------------------------------------------------------


def test_an_unavailable_store_answers_451_and_the_message_is_accepted_when_retried(
    server: SmtpInboundServer, sink: FakeSink
) -> None:
    sink.fail_next(TransientError("database is down"))

    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(server, message())
    assert refused.value.smtp_code == 451
    assert refused.value.smtp_error == b"4.3.0 Temporary failure, try again later"
    assert sink.deliveries == []

    assert send(server, message()) == {}
    assert sink.deliveries == [Delivery(message(), SENDER, (OURS,))]


def test_an_unexpected_error_in_the_sink_answers_451_and_is_logged_with_its_traceback(
    server: SmtpInboundServer, sink: FakeSink, caplog: pytest.LogCaptureFixture
) -> None:
    sink.fail_next(RuntimeError("a bug in the store"))

    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(server, message())

    assert refused.value.smtp_code == 451
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.exc_info is not None
    assert "a bug in the store" in caplog.text


def test_a_permanently_refused_message_gets_554_with_its_reason(
    server: SmtpInboundServer, sink: FakeSink
) -> None:
    sink.fail_next(PermanentError("no From header\r\nsecond line"))

    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(server, message())

    assert refused.value.smtp_code == 554
    assert refused.value.smtp_error == b"5.6.0 no From header second line"
    assert sink.deliveries == []


def test_the_data_call_does_not_block_the_servers_event_loop(
    server: SmtpInboundServer, sink: FakeSink
) -> None:
    gate = sink.block()
    with ThreadPoolExecutor(1) as pool:
        try:
            future = send_blocked(server, sink, pool)
            with connect(server) as second:  # greeted within smtplib's 5 s timeout
                code, _ = second.ehlo()
                assert code == 250
                assert second.noop()[0] == 250
            assert not future.done()
        finally:
            gate.set()
        assert future.result(timeout=5) == {}


# -- lifecycle ---------------------------------------------------------------------


def test_a_port_in_use_fails_start_at_once_and_a_stopped_server_refuses_connections(
    server: SmtpInboundServer, sink: FakeSink
) -> None:
    settings = SmtpInboundSettings(**{**BASE, "port": server.address[1]})
    started = time.monotonic()
    with pytest.raises(OSError):
        SmtpInboundServer(settings, sink).start()
    assert time.monotonic() - started < 1

    address = server.address
    server.stop()
    with pytest.raises(OSError):
        socket.create_connection(address, timeout=2).close()


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"tls_cert_file": "/nonexistent/cert.pem", "tls_key_file": "/nonexistent/key.pem"}, "tls"),
        ({"username": "relay", "password_env": "RELAYDESK_TEST_UNSET_PASSWORD"}, "password"),
    ],
)
def test_an_unusable_tls_file_or_an_empty_auth_password_is_a_config_error_at_start(
    sink: FakeSink, tls_files: tuple[str, str], changes: dict[str, Any], key: str
) -> None:
    tls = {"tls_cert_file": tls_files[0], "tls_key_file": tls_files[1]}
    server = SmtpInboundServer(SmtpInboundSettings(**{**BASE, **tls, **changes}), sink)

    with pytest.raises(ConfigError) as refused:
        server.start()

    assert key in refused.value.problems[0][0]
    with pytest.raises(RuntimeError):
        _ = server.address


# -- STARTTLS and AUTH -------------------------------------------------------------


def test_starttls_works_with_a_self_signed_certificate(
    serve: Serve, sink: FakeSink, tls_files: tuple[str, str]
) -> None:
    server = serve(tls_cert_file=tls_files[0], tls_key_file=tls_files[1])
    with connect(server) as client:
        client.ehlo()
        assert client.has_extn("starttls")
        assert client.starttls(context=client_tls(tls_files))[0] == 220
        client.ehlo()
        assert not client.has_extn("auth")  # no username configured: AUTH is not offered
        assert client.sendmail(SENDER, [OURS], message()) == {}

    assert sink.calls == 1


def test_mail_before_starttls_is_refused_when_tls_is_required(
    serve: Serve, tls_files: tuple[str, str]
) -> None:
    server = serve(tls_cert_file=tls_files[0], tls_key_file=tls_files[1], require_tls=True)
    with connect(server) as client:
        client.ehlo()
        assert client.mail(SENDER)[0] == 530


@pytest.fixture
def auth_server(serve: Serve, tls_files: tuple[str, str]) -> SmtpInboundServer:
    cert, key = tls_files
    return serve(tls_cert_file=cert, tls_key_file=key, username="relay", password=PASSWORD)


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_auth_over_tls_succeeds_with_the_right_password_and_never_logs_it(
    auth_server: SmtpInboundServer,
    sink: FakeSink,
    tls_files: tuple[str, str],
    caplog: pytest.LogCaptureFixture,
    mechanism: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    with connect(auth_server) as client:
        client.starttls(context=client_tls(tls_files))
        client.ehlo()
        assert client.esmtp_features["auth"].split() == ["LOGIN", "PLAIN"]
        client.user, client.password = "relay", PASSWORD
        auth = client.auth_plain if mechanism == "PLAIN" else client.auth_login
        assert client.auth(mechanism, auth)[0] == 235
        assert client.sendmail(SENDER, [OURS], message()) == {}

    assert sink.calls == 1
    assert PASSWORD not in caplog.text
    assert "Y29ycmVjdCBob3JzZSBiYXR0ZXJ5IHN0YXBsZ" not in caplog.text  # nor in base64


@pytest.mark.parametrize("user", ["relay", "someone-else"])
def test_auth_with_wrong_credentials_fails_with_535(
    auth_server: SmtpInboundServer, tls_files: tuple[str, str], user: str
) -> None:
    with connect(auth_server) as client:
        client.starttls(context=client_tls(tls_files))
        with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
            client.login(user, "wrong password")
        assert refused.value.smtp_code == 535


def test_mail_without_auth_is_refused_when_auth_is_configured(
    auth_server: SmtpInboundServer, sink: FakeSink, tls_files: tuple[str, str]
) -> None:
    with connect(auth_server) as client:
        client.starttls(context=client_tls(tls_files))
        client.ehlo()
        assert client.mail(SENDER) == (530, b"5.7.0 Authentication required")

    assert sink.calls == 0


def test_auth_is_neither_offered_nor_accepted_before_starttls(
    auth_server: SmtpInboundServer,
) -> None:
    with connect(auth_server) as client:
        client.ehlo()
        assert not client.has_extn("auth")
        code, _ = client.docmd("AUTH", "PLAIN AHJlbGF5AHdyb25n")
        assert code == 538


def test_sessions_past_max_connections_are_refused_with_421_until_one_closes(
    serve: Serve, sink: FakeSink
) -> None:
    server = serve(max_connections=2)
    first, second = connect(server), connect(server)
    try:
        with pytest.raises(smtplib.SMTPConnectError) as refused:
            connect(server)
        assert refused.value.smtp_code == 421
    finally:
        first.quit()
    for _ in range(50):  # the server notices the closed session a moment after QUIT
        try:
            third = connect(server)
            break
        except smtplib.SMTPConnectError:
            time.sleep(0.02)
    with third:  # a slot freed: served again
        third.sendmail(SENDER, [OURS], message())
    second.quit()
    assert len(sink.deliveries) == 1


def test_a_relay_may_send_many_messages_on_one_connection(serve: Serve, sink: FakeSink) -> None:
    server = serve(max_commands=10, max_messages_per_session=30)
    with connect(server) as client:
        for i in range(25):  # well past max_commands: MAIL and DATA have their own budget
            client.sendmail(SENDER, [OURS], message(f"<many-{i}@customer.example>"))
    assert len(sink.deliveries) == 25


def test_starttls_sessions_do_not_use_up_connection_slots(
    serve: Serve, sink: FakeSink, tls_files: tuple[str, str]
) -> None:
    server = serve(max_connections=2, tls_cert_file=tls_files[0], tls_key_file=tls_files[1])
    for i in range(5):  # each session upgrades to TLS, sends, and leaves
        with connect(server) as client:
            client.starttls(context=client_tls(tls_files))
            client.sendmail(SENDER, [OURS], message(f"<tls-{i}@customer.example>"))
        time.sleep(0.05)  # the server notices the closed session a moment after QUIT
    assert len(sink.deliveries) == 5


def test_auth_guessing_is_cut_off_after_three_tries_in_a_session(
    serve: Serve, tls_files: tuple[str, str]
) -> None:
    server = serve(
        tls_cert_file=tls_files[0], tls_key_file=tls_files[1], username="relay", password="s3cret"
    )
    with connect(server) as client:
        client.starttls(context=client_tls(tls_files))
        client.ehlo()
        codes = []
        for guess in ("a", "b", "c", "d"):
            token = base64.b64encode(f"\0relay\0{guess}".encode()).decode()
            try:
                codes.append(client.docmd("AUTH", f"PLAIN {token}")[0])
            except smtplib.SMTPServerDisconnected:
                codes.append(0)
                break
    assert codes[:3] == [535, 535, 535] and codes[3] in (421, 0)


def test_a_line_far_past_1000_bytes_is_accepted_and_kept_intact(
    serve: Serve, sink: FakeSink
) -> None:
    """HTML mail written on one line is common; Postfix takes it, so must we."""
    server = serve(max_message_bytes=1_000_000)
    html = "<html><body>" + "<p>the VPN refuses my certificate</p>" * 5_000 + "</body></html>"
    raw = (
        f"From: Ana <{SENDER}>\r\nTo: <{OURS}>\r\nSubject: Help\r\n"
        "Content-Type: text/html; charset=utf-8\r\n\r\n"
        f"{html}\r\n"
    ).encode()
    assert len(html) > 150_000
    assert send(server, raw) == {}

    assert [d.raw for d in sink.deliveries] == [raw]


def test_a_line_past_max_line_bytes_is_refused_and_the_session_goes_on(
    serve: Serve, sink: FakeSink
) -> None:
    server = serve(max_message_bytes=1_000_000, max_line_bytes=10_000)
    long_line = message(body="x" * 20_000)
    with connect(server) as client:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            client.sendmail(SENDER, [OURS], long_line)
        assert refused.value.smtp_code == 500
        assert client.sendmail(SENDER, [OURS], message(body="y" * 9_000)) == {}

    assert len(sink.deliveries) == 1


def test_every_session_can_have_its_message_in_the_sink_at_once(
    serve: Serve, sink: FakeSink
) -> None:
    # the sink's group commit may hold each session's message until the others' come:
    # the server must run one delivery per session at once, however few its cores
    # (a pool sized by the CPUs, 6 threads on two, left the rest queued behind them)
    clients = 12
    together = threading.Barrier(clients, timeout=10)

    class AllAtOnce(FakeSink):
        def deliver(self, raw: bytes, *, mail_from: str, recipients: tuple[str, ...]) -> None:
            together.wait()  # broken (and a 451) unless all twelve are in here together
            super().deliver(raw, mail_from=mail_from, recipients=recipients)

    server = SmtpInboundServer(
        SmtpInboundSettings(**{**BASE, "max_connections": clients}), AllAtOnce()
    )
    with server, ThreadPoolExecutor(clients) as pool:
        ids = [f"<m{i}@customer.example>" for i in range(clients)]
        answers = list(pool.map(lambda i: send(server, message(i)), ids))
    assert answers == [{}] * clients
