"""build_email: the headers we promise, and no way to smuggle in new ones."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any, cast

import pytest

import connectors.email.compose as compose_module
from connectors.email.compose import build_email, build_wire, email_bytes, header_text
from router.envelopes import OutboundMessage
from router.errors import PermanentError
from router.vocabulary import Channel
from tests.support.compositions import Files, compositions

NOW = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
FROM = "support@relaydesk.example"


def outbound(**changes: Any) -> OutboundMessage:
    fields: dict[str, Any] = {
        "channel": Channel.EMAIL,
        "recipient": "ana@customer.example",
        "recipient_name": "Ana Souza",
        "subject": "Your ticket [#42]",
        "body_text": "We are on it.",
        "message_id": "<out-1@relaydesk.example>",
    }
    fields.update(changes)
    return OutboundMessage(**fields)


def compose(message: OutboundMessage, from_name: str = "Relay Desk") -> EmailMessage:
    return build_email(message, from_address=FROM, from_name=from_name, reply_to=FROM, now=NOW)


def wire(message: OutboundMessage, from_name: str = "Relay Desk") -> bytes:
    return compose(message, from_name).as_bytes(policy=policy.default.clone(linesep="\r\n"))


def reparsed(message: OutboundMessage, from_name: str = "Relay Desk") -> EmailMessage:
    raw = wire(message, from_name)
    return cast(EmailMessage, message_from_bytes(raw, policy=policy.default))


def header_names(raw: bytes) -> list[str]:
    """The header names a receiver sees; fails on a bare CR or LF anywhere."""
    assert raw.count(b"\n") == raw.count(b"\r\n") == raw.count(b"\r")
    return [name.lower() for name in message_from_bytes(raw, policy=policy.default)]


INJECTIONS = [
    "Hello\r\nBcc: victim@evil.example",
    "Hello\nBcc: victim@evil.example",
    "Hello\rBcc: victim@evil.example",
    "Hello\x85Bcc: victim@evil.example",
    "Hello\u2028Bcc: victim@evil.example",
    "Re: =?utf-8?q?Hello=0ABcc:_victim@evil.example?=",
    "Re: =?utf-8?q?Hello=0D=0ABcc:_victim@evil.example?=",
    "Re: =?utf-8?b?SGVsbG8KQmNjOiB2aWN0aW1AZXZpbC5leGFtcGxl?=",
    # an encoded word that decodes into another encoded word hiding the newline
    "=?utf-8?q?=3D=3Futf-8=3Fq=3FHello=3D0ABcc=3A=5Fvictim@evil.example=3F=3D?=",
]


def test_sets_the_addressing_and_identity_headers() -> None:
    email = reparsed(outbound())

    assert email["From"].addresses[0].display_name == "Relay Desk"
    assert email["From"].addresses[0].addr_spec == FROM
    assert email["To"].addresses[0].display_name == "Ana Souza"
    assert email["To"].addresses[0].addr_spec == "ana@customer.example"
    assert email["Reply-To"].addresses[0].addr_spec == FROM
    assert email["Subject"] == "Your ticket [#42]"
    assert email["Message-ID"] == "<out-1@relaydesk.example>"
    assert email["Date"].datetime == NOW
    assert email["X-Loop"] == FROM
    assert email.get_content_type() == "text/plain"
    assert email.get_content().strip() == "We are on it."


@pytest.mark.parametrize(("language", "tag"), [("en", "en"), ("zh_CN", "zh-CN")])
def test_the_language_it_is_written_in_is_its_content_language(language: str, tag: str) -> None:
    email = reparsed(outbound(language=language))

    assert email["Content-Language"] == tag
    assert OutboundMessage.from_payload(outbound(language=language).to_payload()).language == (
        language
    )


def test_the_content_language_is_the_whole_messages_with_an_alternative_and_files() -> None:
    message = outbound(language="zh_CN", body_html="<p>好</p>")
    email = build_email(
        message,
        from_address=FROM,
        from_name="",
        reply_to=FROM,
        now=NOW,
        files=[("a.pdf", "application/pdf", b"%PDF-1.4")],
    )

    assert email["Content-Language"] == "zh-CN"
    assert [p.get("Content-Language") for p in email.iter_parts()] == [None, None]


def test_a_message_of_no_known_language_states_none() -> None:
    assert "Content-Language" not in reparsed(outbound())


@pytest.mark.parametrize("subject", INJECTIONS)
def test_subject_cannot_inject_a_header(subject: str) -> None:
    raw = wire(outbound(subject=subject))
    email = message_from_bytes(raw, policy=policy.default)

    assert "bcc" not in header_names(raw)
    assert email["Bcc"] is None
    assert "Bcc: victim@evil.example" in str(email["Subject"])
    assert "\n" not in str(email["Subject"]) and "\r" not in str(email["Subject"])


@pytest.mark.parametrize("name", INJECTIONS)
def test_recipient_name_cannot_inject_a_header(name: str) -> None:
    raw = wire(outbound(recipient_name=name))
    email = message_from_bytes(raw, policy=policy.default)

    assert "bcc" not in header_names(raw)
    [recipient] = email["To"].addresses
    assert recipient.addr_spec == "ana@customer.example"
    assert "\n" not in recipient.display_name and "\r" not in recipient.display_name


def test_quoted_encoded_word_in_a_name_cannot_inject_a_header() -> None:
    raw = wire(outbound(recipient_name='Eve"=?utf-8?q?x=0ABcc:_victim@evil.example?='))

    assert "bcc" not in header_names(raw)


@pytest.mark.parametrize("name", INJECTIONS)
def test_sender_name_cannot_inject_a_header(name: str) -> None:
    raw = wire(outbound(), from_name=name)

    assert "bcc" not in header_names(raw)


@pytest.mark.parametrize(
    "recipient",
    [
        "ana@customer.example\r\nBcc: victim@evil.example",
        "ana@customer.example\nX: y",
        "no-at-sign",
    ],
)
def test_an_unusable_recipient_address_is_a_permanent_error(recipient: str) -> None:
    with pytest.raises(PermanentError):
        compose(outbound(recipient=recipient))


def test_a_non_ascii_recipient_address_is_a_permanent_error() -> None:
    with pytest.raises(PermanentError, match="non-ASCII"):
        compose(outbound(recipient="jürgen@example.de"))


def test_control_characters_in_the_subject_become_single_spaces() -> None:
    email = reparsed(outbound(subject="  a\tb\x00c\r\n\r\nd  "))

    assert email["Subject"] == "a b c d"


def test_non_ascii_names_and_subject_are_encoded_words_that_decode_back() -> None:
    message = outbound(recipient_name="Jürgen Groß", subject="Ärger mit der Rechnung: 請求書")
    raw = wire(message, from_name="Suporte Ação")
    email = message_from_bytes(raw, policy=policy.default)

    assert raw.isascii()
    assert b"=?utf-8?" in raw
    assert email["To"].addresses[0].display_name == "Jürgen Groß"
    assert email["From"].addresses[0].display_name == "Suporte Ação"
    assert email["Subject"] == "Ärger mit der Rechnung: 請求書"


def test_a_long_non_ascii_subject_folds_and_decodes_back() -> None:
    subject = "Ünïcödé " * 30
    raw = wire(outbound(subject=subject))

    assert all(len(line) <= 78 for line in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n"))
    assert message_from_bytes(raw, policy=policy.default)["Subject"] == subject.strip()


def test_a_reply_carries_in_reply_to_and_references_ending_with_the_parent() -> None:
    email = reparsed(outbound(in_reply_to="<parent@x>", references=("<root@x>", "<mid@x>")))

    assert email["In-Reply-To"] == "<parent@x>"
    assert str(email["References"]).split() == ["<root@x>", "<mid@x>", "<parent@x>"]


def test_references_do_not_repeat_a_parent_already_listed() -> None:
    email = reparsed(outbound(in_reply_to="<parent@x>", references=("<root@x>", "<parent@x>")))

    assert str(email["References"]).split() == ["<root@x>", "<parent@x>"]


def test_a_new_conversation_has_no_threading_headers() -> None:
    email = reparsed(outbound())

    assert email["In-Reply-To"] is None
    assert email["References"] is None


def test_malformed_references_are_dropped_not_sent() -> None:
    email = reparsed(outbound(in_reply_to="<a b>", references=("<ok@x>", "<bad\r\nX: y@x>")))

    assert email["In-Reply-To"] is None
    assert str(email["References"]).split() == ["<ok@x>"]


def test_an_invalid_own_message_id_is_a_permanent_error() -> None:
    with pytest.raises(PermanentError, match="Message-ID"):
        compose(outbound(message_id="<has space@x>"))


def test_automatic_mail_says_so_to_other_robots() -> None:
    email = reparsed(outbound(automatic=True))

    assert email["Auto-Submitted"] == "auto-replied"
    assert email["X-Auto-Response-Suppress"] == "All"


def test_mail_written_by_a_person_is_not_marked_automatic() -> None:
    email = reparsed(outbound(automatic=False))

    assert email["Auto-Submitted"] is None
    assert email["X-Auto-Response-Suppress"] is None


def test_html_body_is_an_alternative_to_the_text() -> None:
    email = reparsed(outbound(body_text="Olá, tudo bem?", body_html="<p>Olá, <b>tudo</b> bem?</p>"))

    assert email.get_content_type() == "multipart/alternative"
    plain = email.get_body(preferencelist=("plain",))
    html = email.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    assert plain.get_content().strip() == "Olá, tudo bem?"
    assert html.get_content().strip() == "<p>Olá, <b>tudo</b> bem?</p>"


def test_the_message_is_seven_bit_clean_for_any_relay() -> None:
    raw = wire(outbound(body_text="Grüße " * 100, body_html="<p>Grüße</p>"))

    assert raw.isascii()
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998


def test_the_wire_bytes_are_the_message_with_crlf_lines() -> None:
    email = compose(outbound(body_html="<p>We are on it.</p>"))
    data = email_bytes(email)
    assert data == email.as_bytes(policy=policy.default.clone(linesep="\r\n"))
    assert header_names(data)[:3] == ["from", "to", "reply-to"]


@pytest.mark.parametrize(
    "smuggled",
    [
        "Hello\r\nBcc: victim@evil.example",  # a raw header value, past the policy's parsing
        "Hello\nBcc: victim@evil.example",
        "Hello\x00there",
        "Héllo",
    ],
)
def test_a_header_line_that_slipped_through_is_refused_on_the_wire(smuggled: str) -> None:
    """The last line of defence: whatever built the message, an extra header line, a
    control or a non-ASCII character in the header section is never sent."""
    email = compose(outbound())
    email._headers = [  # type: ignore[attr-defined]
        (name, smuggled if name == "Subject" else value)
        for name, value in email._headers  # type: ignore[attr-defined]
    ]
    with pytest.raises(PermanentError, match=r"safe lines|cannot encode"):
        email_bytes(email)


def _boundary_of(data: bytes) -> str:
    email = message_from_bytes(data, policy=policy.default)
    boundary = email.get_boundary()
    assert boundary is not None
    return boundary


def test_a_text_that_holds_the_usual_boundary_gets_a_boundary_of_its_own() -> None:
    usual = _boundary_of(email_bytes(compose(outbound(body_html="<p>We are on it.</p>"))))
    quoting = f"You wrote:\n--{usual}\nContent-Type: text/html\n\n<p>evil</p>\n--{usual}--\n"
    data = email_bytes(compose(outbound(body_text=quoting, body_html="<p>We are on it.</p>")))

    assert _boundary_of(data) != usual
    email = message_from_bytes(data, policy=policy.default)
    parts = [part.get_content_type() for part in email.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    plain = email.get_body(preferencelist=("plain",))
    assert plain is not None and plain.get_content().replace("\r\n", "\n") == quoting


def test_the_same_headers_fold_for_each_line_separator_they_are_written_with() -> None:
    long_name = "Relay Desk " + "customer care " * 8  # folds over several lines
    email = compose(outbound(body_html="<p>We are on it.</p>"), from_name=long_name)
    crlf = email_bytes(email)
    lf = email.as_bytes(policy=policy.default.clone(linesep="\n"))

    assert crlf.replace(b"\r\n", b"\n") == lf
    assert b"\r\n " in crlf.partition(b"\r\n\r\n")[0]  # the From header folded, with CRLF
    assert email_bytes(compose(outbound(body_html="<p>We are on it.</p>"), long_name)) == crlf


NAMES = ["Ana Souza", "", "Jürgen Groß", "王小明", 'Eve "the" Hacker', "O'Brien, Pat", "a.b"]
NAMES += ["Dr. Who (Tardis)", "x" * 120, "=?utf-8?q?x?=", "Ünïcödé " * 20]
ADDRESSES = ["ana@customer.example", "support+42@relaydesk.example", "a.b-c@sub.example.org"]
ADDRESSES += ['"john doe"@example.com', "x@y", "user@[127.0.0.1]"]
REFUSED = ["no-at-sign", "a@b@c", "@example.com", "ana@customer.example\nX: y", "a@", "a@b c"]
REFUSED += ["a..b@example.com", "a b@example.com"]
REFUSED += ["a@[", "user@[127.0.0.1", "x@[\\]"]  # the header parser raises AttributeError


def _as_the_stdlib_parses_it(email: EmailMessage, names: dict[str, tuple[str, str]]) -> bytes:
    """``email`` with its address headers set again from text, each address parsed alone
    first (``Address(addr_spec=...)``), as the composer did before it parsed each once."""
    for header, (name, address) in names.items():
        display = name.replace("=?", "= ?")
        email.replace_header(header, str(Address(display_name=display, addr_spec=address)))
    return email_bytes(email)


@pytest.mark.parametrize("address", ADDRESSES)
@pytest.mark.parametrize("name", NAMES)
def test_an_address_parsed_once_writes_the_bytes_of_one_parsed_alone_first(
    name: str, address: str
) -> None:
    message = outbound(recipient_name=name, recipient=address, body_html="<p>We are on it.</p>")
    email = compose(message, from_name=name[::-1])
    expected = _as_the_stdlib_parses_it(
        compose(message, from_name=name[::-1]),
        {
            "To": (header_text(name), address),
            "From": (header_text(name[::-1]), FROM),
            "Reply-To": ("", FROM),
        },
    )

    assert email_bytes(email) == expected
    assert message_from_bytes(expected, policy=policy.default)["To"].addresses[0].addr_spec == (
        address
    )


@pytest.mark.parametrize("address", REFUSED)
def test_an_address_the_stdlib_cannot_read_back_whole_is_refused(address: str) -> None:
    with pytest.raises(PermanentError, match="invalid email address"):
        compose(outbound(recipient=address))


def _composed(message: OutboundMessage, from_name: str, files: Files) -> bytes | str:
    """The wire bytes of ``message``, or the message it is refused with."""
    random.seed(message.message_id + message.body_text)  # a boundary the generator makes
    try:
        email = build_email(
            message,
            from_address=FROM,
            from_name=from_name,
            reply_to=message.reply_to or FROM,
            now=NOW,
            files=files,
        )
        return email_bytes(email)
    except PermanentError as error:
        return str(error)


def _composed_uncached(
    monkeypatch: pytest.MonkeyPatch, message: OutboundMessage, from_name: str, files: Files
) -> bytes | str:
    """``_composed`` on the stdlib's own ``policy.default`` (a registry that parses every
    header anew, no folding kept) with each address checked anew, and the body made on the
    message itself after its headers, as the stdlib's documentation does it."""
    with monkeypatch.context() as patch:
        fresh = policy.EmailPolicy()  # a header registry of its own: nothing kept
        patch.setattr(compose_module, "_POLICY", fresh)
        patch.setattr(compose_module, "_WIRE_POLICY", fresh.clone(linesep="\r\n"))
        patch.setattr(compose_module, "_address", compose_module._address.__wrapped__)
        patch.setattr(compose_module, "plain_mailbox", lambda display, spec: None)
        patch.setattr(compose_module, "_body", _body_after_the_headers)
        return _composed(message, from_name, files)


def _body_after_the_headers(text: str, html: str | None, files: Files) -> EmailMessage:
    """What ``build_email`` sets from ``_body``, made as the stdlib's documentation does
    it: ``set_content`` and ``add_alternative`` on the message that holds the headers (the
    composer's own addressing headers stand in for them)."""
    email = EmailMessage(policy=compose_module._POLICY)
    for name in ("From", "To", "Reply-To", "Subject", "Date", "Message-ID"):
        email[name] = "x@example.org" if name != "Date" else "Wed, 02 Jan 2030 03:04:05 +0000"
    email.set_content(text, cte=compose_module._body_cte(text))
    if html is not None:
        email.make_alternative(boundary=compose_module._boundary(text, html))
        email.add_alternative(html, subtype="html", cte=compose_module._body_cte(html))
    for filename, content_type, data in files:
        maintype, _, subtype = content_type.partition("/")
        if not (maintype and subtype) or maintype == "text":
            maintype, subtype = "application", "octet-stream"
        email.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    body = EmailMessage(policy=compose_module._POLICY)
    for name, value in email.items():
        if name == "MIME-Version" or name.lower().startswith("content-"):
            body[name] = value
    body.set_payload(email.get_payload())
    return body


def _wired(message: OutboundMessage, from_name: str, files: Files) -> bytes | str:
    """``_composed`` through ``build_wire`` (no ``EmailMessage`` for the mail, plain headers
    written as they are); a refusal in writing loses the prefix ``build_wire`` gives it."""
    random.seed(message.message_id + message.body_text)
    try:
        return build_wire(
            message,
            from_address=FROM,
            from_name=from_name,
            reply_to=message.reply_to or FROM,
            now=NOW,
            files=files,
        ).data
    except PermanentError as error:
        return str(error).removeprefix(f"message {message.message_id}: ")


def test_the_kept_headers_and_foldings_write_the_bytes_of_a_fresh_composition(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every composition of the corpus (names in several scripts, encoded-word look-alikes,
    long subjects, bodies, threading, files, refusals) writes the same bytes, or is refused
    with the same words, with the parsed headers, their foldings and the checked addresses
    kept (composed twice: the second time from what the first kept), and written by
    ``build_wire``, as the stdlib writes it with nothing kept and every header parsed."""
    corpus = list(compositions(compose_module._BOUNDARY))
    fresh = [_composed_uncached(monkeypatch, *composition[1:]) for composition in corpus]
    for _ in range(2):
        for (label, message, from_name, files), expected in zip(corpus, fresh, strict=True):
            assert _composed(message, from_name, files) == expected, label
            assert _wired(message, from_name, files) == expected, label
    assert sum(isinstance(outcome, bytes) for outcome in fresh) > 1000
    assert sum(isinstance(outcome, str) for outcome in fresh) > 400
