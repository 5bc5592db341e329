"""Raw email -> ``InboundMessage``, in two steps.

``envelope_message`` reads only what intake needs to make the message durable
and idempotent (Message-ID, sender, subject); it is cheap and cannot fail, so
the SMTP server and the IMAP poller can commit the raw bytes at once.
``parse_inbound`` reads everything else when ingest gets to it: bodies,
attachments, automatic-message and bounce detection. A message that cannot be
read at all (no sender) raises ``PermanentError`` and is kept with its reason.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from email import policy
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesHeaderParser
from email.utils import getaddresses

from connectors.email.addresses import message_id as message_id_of
from connectors.email.one_line import clean
from connectors.email.parse import ParsedEmail, parse_email
from router.envelopes import AttachmentRef, BounceReport, InboundMessage
from router.errors import PermanentError
from router.storable import message_without_nul
from router.thread_keys import OwnAddresses
from router.vocabulary import Channel

_MAX_SUBJECT = 998
# automatic, but possibly a person's request relayed by a list: opens a ticket, never answered
_BULK = ("List-Id", "List-Unsubscribe", "Precedence: bulk", "Precedence: list")
_SENDER_HEADERS = re.compile(r"\b(from|sender|return-path)\b", re.IGNORECASE)
_NO_SENDER_HEADER = "no From, Sender or Return-Path header"


def _decoded(value: str | None) -> str:
    if not value:
        return ""
    try:
        return clean(str(make_header(decode_header(value))))
    except (ValueError, LookupError, UnicodeError):  # a broken encoded word: keep it raw
        return clean(value)


def envelope_message(
    raw: bytes, *, recipients: Sequence[str] = (), source: str = ""
) -> InboundMessage:
    """The durable minimum of an email: enough to store it once, parsed later by ingest."""
    headers: Message | None = None
    try:
        headers = BytesHeaderParser(policy=policy.compat32).parsebytes(header_block(raw))
        message_id = message_id_of(headers.get("Message-ID"))
        senders = getaddresses([headers.get("From") or headers.get("Sender") or ""])
        name, address = senders[0] if senders else ("", "")
        subject = _decoded(headers.get("Subject"))
    except Exception:  # nothing here may stop a message from being kept
        headers, message_id, name, address, subject = None, None, "", "", ""
    address = clean(address).lower()
    if message_id and address:
        key = f"{message_id} {address}"
    else:  # no usable Message-ID: what every copy of the message shares identifies it
        key = "sha256:" + _fingerprint(raw, headers)
    message = InboundMessage(
        channel=Channel.EMAIL,
        idempotency_key=key[:512],
        sender_address=address[:320],
        sender_name=_decoded(name)[:200],
        subject=subject[:_MAX_SUBJECT],
        body_text="",
        external_id=message_id,
        recipients=tuple(r.strip().lower() for r in recipients if r.strip()),
        source=source,
        unparsed=True,
    )
    return message_without_nul(message)  # which no text keeps: removed, and said so


def header_block(raw: bytes) -> bytes:
    """``raw`` up to its first empty line: all a header parser reads of it (which keeps the
    rest as the payload: splitting a 200 KiB body into lines only to keep it costs more
    than reading the headers). An empty line ends the headers whatever the line endings;
    the parser may end them earlier (at a bare CR or a line that is no header), and then
    reads the same headers from the longer slice."""
    ends = [(at, len(sep)) for sep in (b"\n\n", b"\r\n\r\n") if (at := raw.find(sep)) >= 0]
    if not ends:
        return raw
    at, length = min(ends)
    return raw[: at + length]


def _fingerprint(raw: bytes, headers: Message | None) -> str:
    """The SHA-256 of From, Date, Subject and the body: the same for the copy the SMTP
    server received and the copy a mailbox stored with Return-Path and Received added."""
    if headers is None:
        return hashlib.sha256(raw).hexdigest()
    _, crlf, body = raw.partition(b"\r\n\r\n")
    if not crlf:
        _, lf, body = raw.partition(b"\n\n")
        if not lf:  # no header block at all: the bytes are all there is
            body = raw
    digest = hashlib.sha256()
    for name in ("From", "Date", "Subject"):
        digest.update(str(headers.get(name, "")).strip().encode("utf-8", "surrogateescape"))
        digest.update(b"\0")
    digest.update(body.replace(b"\r\n", b"\n"))
    return digest.hexdigest()


def parse_inbound(
    raw: bytes,
    envelope: InboundMessage,
    *,
    own: OwnAddresses,
    keep_file: Callable[[bytes], str],
    max_attachment_bytes: int,
    max_attachments_bytes: int,
) -> InboundMessage:
    """The whole message; ``keep_file`` stores attachment bytes and returns their hash."""
    parsed = parse_email(
        raw,
        max_attachment_bytes=max_attachment_bytes,
        max_attachments_bytes=max_attachments_bytes,
        own=own,
    )
    sender = parsed.sender_address or envelope.sender_address
    if not sender or "@" not in sender:
        if not parsed.null_sender:
            raise PermanentError(f"unreadable email: no sender address ({_why_no_sender(parsed)})")
        sender = ""  # a bounce or a report from <>: kept quietly, answered never
    recipients = tuple(dict.fromkeys((*envelope.recipients, *parsed.to, *parsed.cc)))
    reason = parsed.automatic or ("null sender" if not sender else None)
    message = InboundMessage(
        channel=Channel.EMAIL,
        idempotency_key=envelope.idempotency_key,
        sender_address=sender[:320],
        sender_name=(parsed.sender_name or envelope.sender_name)[:200],
        subject=parsed.subject[:_MAX_SUBJECT],
        body_text=parsed.visible_text,
        full_text=parsed.text,
        body_html=parsed.html,
        external_id=parsed.message_id or envelope.external_id,
        in_reply_to=parsed.references,
        headers=dict(parsed.headers),
        is_automatic=reason is not None and not parsed.through_list,
        automatic_reason=reason or "",
        is_bulk=bool(sender) and reason is not None and reason.startswith(_BULK),
        recipients=recipients,
        source=envelope.source,
        attachments=tuple(_keep(parsed, keep_file)),
        bounce=_bounce(parsed),
        problems=parsed.problems,
        language=str(parsed.headers.get("Content-Language") or "")[:200],
    )
    return message_without_nul(message)  # which no text keeps: removed, and said so


def _why_no_sender(parsed: ParsedEmail) -> str:
    """What is wrong with the sender first, then whatever else could not be read."""
    about = [p for p in parsed.problems if _SENDER_HEADERS.search(p)]
    if not about:
        present = [name for name in ("From", "Sender") if name in parsed.headers]
        about = [f"{present[0]} names no address" if present else _NO_SENDER_HEADER]
    others = [p for p in parsed.problems if p not in about]
    return "; ".join(about) + (f"; also: {'; '.join(others)}" if others else "")


def _keep(parsed: ParsedEmail, keep_file: Callable[[bytes], str]) -> list[AttachmentRef]:
    refs = []
    for attachment in parsed.attachments:
        digest = keep_file(attachment.data) if attachment.skipped is None else None
        refs.append(
            AttachmentRef(
                filename=attachment.filename,
                content_type=attachment.content_type,
                size=attachment.size,
                sha256=digest,
                inline=attachment.inline,
                content_id=attachment.content_id,
                skipped=attachment.skipped,
            )
        )
    return refs


def _bounce(parsed: ParsedEmail) -> BounceReport | None:
    if parsed.bounce is None:
        return None
    return BounceReport(
        original_message_id=parsed.bounce.original_message_id,
        recipients=parsed.bounce.recipients,
        status=parsed.bounce.status,
        diagnostic=parsed.bounce.diagnostic,
        permanent=parsed.bounce.permanent,
    )
