"""The mail written without its ``EmailMessage`` (``build_wire``, ``plain_headers``,
``plain_body``): the bytes the stdlib writes, for generated headers and mails, plain or
not."""

from __future__ import annotations

import random
import smtplib
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import connectors.email.compose as compose_module
from connectors.email import plain_body
from connectors.email.compose import build_email, build_wire, email_bytes
from connectors.email.email_policy import POLICY
from connectors.email.outbound import envelope_address
from connectors.email.plain_body import written_text
from connectors.email.plain_headers import plain_line, plain_mailbox
from router.envelopes import OutboundMessage
from router.errors import PermanentError
from router.vocabulary import Channel

NOW = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
FROM = "support@relaydesk.example"
STDLIB = policy.EmailPolicy()  # a registry of its own: every header parsed anew
WIRE = STDLIB.clone(linesep="\r\n")

# the characters that make a header plain or not: atext, specials, spaces, encoded-word
# starts, a non-ASCII letter, a tab
CHARS = "aZ09.'!#~-_=?\"()<>@,;:\\[] \té中"
WORDS = st.text(alphabet=st.sampled_from(CHARS), max_size=12)
TEXTS = st.lists(st.one_of(WORDS, st.sampled_from(["Ana", "Souza", "x" * 30])), max_size=8).map(
    " ".join
)
SPECS = st.builds(
    lambda local, domain: f"{local}@{domain}",
    st.one_of(WORDS, st.sampled_from(["ana", "a.b+tag", "support+42"])),
    st.one_of(WORDS, st.sampled_from(["customer.example", "relaydesk.example", "x"])),
)
IDS = st.one_of(SPECS.map(lambda spec: f"<{spec}>"), SPECS, TEXTS)
HEADERS = st.sampled_from(
    ["Subject", "To", "Reply-To", "Message-ID", "In-Reply-To", "References", "X-Loop", "Date"]
)


def _stdlib_line(name: str, value: str) -> bytes:
    return WIRE.fold_binary(name, STDLIB.header_store_parse(name, value)[1])


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Subject", "[#42] Order 123 has not arrived"),
        ("To", "Ana Souza <ana.souza@customer.example>"),
        ("To", "O'Brien <o'brien+tag@example.ie>"),
        ("Reply-To", "support+42@relaydesk.example"),
        ("Message-ID", "<relaydesk.0123abcd@relaydesk.example>"),
        ("In-Reply-To", "<web-42@relaydesk.example>"),
        ("X-Loop", "support@relaydesk.example"),
        ("References", "<a@relaydesk.example>"),
    ],
)
def test_a_plain_header_is_written_as_it_is(name: str, value: str) -> None:
    assert plain_line(name, value) == f"{name}: {value}\r\n".encode() == _stdlib_line(name, value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Subject", "x" * 70),  # a line to fold
        ("Subject", "Grüße"),
        ("Subject", "=?utf-8?q?hi?="),
        ("Subject", "two  spaces"),
        ("To", "a.b <a@b.example>"),  # quoted when written
        ("To", '"Ana" <a@b.example>'),
        ("To", "a@b.example, c@d.example"),  # a list
        ("To", "a (comment) <a@b.example>"),
        ("Message-ID", "<a@b@c>"),  # the stdlib writes "<a@b>"
        ("Message-ID", "<a@[127.0.0.1]>"),
        ("Date", "Wed, 02 Jan 2030 03:04:05 +0000"),  # parsed and written anew
        ("Content-Type", "text/plain"),
    ],
)
def test_anything_else_is_left_to_the_stdlib(name: str, value: str) -> None:
    assert plain_line(name, value) is None


@settings(max_examples=400)
@given(name=HEADERS, value=st.one_of(TEXTS, SPECS, IDS))
def test_a_line_written_as_it_is_is_the_stdlibs(name: str, value: str) -> None:
    line = plain_line(name, value)
    if line is not None:
        assert line == _stdlib_line(name, value)


@settings(max_examples=400)
@given(display=TEXTS, spec=SPECS)
def test_a_plain_mailbox_reads_back_as_its_address_without_a_defect(
    display: str, spec: str
) -> None:
    text = plain_mailbox(display, spec)
    if text is None:
        return
    local, _, domain = spec.rpartition("@")
    assert text == str(Address(display_name=display, username=local, domain=domain))
    parsed = STDLIB.header_factory("To", text)
    assert not parsed.defects
    assert [address.addr_spec for address in parsed.addresses] == [spec]


@pytest.mark.parametrize(
    ("display", "spec", "text"),
    [
        ("Ana Souza", "ana@customer.example", "Ana Souza <ana@customer.example>"),
        ("", "a.b+tag@x", "a.b+tag@x"),
        ("O'Brien", "o'brien@example.ie", "O'Brien <o'brien@example.ie>"),
    ],
)
def test_a_plain_mailbox_is_written_as_it_is(display: str, spec: str, text: str) -> None:
    assert plain_mailbox(display, spec) == text


@pytest.mark.parametrize(
    ("display", "spec"),
    [
        # an encoded word as the address: the stdlib refuses it; written as it is, a
        # reader would decode "To: evil@x.example" (a review's finding)
        ("", "=?us-ascii?q?evil?=@x.example"),
        ("Ana", "=?utf-8?q?a=40b?=@x"),
        ("=?utf-8?q?Ana?=", "ana@customer.example"),
        ("a.b", "ana@customer.example"),  # quoted when written
        ("Ana", "ana@[127.0.0.1]"),
    ],
)
def test_a_mailbox_that_is_not_plain_is_left_to_the_stdlib(display: str, spec: str) -> None:
    assert plain_mailbox(display, spec) is None


def _outcome(message: OutboundMessage, from_name: str, *, wire: bool) -> bytes | str:
    random.seed(message.message_id + message.body_text)  # a boundary the generator makes
    reply_to = message.reply_to or FROM
    try:
        if wire:
            return build_wire(
                message, from_address=FROM, from_name=from_name, reply_to=reply_to, now=NOW
            ).data
        return email_bytes(
            build_email(message, from_address=FROM, from_name=from_name, reply_to=reply_to, now=NOW)
        )
    except PermanentError as error:
        return str(error).removeprefix(f"message {message.message_id}: ")
    except Exception as error:  # e.g. the stdlib's IndexError on the Message-ID "<@>"
        return f"{type(error).__name__}: {error}"


# bodies: short lines, a long one, blank lines, bare CR, non-ASCII, a boundary-like line
BODY_CHARS = st.sampled_from("ab -\r\n\t.=>é\x0c")
BODIES = st.one_of(
    st.sampled_from(["We are on it.\n", "word " * 40, "Grüße\n", "", "x" * 78, "x" * 79]),
    st.text(alphabet=BODY_CHARS, max_size=200),
    st.lists(st.text(alphabet=BODY_CHARS, max_size=90), max_size=4).map("\n".join),
)
MESSAGES = st.builds(
    OutboundMessage,
    channel=st.just(Channel.EMAIL),
    recipient=SPECS,
    recipient_name=TEXTS,
    subject=TEXTS,
    body_text=BODIES,
    body_html=st.one_of(st.none(), BODIES),
    message_id=IDS,
    in_reply_to=st.one_of(st.none(), IDS),
    references=st.lists(IDS, max_size=4).map(tuple),
    reply_to=st.one_of(st.none(), SPECS),
    automatic=st.booleans(),
    notification=st.booleans(),
    language=st.sampled_from([None, "en", "zh"]),
)


@settings(max_examples=300)
@given(message=MESSAGES, from_name=TEXTS)
def test_a_mail_written_without_its_message_is_the_stdlibs(
    message: OutboundMessage, from_name: str
) -> None:
    """``build_wire`` against ``email_bytes(build_email(...))`` with nothing written as it
    is (every header parsed and folded by the stdlib, each address checked by it)."""
    wired = _outcome(message, from_name, wire=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(compose_module, "_POLICY", STDLIB)
        patch.setattr(compose_module, "_WIRE_POLICY", WIRE)
        patch.setattr(compose_module, "_address", compose_module._address.__wrapped__)
        patch.setattr(compose_module, "plain_mailbox", lambda display, spec: None)
        assert wired == _outcome(message, from_name, wire=False)


@settings(max_examples=300)
@given(message=MESSAGES, from_address=SPECS)
def test_an_envelope_address_is_named_as_smtplib_quotes_it(
    message: OutboundMessage, from_address: str
) -> None:
    """MAIL and RCPT name the addresses of any mail ``build_wire`` writes as smtplib's
    ``mail`` and ``rcpt`` would (``quoteaddr``, which parses each again)."""
    try:
        wire = build_wire(message, from_address=from_address, from_name="Desk", reply_to=FROM)
    except Exception:  # (PermanentError, or the stdlib's own on a few: see _outcome)
        return  # not sent
    for spec in (wire.sender, wire.recipient):
        assert envelope_address(spec) == smtplib.quoteaddr(spec)


EDGES = ["x" * 78, "x" * 79, "a\rb\r\nc\n", "", "\n\n", "tail without newline", "é", "a\tb \n"]
# line breaks to str.splitlines but not to bytes.splitlines (nor to the stdlib's 7bit rule)
EDGES += ["a\x0cb\x0bc\x1cd\n"]


# a text holding the process's boundary: made in the test, since the boundary is drawn per
# process and a test's id (its parameters) must be the same in every pytest-xdist worker
HOLDS_BOUNDARY = "(a line of the process's boundary)"


@pytest.mark.parametrize("html", [None, "<p>x</p>", *EDGES])
@pytest.mark.parametrize("text", [*EDGES, HOLDS_BOUNDARY])
def test_a_body_at_the_edges_of_7bit_is_the_stdlibs(text: str, html: str | None) -> None:
    """The bodies next to what ``plain_body`` writes from a skeleton (a line of 78 and of
    79, bare CRs, no text, non-ASCII, a text holding the process's boundary)."""
    if text == HOLDS_BOUNDARY:
        text = f"--{compose_module._BOUNDARY}\n"
    message = OutboundMessage(
        channel=Channel.EMAIL,
        recipient="ana@customer.example",
        subject="Hello",
        body_text=text,
        body_html=html,
        message_id="<out-1@relaydesk.example>",
        language="en",
    )
    wired = _outcome(message, "Relay Desk", wire=True)
    assert isinstance(wired, bytes)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(compose_module, "_POLICY", STDLIB)
        patch.setattr(compose_module, "_WIRE_POLICY", WIRE)
        assert wired == _outcome(message, "Relay Desk", wire=False)


@pytest.mark.parametrize(
    "smuggled",
    [
        b"Subject: x\r\nBcc: victim@evil.example\r\n",
        b"Subject: x\x00y\r\n",
        b"Subject: \xc3\xa9\r\n",
    ],
)
def test_a_header_line_that_slipped_through_is_refused_by_build_wire(
    smuggled: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last line of defence on the path deliveries take: whatever wrote a header line,
    an extra line, a control or a non-ASCII byte in the header section is never sent."""
    monkeypatch.setattr(
        compose_module,
        "plain_line",
        lambda name, value: smuggled if name == "Subject" else None,
    )
    message = OutboundMessage(
        channel=Channel.EMAIL,
        recipient="ana@customer.example",
        subject="Your ticket",
        body_text="We are on it.",
        message_id="<out-1@relaydesk.example>",
    )
    with pytest.raises(PermanentError, match="safe lines"):
        build_wire(message, from_address=FROM, from_name="Desk", reply_to=FROM, now=NOW)


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("Grüße, we are on it.\n", None),  # non-ASCII: quoted-printable, as the mail asks
        ("We are on it.\n", "<p>" + "An agent will answer you soon. " * 3 + "</p>\n"),  # 99
        ("Grüße\n" + "word " * 40 + "\n", "<p>Grüße</p>\n"),
    ],
)
def test_a_quoted_printable_text_is_written_from_the_skeleton(
    text: str, html: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A body whose texts the stdlib writes quoted-printable (non-ASCII, or a line longer
    than 78: an acknowledgement's HTML) is written without a message of its own, once its
    shape's skeleton is made, and reads as the stdlib writes it."""
    message = OutboundMessage(
        channel=Channel.EMAIL,
        recipient="ana@customer.example",
        subject="Hello",
        body_text=text,
        body_html=html,
        message_id="<out-1@relaydesk.example>",
        language="en",
    )
    stdlib = email_bytes(
        build_email(message, from_address=FROM, from_name="Desk", reply_to=FROM, now=NOW)
    )
    assert b"Content-Transfer-Encoding: quoted-printable" in stdlib
    build_wire(message, from_address=FROM, from_name="Desk", reply_to=FROM, now=NOW)

    def no_message(*args: object, **kwargs: object) -> None:
        raise AssertionError("the body was written on a message of its own")

    monkeypatch.setattr(compose_module, "_body", no_message)
    wired = build_wire(message, from_address=FROM, from_name="Desk", reply_to=FROM, now=NOW)
    assert wired.data == stdlib


# plain_body borrows the stdlib's private ``email.contentmanager._encode_text`` (what
# ``set_content`` calls to choose a text's transfer encoding and encode it): the public
# route to the same bytes (a message of its own, ``set_content``, its headers parsed) costs
# two to five times as much a text, and every text of a mail in Chinese takes it. These pin
# the borrowed function to what the public route writes, so a Python whose private
# function moves, changes its arguments or writes otherwise fails here, not in the wild.
QP_CHARS = st.sampled_from("ab =.\t\r\n-é中\x0cZ")
QP_TEXTS = st.one_of(
    st.text(alphabet=QP_CHARS, max_size=300),
    st.lists(st.text(alphabet=QP_CHARS, min_size=70, max_size=90), max_size=12).map("\n".join),
    st.sampled_from(["Grüße\n", "x" * 79 + "\n", "a=b\n", "end \n", "", "\n\n", "中" * 40]),
)


def _public_part(text: str, cte: str | None) -> tuple[str, bytes]:
    """The transfer encoding and the body the stdlib writes for a part ``set_content`` of
    ``text`` makes, through public API only."""
    part = EmailMessage(policy=POLICY)
    part.set_content(text, cte=cte)
    written = part.as_bytes(policy=POLICY.clone(linesep="\r\n"))
    return str(part["Content-Transfer-Encoding"]), written.split(b"\r\n\r\n", 1)[1]


@settings(max_examples=400)
@given(text=QP_TEXTS, cte=st.sampled_from([None, "quoted-printable"]))
def test_a_text_written_by_plain_body_is_what_the_public_route_writes(
    text: str, cte: str | None
) -> None:
    try:
        public = _public_part(text, cte)
    except (ValueError, LookupError):
        assert written_text(text, cte, POLICY) is None
        return
    written = written_text(text, cte, POLICY)
    if written is not None:
        assert written == public
    else:  # left to the stdlib: an encoding plain_body does not write
        assert public[0] not in ("7bit", "quoted-printable")


def test_the_borrowed_encoder_is_the_one_set_content_calls() -> None:
    """The private function, called as plain_body calls it, against the public route and
    pinned answers (quoted-printable of UTF-8, lines of at most ``max_line_length`` with
    their soft breaks: 78, policy.default's, where RFC 2045 says 76; an =XX never split
    across lines)."""
    cases: list[tuple[str, str | None]] = [("We are on it.\n", None), ("b" * 100 + "\n", None)]
    cases += [(text, "quoted-printable") for text in ("Grüße aus München\n", "a" * 100 + "é\n")]
    for text, cte in cases:
        chosen, payload = plain_body._encode_text(text, "utf-8", cte, POLICY)
        public = _public_part(text, cte)
        assert (chosen, payload.replace("\n", "\r\n").encode("ascii")) == public
    assert plain_body._encode_text("Grüße\n", "utf-8", "quoted-printable", POLICY) == (
        "quoted-printable",
        "Gr=C3=BC=C3=9Fe\n",
    )
    long_line = plain_body._encode_text("é" * 30 + "\n", "utf-8", "quoted-printable", POLICY)
    long_ascii = plain_body._encode_text("a" * 100 + "\n", "utf-8", "quoted-printable", POLICY)
    assert long_ascii == ("quoted-printable", "a" * 77 + "=\n" + "a" * 23 + "\n")  # 78 a line
    lines = ["=C3=A9" * 12 + "=C3=", "=A9" + "=C3=A9" * 12 + "=", "=C3=A9" * 5]
    assert long_line == ("quoted-printable", "\n".join(lines) + "\n")
