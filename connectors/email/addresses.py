"""Read header text, addresses and Message-IDs from a parsed email without ever raising.

``email.policy.default`` parses a header when it is accessed, and some malformed
values make that parser raise (``Message-ID: <>`` is an ``IndexError`` on
Python 3.11). So every value is read here from ``msg.raw_items()``: raw 8-bit
bytes are decoded first (UTF-8, else windows-1252), then the policy's header
factory decodes RFC 2047 encoded words; when that fails the raw text is kept
and the failure is noted in ``problems``. All text comes back on one line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.headerregistry import DateHeader, HeaderRegistry
from email.message import Message
from email.utils import format_datetime, getaddresses, parsedate_to_datetime
from typing import cast

from connectors.email.email_policy import POLICY
from connectors.email.one_line import clean
from connectors.email.plain_headers import plain_address, plain_text

_POLICY = POLICY
_REGISTRY = cast(HeaderRegistry, POLICY.header_factory)
_LINE_BREAKS = re.compile(r"\r?\n")
_BRACKETED_ID = re.compile(r"<\s*([^<>\s]+)\s*>")
_BARE_ID = re.compile(r"(?<![^<>\s@])[^<>\s@]+@[^<>\s@]+")  # only from the start of a run
_PRINTABLE_ASCII = re.compile(r"[!-;=?-~]+")
_SURROGATES = re.compile(r"[\udc80-\udcff]")
_JOINED = {"x-loop"}
_MAX_HEADER = 32_768  # longer values are cut: the policy's parser is slow on huge headers
_MAX_IDS_TEXT = 20_000  # a References header of ~250 ids; bounds the regex work
_LONGEST_ID = 996  # "<" + id + ">" fits a stored external id (998, a mail line's limit)
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")
_LEFTOVER_WORD = re.compile(r"=\?[\w.:-]+\?[a-z]\?", re.IGNORECASE)


def raw_values(msg: Message, name: str) -> list[str]:
    """Every raw value of header ``name``: unfolded, 8-bit bytes decoded, at most 32 KiB."""
    wanted = name.lower()
    return [_raw_text(value) for key, value in msg.raw_items() if key.lower() == wanted]


def _raw_text(value: object) -> str:
    text = _undo_surrogates(str(value)[:_MAX_HEADER])
    return _LINE_BREAKS.sub("", text) if "\n" in text else text  # unfolded, when folded


def header_value(msg: Message, name: str, problems: list[str]) -> str | None:
    """The first value of header ``name`` (decoded, one line), or None when absent."""
    values = raw_values(msg, name)
    return _decode(name, values[0], problems) if values else None


def read_headers(
    msg: Message,
    names: Iterable[str],
    problems: list[str],
    dates: dict[str, datetime] | None = None,
) -> dict[str, str]:
    """The headers in ``names`` that ``msg`` has, decoded, one line each.

    A header that occurs more than once keeps its first value, except ``X-Loop``
    (every relay adds one): its values are joined with ", ". ``dates``, when given,
    gets the date each date header read without the stdlib's parser holds, as
    ``parse_date`` of its text gives it (so that it is not read again).
    """
    by_name: dict[str, list[object]] = {}
    for key, value in msg.raw_items():  # one pass over the headers, not one per name
        by_name.setdefault(key.lower(), []).append(value)
    found: dict[str, str] = {}
    for name in names:
        raw = by_name.get(name.lower())
        if not raw:
            continue
        if name.lower() in _JOINED:
            found[name] = ", ".join(_decode(name, _raw_text(v), problems) for v in raw)
        else:
            found[name] = _decode(name, _raw_text(raw[0]), problems, dates)
    return found


def addresses(msg: Message, name: str, problems: list[str]) -> list[tuple[str, str]]:
    """``(display name, lowercased address)`` for every address in every ``name`` header."""
    found: list[tuple[str, str]] = []
    for value in raw_values(msg, name):
        plain = plain_address(name, value)  # what the stdlib reads of it, known without it
        if plain is not None:
            pairs = [plain]
        else:
            try:
                parsed = _POLICY.header_factory(name, value)
                pairs = [(a.display_name, a.addr_spec) for a in getattr(parsed, "addresses", ())]
            except Exception:
                problems.append(f"broken header {name!r}")
                pairs = getaddresses([value])
        for display, spec in pairs:
            address = clean(spec).strip("<>").lower()
            if address:
                found.append((clean(display), address))
    return found


def message_id(value: str | None) -> str | None:
    """``value`` as a normalised ``<id@host>``, or None when it holds no usable id."""
    ids = message_ids(value)
    return ids[0] if ids else None


def message_ids(value: str | None) -> list[str]:
    """Every Message-ID in ``value`` in order, each ``<...>``; bare ``id@host`` is accepted.

    An id longer than a mail line may be is no id: it could not be stored to match."""
    if not value:
        return []
    value = value[:_MAX_IDS_TEXT]
    tokens = _BRACKETED_ID.findall(value)
    if not tokens:
        tokens = _BARE_ID.findall(value)
    return [
        f"<{token}>"
        for token in tokens
        if len(token) <= _LONGEST_ID and _PRINTABLE_ASCII.fullmatch(token)
    ]


def references(in_reply_to: str | None, refs: str | None) -> tuple[str, ...]:
    """The ids a message answers: In-Reply-To first, then References last to first."""
    ordered = message_ids(in_reply_to) + list(reversed(message_ids(refs)))
    return tuple(dict.fromkeys(ordered))


def parse_date(value: str | None, problems: list[str]) -> datetime | None:
    """The Date header as an aware datetime (UTC when the zone is unknown), or None."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        problems.append("broken header 'Date'")
        return None
    return _aware(parsed)


def _aware(date: datetime) -> datetime:
    return date if date.tzinfo is not None else date.replace(tzinfo=UTC)


def decode_words(value: str) -> str:
    """RFC 2047 encoded words in ``value`` decoded by the lenient legacy decoder."""
    return str(make_header(decode_header(value)))


def _decode(
    name: str, value: str, problems: list[str], dates: dict[str, datetime] | None = None
) -> str:
    plain = plain_text(name, value)  # the stdlib's text, without it
    if plain is None and (read := _read_date(name, value)) is not None:
        plain, date = read
        if dates is not None:
            dates[name] = date
    if plain is not None:
        return clean(plain)
    try:
        parsed = _POLICY.header_factory(name, value)
        text = str(parsed)
        for defect in getattr(parsed, "defects", ()):
            problems.append(f"header {name!r}: {defect}")
    except Exception:
        problems.append(f"broken header {name!r}")
        try:
            text = decode_words(value)
        except Exception:
            text = value
    if _CONTROL.search(text):
        problems.append(f"control characters in header {name!r} replaced by spaces")
    if _LEFTOVER_WORD.search(text):
        problems.append(f"malformed encoded word in header {name!r} kept as it is")
    return clean(text)


def _read_date(name: str, value: str) -> tuple[str, datetime] | None:
    """The text of a date header holding ``value``, as the stdlib's ``DateHeader`` writes it
    when it reads the date without a defect (the date written anew), and that date as
    ``parse_date`` reads the text (aware: UTC when the zone is unknown, ``-0000``); else
    None: an empty or unreadable date is left to the stdlib, which notes the defect or
    fails."""
    if not value or not issubclass(_REGISTRY[name], DateHeader):
        return None
    try:
        date = parsedate_to_datetime(value)
        return format_datetime(date), _aware(date)
    except Exception:
        return None


def _undo_surrogates(value: str) -> str:
    # BytesParser keeps 8-bit header bytes as lone surrogates; turn them back into
    # bytes and decode them as UTF-8, or as windows-1252 when that fails.
    if not _SURROGATES.search(value):
        return value
    data = value.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")
