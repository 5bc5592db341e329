"""Build the RFC 5322 email for one ``OutboundMessage``, safe against header injection.

Every header value is built through ``email.policy.default`` (as ``email_policy``
clones it) and its header registry, never by concatenation; only a value of the plain
shapes ``plain_headers`` knows the stdlib writes as it is is written so on the wire
(``build_wire``, which must give the bytes of ``email_bytes(build_email(...))``; the
tests compare them). Values that come from outside (a customer's subject or name
re-used in a reply) are untrusted:

* control characters (CR, LF, TAB, NUL, NEL, U+2028, ...) become one space;
* text is decoded to a fixpoint first: the policy decodes RFC 2047 encoded
  words when a header is set, so ``=?utf-8?q?hi=0ABcc:_x?=`` would otherwise
  turn into a raw newline on output on Pythons without the CVE-2024-6923 fix;
* as a last line of defence the header section is checked as it goes on the
  wire (``email_bytes``, ``build_wire``): a line that does not start with whitespace must start
  the next header we set, and no line holds a control or non-ASCII character;
  anything else could only be an injected header.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import errors
from email.headerregistry import Address, AddressHeader
from email.message import EmailMessage
from email.utils import format_datetime
from functools import lru_cache
from typing import Any, NamedTuple, cast

from connectors.email.email_policy import POLICY
from connectors.email.one_line import clean
from connectors.email.plain_body import cut, written_text
from connectors.email.plain_headers import plain_line, plain_mailbox
from router.envelopes import OutboundMessage
from router.errors import PermanentError
from router.language_choice import language_tag

_POLICY = POLICY
_SETTLE_ROUNDS = 8
_MESSAGE_ID = re.compile(r"<[!-;=?-~]+>")  # printable ASCII, no spaces, no inner <>
_UNSAFE_HEADER_BYTES = re.compile(rb"[^\t\x20-\x7e]")  # control, DEL, non-ASCII
_WIRE_POLICY = POLICY.clone(linesep="\r\n")
_BOUNDARY = f"=_relaydesk_{secrets.token_hex(12)}"  # the alternatives' (``_boundary``)
_STAND_INS = (f"relaydesk text {secrets.token_hex(8)}", f"relaydesk html {secrets.token_hex(8)}")


@dataclass(frozen=True)
class Wire:
    """One mail as it goes over SMTP: the envelope's sender and recipient, the CRLF bytes."""

    sender: str
    recipient: str
    data: bytes


def build_email(
    message: OutboundMessage,
    *,
    from_address: str,
    from_name: str,
    reply_to: str,
    now: datetime | None = None,
    files: Sequence[tuple[str, str, bytes]] = (),
) -> EmailMessage:
    """The email for ``message`` with ``files`` attached (name, type, bytes); raises
    ``PermanentError`` when it cannot be built."""
    email = EmailMessage(policy=_POLICY)
    head = _head(message, from_address, from_name, reply_to, now)
    for name, value in head.headers:
        email[name] = value
    body = _body(message.body_text, message.body_html, files)
    for name, value in body.items():  # MIME-Version and Content-*: after the headers above,
        email[name] = value  # where set_content on the mail itself puts them
    email.set_payload(body.get_payload())
    if message.language:  # RFC 3282, on the whole message (set last: making the body
        # multipart moves a Content-* header into the first part)
        email["Content-Language"] = language_tag(message.language)
    return email


def build_wire(
    message: OutboundMessage,
    *,
    from_address: str,
    from_name: str,
    reply_to: str,
    now: datetime | None = None,
    files: Sequence[tuple[str, str, bytes]] = (),
) -> Wire:
    """The bytes ``email_bytes(build_email(...))`` would give, and the envelope, written
    without the mail's ``EmailMessage``: its headers line by line (a plain one as it is,
    any other as the stdlib folds it), then the body's own message as the stdlib writes
    it. Raises ``PermanentError`` where those two refuse (an encoding's, prefixed with the
    message's id), for the body's values too: a line break in a language tag or a file's
    type, which ``build_email`` raises as the stdlib's ``ValueError``, is refused here."""
    head = _head(message, from_address, from_name, reply_to, now)
    stored = [_stored(name, value) for name, value in head.headers]
    language = language_tag(message.language) if message.language else None
    try:
        lines = [_folded(name, value) for name, value in stored]
        body, names = _written_body(message.body_text, message.body_html, files, language)
        data = b"".join(lines) + body
        _check_header_lines(data, [name for name, _ in stored] + names)
    except (ValueError, LookupError) as error:  # UnicodeError is a ValueError
        cause = f"cannot encode message: {error}"
        raise PermanentError(f"message {message.message_id}: {cause}") from None
    except PermanentError as error:
        raise PermanentError(f"message {message.message_id}: {error}") from None
    return Wire(sender=head.sender, recipient=head.recipient, data=data)


class _Head(NamedTuple):
    """The headers set before the body, in order (a text, or an address header parsed
    and checked), and the addresses of the envelope."""

    headers: list[tuple[str, str | AddressHeader]]
    sender: str
    recipient: str


def _head(
    message: OutboundMessage, from_address: str, from_name: str, reply_to: str, now: datetime | None
) -> _Head:
    sender, sender_spec = _mailbox("From", from_name, from_address)
    recipient, recipient_spec = _mailbox("To", message.recipient_name, message.recipient)
    headers: list[tuple[str, str | AddressHeader]] = [
        ("From", sender),
        ("To", recipient),
        ("Reply-To", _mailbox("Reply-To", "", reply_to)[0]),
        ("Subject", header_text(message.subject)),
        ("Date", format_datetime(now or datetime.now(UTC))),
    ]
    own_id = _message_id(message.message_id)
    if own_id is None:
        raise PermanentError(f"invalid Message-ID {message.message_id!r}")
    headers.append(("Message-ID", own_id))
    parent = _message_id(message.in_reply_to or "")
    if parent:
        headers.append(("In-Reply-To", parent))
    references = _references(message.references, parent)
    if references:
        headers.append(("References", " ".join(references)))
    headers.append(("X-Loop", sender_spec))
    if message.automatic:
        headers += [("Auto-Submitted", "auto-replied"), ("X-Auto-Response-Suppress", "All")]
    elif message.notification:  # RFC 3834: nobody's autoresponder should answer it
        headers += [("Auto-Submitted", "auto-generated"), ("X-Auto-Response-Suppress", "All")]
    return _Head(headers, sender_spec, recipient_spec)


def _stored(name: str, value: str | AddressHeader) -> tuple[str, bytes | Any]:
    """Header ``name`` set to ``value``: its line when the text is plain, else the header
    the policy stores for it, as ``EmailMessage.__setitem__`` stores it."""
    if isinstance(value, str):
        line = plain_line(name, value)
        if line is not None:
            return name, line
    return _POLICY.header_store_parse(name, value)


def _folded(name: str, value: bytes | Any) -> bytes:
    """A stored header's line as the mail's generator writes it (a plain line is one)."""
    return value if isinstance(value, bytes) else _WIRE_POLICY.fold_binary(name, value)


def _body(
    text: str,
    html: str | None,
    files: Sequence[tuple[str, str, bytes]],
    ctes: tuple[str | None, str | None] | None = None,
) -> EmailMessage:
    """The body of an email of ``text``, ``html`` and ``files``: its MIME headers and parts,
    made by the stdlib on a message of its own; ``ctes``: the texts' transfer encodings
    (a skeleton's stand-ins'), else ``_body_cte``'s.

    Each step of ``set_content`` and ``make_alternative`` looks up the message's headers
    one by one (``Content-Type`` several times a step); on a message without the
    addressing headers each look-up has two or three to read instead of fifteen.
    """
    text_cte, html_cte = ctes or (_body_cte(text), _body_cte(html or ""))
    body = EmailMessage(policy=_POLICY)
    body.set_content(text, cte=text_cte)
    if html is not None:
        body.make_alternative(boundary=_boundary(text, html))
        body.add_alternative(html, subtype="html", cte=html_cte)
    for filename, content_type, data in files:
        maintype, _, subtype = content_type.partition("/")
        if not (maintype and subtype) or maintype == "text":  # text: kept as bytes, as it came
            maintype, subtype = "application", "octet-stream"
        body.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return body


def _written_body(
    text: str, html: str | None, files: Sequence[tuple[str, str, bytes]], language: str | None
) -> tuple[bytes, list[str]]:
    """The body's own message (``_body`` and Content-Language after its MIME headers) as
    the stdlib's generator writes it, and the names of its headers: from the skeleton of
    its shape when its texts are written 7bit or quoted-printable (``plain_body``), else
    written anew."""
    texts = (text,) if html is None else (text, html)
    written = [written_text(one, _body_cte(one), _POLICY) for one in texts]
    parts = [part for part in written if part is not None]
    if not files and len(parts) == len(texts) and (html is None or _boundary(*texts)):
        skeleton = _skeleton(tuple(cte for cte, _ in parts), language)
        if skeleton is not None:
            pieces, names = skeleton
            data = [piece + one for piece, (_, one) in zip(pieces[:-1], parts, strict=True)]
            return b"".join(data) + pieces[-1], list(names)
    body = _body(text, html, files)
    if language:
        body["Content-Language"] = language
    return body.as_bytes(policy=_WIRE_POLICY), body.keys()


@lru_cache(maxsize=16)
def _skeleton(
    ctes: tuple[str, ...], language: str | None
) -> tuple[tuple[bytes, ...], tuple[str, ...]] | None:
    """The body of texts in ``ctes`` (a text, or a text and its HTML alternative, in those
    transfer encodings) as the stdlib writes it for stand-in texts, cut around them; and its
    headers' names."""
    parts = len(ctes)
    body = _body(_STAND_INS[0], _STAND_INS[1] if parts > 1 else None, (), (ctes[0], ctes[-1]))
    if language:
        body["Content-Language"] = language
    pieces = cut(body.as_bytes(policy=_WIRE_POLICY), _STAND_INS[:parts])
    return None if pieces is None else (pieces, tuple(body.keys()))


def email_bytes(email: EmailMessage) -> bytes:
    """``email`` as it goes on the wire (CRLF), its header section checked line by line."""
    try:
        data = email.as_bytes(policy=_WIRE_POLICY)
    except (ValueError, LookupError) as error:  # UnicodeError is a ValueError
        raise PermanentError(f"cannot encode message: {error}") from None
    _check_header_lines(data, email.keys())
    return data


def _check_header_lines(data: bytes, headers: list[str]) -> None:
    """``PermanentError`` unless the header section of ``data`` is the lines of ``headers``
    in order (each folded line's continuations after it), safe bytes only."""
    head = data.partition(b"\r\n\r\n")[0]
    names = [name.lower().encode("ascii") + b":" for name in headers]
    starts = 0
    for line in head.split(b"\r\n"):
        if _UNSAFE_HEADER_BYTES.search(line):
            raise PermanentError("a header would not fold into safe lines")
        if line[:1] in (b" ", b"\t"):
            continue  # a folded continuation
        if starts >= len(names) or not line.lower().startswith(names[starts]):
            raise PermanentError("a header would not fold into safe lines")
        starts += 1
    if starts != len(names):
        raise PermanentError("a header would not fold into safe lines")


def header_text(value: str) -> str:
    """``value`` as header-safe text: decoded, without control characters, one line.

    The result is a fixpoint: setting it as a header and reading it back through
    the policy gives the same text, so nothing can decode into a line break later.
    """
    text = clean(value)
    if text.isascii() and "=?" not in text:
        return text  # nothing the policy could decode: already a fixpoint
    for _ in range(_SETTLE_ROUNDS):
        decoded = clean(str(_POLICY.header_factory("Subject", text)))
        if decoded == text:
            return text
        text = decoded
    raise PermanentError("header text keeps decoding into new text")


# what the stdlib's address parser raises on an address it cannot read: an unclosed
# domain literal ("a@[", "user@[127.0.0.1") fails inside it with an AttributeError
_UNREADABLE = (ValueError, IndexError, AttributeError, errors.MessageError)


def _mailbox(header: str, name: str, address: str) -> tuple[str | AddressHeader, str]:
    """Header ``header``'s value naming ``name`` at ``address`` (the text of a plain one,
    which needs no check: see ``plain_mailbox``; else the header parsed and checked by
    ``_address``), and the address as the envelope names it."""
    display = header_text(name).replace("=?", "= ?")  # as ``_address`` defuses it
    spec = clean(address)
    text = plain_mailbox(display, spec)
    if text is not None:
        return text, spec
    parsed = _address(header, name, address)
    return parsed, parsed.addresses[0].addr_spec


@lru_cache(maxsize=256)  # the desk's own From is the same for every message
def _address(header: str, name: str, address: str) -> AddressHeader:
    """The address header ``header`` naming ``name`` at ``address``, parsed once: the
    header's own parse is the check that the address reads back as given."""
    # The address parser decodes encoded words even inside a quoted display name,
    # so whatever still looks like the start of one after decoding is defused.
    display = header_text(name).replace("=?", "= ?")
    spec = clean(address)
    if not spec.isascii():
        raise PermanentError(f"non-ASCII email addresses are not supported: {spec!r}")
    local, _, domain = spec.rpartition("@")
    try:
        parsed = _POLICY.header_factory(
            header, str(Address(display_name=display, username=local, domain=domain))
        )
    except _UNREADABLE:
        parsed = None
    if (
        parsed is None
        or parsed.defects
        or not domain
        or [found.addr_spec for found in parsed.addresses] != [spec]
    ):  # not a plain address: parsed alone first, as the stdlib checks one
        parsed = _POLICY.header_factory(header, str(_checked(display, spec)))
    return cast(AddressHeader, parsed)


def _checked(display: str, spec: str) -> Address:
    """``spec`` parsed alone as an addr-spec; ``PermanentError`` unless it reads back whole."""
    try:
        parsed = Address(display_name=display, addr_spec=spec)
    except _UNREADABLE as error:
        raise PermanentError(f"invalid email address {spec!r}: {error}") from None
    if parsed.addr_spec != spec or not parsed.domain:
        raise PermanentError(f"invalid email address {spec!r}")
    return parsed


def _message_id(value: str) -> str | None:
    text = clean(value)
    if text and not text.startswith("<"):
        text = f"<{text}>"
    return text if _MESSAGE_ID.fullmatch(text) else None


def _references(references: tuple[str, ...], parent: str | None) -> list[str]:
    ids: list[str] = []
    for reference in references:
        msg_id = _message_id(reference)
        if msg_id and msg_id not in ids:
            ids.append(msg_id)
    if parent and parent not in ids:
        ids.append(parent)
    return ids


def _boundary(*texts: str) -> str | None:
    """The process's boundary unless a text holds it (None: the generator makes one).

    The generator would make a random one per message and search the encoded parts for
    it with a regular expression of its own, compiled anew each time; one boundary for
    the process (random at its start) gives the same Content-Type text every time,
    parsed once. A text that holds it (someone quoting a message of ours) gets the
    generator's. An encoded part cannot hold it where its text does not:
    quoted-printable writes ``=`` as ``=3D``, base64 has no ``_``.
    """
    return None if any(_BOUNDARY in text for text in texts) else _BOUNDARY


def _body_cte(text: str) -> str | None:
    # Quoted-printable keeps the message 7-bit clean for relays without 8BITMIME.
    return None if text.isascii() else "quoted-printable"
