"""Parse one raw email into a ``ParsedEmail``: pure, no IO, and never raises for bad content.

Every step runs on its own: when one fails (a broken header, an unreadable part)
its failure becomes a line in ``ParsedEmail.problems`` and the other steps still
return what they could read. The MIME tree is walked in ``bodies``, headers and
addresses are read in ``addresses``, automatic mail is recognised in ``automatic``
and bounces in ``bounces``; ``Attachment`` and ``Bounce`` are re-exported from here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.errors import MessageDefect
from email.message import EmailMessage, Message
from typing import TypeVar, cast

from connectors.email.addresses import (
    addresses,
    message_id,
    parse_date,
    raw_values,
    read_headers,
    references,
)
from connectors.email.automatic import AUTOMATIC_HEADERS, why_automatic, written_through_list
from connectors.email.bodies import Attachment, Bodies, collect_bodies, content_type
from connectors.email.body_runs import parse_bytes
from connectors.email.bounces import Bounce, parse_bounce
from connectors.email.html_text import sanitize_html
from connectors.email.quoting import visible_text
from connectors.email.reading_policy import READING_POLICY
from router.thread_keys import OwnAddresses

__all__ = ["Attachment", "Bounce", "ParsedEmail", "parse_email"]

STORED_HEADERS = tuple(
    dict.fromkeys(
        (
            "Message-ID",
            "From",
            "To",
            "Cc",
            "Date",
            "Subject",
            "In-Reply-To",
            "References",
            "Reply-To",
            "Content-Language",  # classification rules may match on the language
            *AUTOMATIC_HEADERS,  # so that automatic_reason() can be re-run on stored headers
        )
    )
)

_T = TypeVar("_T")
_NONE_OURS = OwnAddresses()
_MAX_PROBLEM = 300
_WORD_START = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NULL_ADDRESS = re.compile(r"<\s*>")


@dataclass(frozen=True)
class ParsedEmail:
    """What relaydesk reads from one inbound email. All text is decoded; header text is one line."""

    message_id: str | None  # "<id@host>", None when missing or unusable
    sender_address: str  # lowercased: From, else Sender, else Return-Path; "" if none
    sender_name: str
    null_sender: bool  # From or Return-Path is the null address <>: a machine, never a person
    subject: str
    to: tuple[str, ...]  # lowercased addresses
    cc: tuple[str, ...]
    references: tuple[str, ...]  # In-Reply-To, then References last to first; no duplicates
    date: datetime | None  # timezone-aware
    text: str  # the whole body as plain text ("" when there is none)
    visible_text: str  # ``text`` without quoted history and signature; never "" if text isn't
    html: str | None  # the HTML body sanitised for display; None without an HTML part
    headers: dict[str, str]  # STORED_HEADERS that are present
    attachments: tuple[Attachment, ...]
    automatic: str | None  # why a machine sent it (see ``automatic``), None for a person
    through_list: bool  # a person wrote it, a mailing list relayed it (``automatic`` says so)
    bounce: Bounce | None
    problems: tuple[str, ...]  # what could not be read, for people


def parse_email(
    raw: bytes,
    *,
    max_attachment_bytes: int,
    max_attachments_bytes: int,
    own: OwnAddresses = _NONE_OURS,
) -> ParsedEmail:
    """``raw`` as a ``ParsedEmail``; whatever cannot be read is described in ``problems``.

    ``own``: mail from our addresses (in any form), or naming them in X-Loop, is a
    loop (automatic).
    """
    problems: list[str] = []
    msg = _step(problems, "the message", lambda: _read(bytes(raw), problems), EmailMessage())
    none: dict[str, str] = {}
    dates: dict[str, datetime] = {}  # the Date read with the headers, when it was
    headers = _step(
        problems, "headers", lambda: read_headers(msg, STORED_HEADERS, problems, dates), none
    )
    sender_name, sender = _step(problems, "the sender", lambda: _sender(msg, problems), ("", ""))
    bodies = _step(
        problems,
        "the body",
        lambda: collect_bodies(
            msg,
            max_attachment_bytes=max_attachment_bytes,
            max_attachments_bytes=max_attachments_bytes,
            problems=problems,
        ),
        Bodies("", None, ()),
    )
    html = None
    if bodies.html is not None:
        html = _step(problems, "the HTML", lambda: sanitize_html(bodies.html or "").strip(), "")
    bounce = _step(problems, "the bounce report", lambda: parse_bounce(msg), None)
    read = headers if headers is not none else None  # (not read again, when read)
    automatic = _step(
        problems,
        "the automatic-mail headers",
        lambda: why_automatic(msg, sender=sender, own=own, headers=read),
        None,
    )
    _step(problems, "the defects", lambda: _note_defects(msg, problems), None)
    return ParsedEmail(
        message_id=message_id(headers.get("Message-ID")),
        sender_address=sender,
        sender_name=sender_name,
        null_sender=not sender and _step(problems, "the sender", lambda: _null(msg), False),
        subject=headers.get("Subject", ""),
        to=_step(problems, "To", lambda: _addresses(msg, "To", problems), ()),
        cc=_step(problems, "Cc", lambda: _addresses(msg, "Cc", problems), ()),
        references=references(headers.get("In-Reply-To"), headers.get("References")),
        date=_date(headers, dates, problems),
        text=bodies.text,
        visible_text=_step(problems, "the reply", lambda: visible_text(bodies.text), bodies.text),
        html=html,
        headers=headers,
        attachments=bodies.attachments,
        automatic="delivery status notification" if bounce else automatic,
        through_list=bounce is None
        and automatic is not None
        and _step(
            problems,
            "the list headers",
            lambda: written_through_list(msg, sender=sender, own=own, headers=read),
            False,
        ),
        bounce=bounce,
        problems=tuple(dict.fromkeys(problem[:_MAX_PROBLEM] for problem in problems)),
    )


def _step(problems: list[str], what: str, read: Callable[[], _T], default: _T) -> _T:
    try:
        return read()
    except Exception as error:
        problems.append(f"could not read {what}: {type(error).__name__}: {error}")
        return default


def _read(raw: bytes, problems: list[str]) -> EmailMessage:
    if not raw.strip():
        problems.append("empty message")
    msg = cast(EmailMessage, parse_bytes(raw, READING_POLICY))  # its message_factory
    if raw.strip() and not msg.keys():
        problems.append("no headers: this does not look like an email")
    eight_bit = [name for name, value in msg.raw_items() if not str(value).isascii()]
    for name in dict.fromkeys(eight_bit):
        problems.append(f"raw 8-bit bytes in header {name!r}")
    return msg


def _sender(msg: Message, problems: list[str]) -> tuple[str, str]:
    """``(display name, address)`` from From, else Sender, else Return-Path."""
    for name in ("From", "Sender"):
        found = addresses(msg, name, problems)
        if found:
            return found[0]
    values = raw_values(msg, "Return-Path")
    path = values[0].strip().strip("<>").strip().lower() if values else ""
    return "", path


def _null(msg: Message) -> bool:
    """Whether the message says it comes from the null address (``MAILER-DAEMON <>``, or
    ``Return-Path: <>`` stamped for ``MAIL FROM:<>``), as bounces and reports do."""
    values = [*raw_values(msg, "From"), *raw_values(msg, "Sender"), *raw_values(msg, "Return-Path")]
    return any(_NULL_ADDRESS.search(value) for value in values)


def _addresses(msg: Message, name: str, problems: list[str]) -> tuple[str, ...]:
    found = [address for _, address in addresses(msg, name, problems) if "@" in address]
    return tuple(dict.fromkeys(found))


def _date(
    headers: dict[str, str], dates: dict[str, datetime], problems: list[str]
) -> datetime | None:
    """The Date header's date: as it was read with the headers, or read from its text."""
    if "Date" in headers and "Date" in dates:
        return dates["Date"]
    return parse_date(headers.get("Date"), problems)


def _note_defects(msg: Message, problems: list[str]) -> None:
    for part in msg.walk():
        if not part.defects:
            continue  # (a part's type is read only for a defect's line)
        where = "" if part is msg else f"{content_type(part)} part: "
        for defect in part.defects:
            problems.append(f"{where}{_readable(defect)}")


def _readable(defect: MessageDefect) -> str:
    name = type(defect).__name__.removesuffix("Defect")
    words = _WORD_START.sub(" ", name).lower()
    detail = str(defect).strip()
    return f"{words}: {detail}" if detail and detail.lower() != words else words
