"""Is an email automatic (never auto-answer it), and is it a bounce of one of ours?

``automatic_reason`` is a table of rules read in order; the first that applies
gives the reason, which is meant for the ticket's audit log:

==============================  ===================================================
multipart/report                "delivery status notification", "read receipt", ...
Auto-Submitted (RFC 3834)       any value but "no" -> "Auto-Submitted: auto-replied"
X-Loop                          contains one of our own addresses -> "X-Loop from us"
sender                          one of our own addresses in any form (any case, a
                                plus-address of one, any address at one of our
                                domains) -> "sent by our own address"
sender / Return-Path            empty, or Return-Path "<>" -> "null sender"
sender local part               MAILER-DAEMON, postmaster, noreply, no-reply,
                                do-not-reply, donotreply -> "sent by mailer-daemon"
Precedence                      bulk, junk, list, auto_reply -> "Precedence: bulk"
X-Autoreply, X-Autorespond      present with any value but "no"
X-Auto-Response-Suppress        only with All, OOF or AutoReply among its values:
                                Outlook also sets DR/RN/NRN-only values on normal mail
List-Id, List-Unsubscribe       present (mailing lists and newsletters)
==============================  ===================================================

``parse_bounce`` reads RFC 3464 delivery status notifications and, best effort,
the plain-text bounces some servers still send (qmail, old Exim and Exchange).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from email.policy import compat32

from connectors.email.addresses import (
    addresses,
    header_value,
    message_id,
    raw_values,
    read_headers,
    references,
)
from connectors.email.bodies import children, decode_text
from connectors.email.bodies import content_type as kind_of
from router.thread_keys import OwnAddresses

AUTOMATIC_HEADERS = (
    "Auto-Submitted",
    "Precedence",
    "X-Loop",
    "X-Autoreply",
    "X-Autorespond",
    "X-Auto-Response-Suppress",
    "List-Id",
    "List-Unsubscribe",
    "Return-Path",
    "Content-Type",
)


@dataclass(frozen=True)
class Bounce:
    """A delivery failure (or delay) report about an email we sent."""

    original_message_id: str | None
    recipients: tuple[str, ...]
    status: str
    diagnostic: str
    permanent: bool


@dataclass(frozen=True)
class _Facts:
    headers: Mapping[str, str]  # lowercased names
    sender: str
    content_type: str
    own: OwnAddresses

    def get(self, name: str) -> str | None:
        return self.headers.get(name)


_Rule = Callable[[_Facts], str | None]
_ROBOTS = {"mailer-daemon", "postmaster", "noreply", "no-reply", "do-not-reply", "donotreply"}
_PRECEDENCE = {"bulk", "junk", "list", "auto_reply", "auto-reply"}
_SUPPRESSING = {"all", "oof", "autoreply"}
_REPORT_TYPE = re.compile(r"report-type\s*=\s*\"?([\w.-]+)", re.IGNORECASE)
_REPORTS = {
    "delivery-status": "delivery status notification",
    "disposition-notification": "read receipt",
}
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


def written_through_list(
    msg: Message, *, sender: str, own: OwnAddresses, headers: Mapping[str, str] | None = None
) -> bool:
    """``through_list_by_a_person`` for a parsed message (``headers``: see why_automatic)."""
    headers = read_headers(msg, AUTOMATIC_HEADERS, []) if headers is None else headers
    return through_list_by_a_person(
        headers, sender=sender, content_type=headers.get("Content-Type") or kind_of(msg), own=own
    )


def why_automatic(
    msg: Message, *, sender: str, own: OwnAddresses, headers: Mapping[str, str] | None = None
) -> str | None:
    """Why ``msg`` was sent by a machine, or None when a person seems to have sent it.
    ``headers``: its headers as ``read_headers`` read them (AUTOMATIC_HEADERS among the
    names), when the caller has: they are not read again."""
    headers = read_headers(msg, AUTOMATIC_HEADERS, []) if headers is None else headers
    return automatic_reason(
        headers, sender=sender, content_type=headers.get("Content-Type") or kind_of(msg), own=own
    )


def automatic_reason(
    headers: Mapping[str, str],
    *,
    sender: str,
    content_type: str,
    own: OwnAddresses,
) -> str | None:
    """The first rule of the table above that applies to these stored headers, or None.

    ``content_type`` is the Content-Type value, with its parameters when known
    (``multipart/report; report-type=delivery-status``).
    """
    facts = _facts(headers, sender=sender, content_type=content_type, own=own)
    for rule in _RULES:
        reason = rule(facts)
        if reason:
            return reason
    return None


def through_list_by_a_person(
    headers: Mapping[str, str], *, sender: str, content_type: str, own: OwnAddresses
) -> bool:
    """Whether a person wrote this and a mailing list relayed it: list headers (List-Id,
    Precedence: list) and none of the marks a machine leaves (every other rule of the
    table). Such mail is never answered automatically, but it is a person's message."""
    facts = _facts(headers, sender=sender, content_type=content_type, own=own)
    listed = facts.get("list-id") is not None or _precedence_token(facts) == "list"
    machine = any(rule(facts) for rule in _RULES if rule not in _LIST_RULES)
    return listed and not machine and _precedence_token(facts) in ("", "list")


def _facts(
    headers: Mapping[str, str], *, sender: str, content_type: str, own: OwnAddresses
) -> _Facts:
    return _Facts(
        headers={name.lower(): value for name, value in headers.items()},
        sender=sender.strip().lower(),
        content_type=content_type.strip().lower(),
        own=own,
    )


def _precedence_token(facts: _Facts) -> str:
    return (facts.get("precedence") or "").strip().lower()


def _report(facts: _Facts) -> str | None:
    if facts.content_type.split(";", 1)[0].strip() != "multipart/report":
        return None
    found = _REPORT_TYPE.search(facts.content_type)
    report_type = found.group(1).lower() if found else ""
    return _REPORTS.get(report_type, f"report ({report_type or 'multipart/report'})")


def _auto_submitted(facts: _Facts) -> str | None:
    token = (facts.get("auto-submitted") or "").split(";", 1)[0].strip().lower()
    return f"Auto-Submitted: {token}" if token and token != "no" else None


def _loop(facts: _Facts) -> str | None:
    loop = (facts.get("x-loop") or "").lower()
    ours = any(own in loop for own in facts.own.addresses) or any(
        address in facts.own or facts.own.base_of(address) for address in loop.split()
    )
    return "X-Loop from us" if loop and ours else None


def _own_sender(facts: _Facts) -> str | None:
    sender = facts.sender
    if sender and (sender in facts.own or facts.own.base_of(sender) is not None):
        return "sent by our own address"
    return None


def _null_sender(facts: _Facts) -> str | None:
    if not facts.sender or (facts.get("return-path") or "").strip() == "<>":
        return "null sender"
    return None


def _robot_sender(facts: _Facts) -> str | None:
    local = facts.sender.split("@", 1)[0]
    return f"sent by {local}" if local in _ROBOTS else None


def _precedence(facts: _Facts) -> str | None:
    token = _precedence_token(facts)
    return f"Precedence: {token}" if token in _PRECEDENCE else None


def _autoreply_headers(facts: _Facts) -> str | None:
    for name in ("X-Autoreply", "X-Autorespond"):
        value = facts.get(name.lower())
        if value is not None and value.strip().lower() != "no":
            return f"{name}: {value.strip()[:60]}"
    return None


def _suppress(facts: _Facts) -> str | None:
    value = facts.get("x-auto-response-suppress") or ""
    tokens = {token for token in re.split(r"[\s,;]+", value.lower()) if token}
    return f"X-Auto-Response-Suppress: {value.strip()[:60]}" if tokens & _SUPPRESSING else None


def _mailing_list(facts: _Facts) -> str | None:
    if facts.get("list-id") is not None:
        return f"List-Id: {facts.get('list-id')}"[:120]
    return "List-Unsubscribe present" if facts.get("list-unsubscribe") is not None else None


_RULES: tuple[_Rule, ...] = (
    _report,
    _auto_submitted,
    _loop,
    _own_sender,
    _null_sender,
    _robot_sender,
    _precedence,
    _autoreply_headers,
    _suppress,
    _mailing_list,
)
_LIST_RULES = (_precedence, _mailing_list)  # a list's marks, not a machine's (see above)


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
    recipients = [a for a in recipients if a.split("@", 1)[0] not in _ROBOTS]
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
