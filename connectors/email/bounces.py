"""Is an email a bounce of one of ours, and of which message to whom?

``parse_bounce`` reads RFC 3464 delivery status notifications (a ``multipart/report``
with a ``message/delivery-status`` part) and, best effort, the plain-text bounces
some servers still send (qmail, old Exim and Exchange): a robot sender, a bounce's
subject, the report's text up to the copy of the original message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from email.policy import compat32

from connectors.email.addresses import addresses, header_value, message_id, raw_values, references
from connectors.email.automatic import ROBOTS
from connectors.email.bodies import children, decode_text
from connectors.email.bodies import content_type as kind_of

_STATUS = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|returned (mail|to sender)|delivery (status notification|failure|has failed)"
    r"|mail delivery (failed|failure|problem)|failure notice|could not be delivered"
    r"|nondeliverable|non-delivery",
    re.IGNORECASE,
)
_COPY_MARKER = re.compile(
    r"^(-+.*(below this line|copy of the message|original message|returned message).*"
    r"|received: |return-path: |message-id: )",
    re.IGNORECASE | re.MULTILINE,
)
_ADDRESS = re.compile(r"(?<![\w.+'=-])[\w.+'=-]+@[\w-]+(?:\.[\w-]+)+")  # linear: starts a run
_QUOTED_MESSAGE_ID = re.compile(r"^\s*message-id:\s*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)
_TEMPORARY = re.compile(
    r"\b(delayed|delay|warning message only|will (?:keep )?(?:re)?try|still trying)\b",
    re.IGNORECASE,
)
_DIAGNOSTIC_TYPE = re.compile(r"^\s*[\w-]+\s*;\s*")
_SMTP_REPLY = re.compile(r"\b[45]\d\d[ -]")
_MAX_DIAGNOSTIC = 500
_MAX_REPORT = 20_000  # a bounce's own text is short; bounds the regex work on hostile input


@dataclass(frozen=True)
class Bounce:
    """A delivery failure (or delay) report about an email we sent."""

    original_message_id: str | None
    recipients: tuple[str, ...]
    status: str
    diagnostic: str
    permanent: bool


def parse_bounce(msg: Message) -> Bounce | None:
    """The bounce ``msg`` reports, or None when it is not a failure or delay report.
    (Its parts are listed only for a report or a message that looks like a bounce.)"""
    if kind_of(msg) == "multipart/report":
        parts = list(_parts(msg))
        status_parts = [p for p in parts if kind_of(p) == "message/delivery-status"]
        if status_parts:
            return _status_bounce(msg, parts, status_parts)
    if _looks_like_bounce(msg):
        return _text_bounce(msg, list(_parts(msg)))
    return None


def _status_bounce(msg: Message, parts: list[Message], status: list[Message]) -> Bounce | None:
    blocks = [block for part in status for block in _status_blocks(part)]
    recipients = [b for b in blocks if "action" in b or "final-recipient" in b]
    failed = [b for b in recipients if _failed(b)]
    delayed = [b for b in recipients if b.get("action", "").lower().startswith("delayed")]
    chosen = failed or delayed
    if not chosen:
        return None
    first = chosen[0]
    code = _STATUS.search(first.get("status", ""))
    diagnostic = _DIAGNOSTIC_TYPE.sub("", first.get("diagnostic-code", ""))
    return Bounce(
        original_message_id=_original_id(msg, parts),
        recipients=_recipients(chosen),
        status=code.group(1) if code else "",
        diagnostic=_one_line(diagnostic),
        permanent=bool(failed),
    )


def _failed(block: Mapping[str, str]) -> bool:
    action = block.get("action", "").lower()
    return action.startswith("failed") or (not action and block.get("status", "")[:1] == "5")


def _recipients(blocks: list[dict[str, str]]) -> tuple[str, ...]:
    found: list[str] = []
    for block in blocks:
        for field in ("final-recipient", "original-recipient"):
            address = block.get(field, "").split(";", 1)[-1].strip().strip("<>").lower()
            if "@" in address:
                found.append(address)
    return tuple(dict.fromkeys(found))


def _status_blocks(part: Message) -> list[dict[str, str]]:
    """The field blocks of a message/delivery-status part, names lowercased."""
    blocks = children(part)
    if blocks:
        return [_fields(block.raw_items()) for block in blocks]
    text = decode_text(part, [])  # some servers send it base64 encoded, left unparsed
    parser = HeaderParser(policy=compat32)
    return [
        _fields(parser.parsestr(chunk.strip() + "\n").items())
        for chunk in re.split(r"\n\s*\n", text)
        if chunk.strip()
    ]


def _fields(items: Iterable[tuple[str, object]]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for name, value in items:
        fields.setdefault(name.lower(), " ".join(str(value).split()))
    return fields


def _original_id(msg: Message, parts: list[Message]) -> str | None:
    for part in parts:
        kind = kind_of(part)
        if kind == "message/rfc822":
            inner = children(part)
            values = raw_values(inner[0], "Message-ID") if inner else []
        elif kind in ("text/rfc822-headers", "message/rfc822-headers"):
            headers = HeaderParser(policy=compat32).parsestr(decode_text(part, []))
            values = [str(value) for value in headers.get_all("Message-ID", [])]
        else:
            continue
        found = message_id(values[0]) if values else None
        if found:
            return found
    own = references(header_value(msg, "In-Reply-To", []), header_value(msg, "References", []))
    return own[0] if own else None


def _looks_like_bounce(msg: Message) -> bool:
    subject = header_value(msg, "Subject", []) or ""
    senders = addresses(msg, "From", []) or addresses(msg, "Sender", [])
    robot = any(
        address.split("@", 1)[0] in ("mailer-daemon", "postmaster")
        or "mail delivery" in name.lower()
        for name, address in senders
    )
    return robot and bool(_BOUNCE_SUBJECT.search(subject))


def _text_bounce(msg: Message, parts: list[Message]) -> Bounce:
    texts = [p for p in parts if kind_of(p) == "text/plain" and not p.is_multipart()]
    text = decode_text(texts[0], []) if texts else ""
    text = text[:_MAX_REPORT]
    marker = _COPY_MARKER.search(text)
    report = text[: marker.start()] if marker else text
    robots = {address for _, address in addresses(msg, "From", [])}
    recipients = [a.lower() for a in _ADDRESS.findall(report) if a.lower() not in robots]
    recipients = [a for a in recipients if a.split("@", 1)[0] not in ROBOTS]
    code = _STATUS.search(report)
    diagnostic = next((line for line in report.splitlines() if _SMTP_REPLY.search(line)), "")
    original = _original_id(msg, parts)
    if original is None and marker:
        quoted = _QUOTED_MESSAGE_ID.search(text, marker.start())
        original = message_id(quoted.group(1)) if quoted else None
    subject = header_value(msg, "Subject", []) or ""
    temporary = (code is not None and code.group(1).startswith("4")) or bool(
        _TEMPORARY.search(f"{subject}\n{report}")
    )
    return Bounce(
        original_message_id=original,
        recipients=tuple(dict.fromkeys(recipients)),
        status=code.group(1) if code else "",
        diagnostic=_one_line(diagnostic),
        permanent=not temporary,
    )


def _parts(msg: Message, depth: int = 0) -> Iterator[Message]:
    """``msg`` and its parts, without going inside ``message/*`` parts."""
    yield msg
    if depth < 20 and not kind_of(msg).startswith("message/"):
        for child in children(msg):
            yield from _parts(child, depth + 1)


def _one_line(text: str) -> str:
    return " ".join(text.split())[:_MAX_DIAGNOSTIC]
