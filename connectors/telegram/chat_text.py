"""Text for a chat channel that speaks Telegram's HTML: escaping, measuring, splitting, trimming.

Telegram counts a message's length in UTF-16 code units (an emoji outside the
Basic Multilingual Plane counts 2) and refuses a text longer than 4096 of them.
Pure functions of their arguments.
"""

from __future__ import annotations

import re
import unicodedata
from html import unescape

from router.thread_keys import subject_tag

CHAT_LIMIT = 4096
"""The longest message text Telegram accepts, in UTF-16 code units."""

_ELLIPSIS = "\u2026"
_ZWJ = "\u200d"
_SPACE_RUN = re.compile(r"\s+")
_BLANK_LINE = re.compile(r"\n[^\S\n]*\n")  # reads the same reversed
_BLANK_LINES = re.compile(r"\n(?:[^\S\n]*\n)+")
_MAX_CLUSTER_BACKOFF = 32
_TAG = re.compile(r"<[^>]*>")


def escape_html(text: str) -> str:
    """Text as Telegram HTML: ``&``, ``<`` and ``>`` become entities, nothing else changes."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def html_to_plain(html: str) -> str:
    """The text of a chat message's HTML: tags dropped, entities read."""
    return unescape(_TAG.sub("", html))


def utf16_len(text: str) -> int:
    """The length Telegram counts: UTF-16 code units."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _escaped_len(text: str) -> int:
    """``utf16_len(escape_html(text))`` without building the escaped copy."""
    return utf16_len(text) + 4 * text.count("&") + 3 * text.count("<") + 3 * text.count(">")


def _fit(text: str, start: int, limit: int) -> int:
    """The largest ``end`` with ``text[start:end]`` within ``limit`` once escaped."""
    end = min(len(text), start + limit)  # no character costs less than one unit
    cost = _escaped_len(text[start:end])
    while cost > limit:
        # No character costs more than five units ("&amp;"), so dropping this many
        # never drops more than the fewest that would be enough.
        end -= -(-(cost - limit) // 5)
        cost = _escaped_len(text[start:end])
    return end


def _joins_previous(text: str, i: int) -> bool:
    """Whether ``text[i]`` belongs to the character before it (a mark, a joiner, a pair)."""
    here, before = text[i], text[i - 1]
    if before == _ZWJ or here == _ZWJ:
        return True
    if "\udc00" <= here <= "\udfff" and "\ud800" <= before <= "\udbff":
        return True  # a surrogate pair spelt as two code points
    if "\U0001f3fb" <= here <= "\U0001f3ff" or "\U000e0020" <= here <= "\U000e007f":
        return True  # skin tone modifier, flag tag
    return unicodedata.category(here) in ("Mn", "Mc", "Me")  # marks, variation selectors


def _hard_cut(text: str, start: int, end: int) -> int:
    cut = end
    while cut > start + 1 and end - cut < _MAX_CLUSTER_BACKOFF and _joins_previous(text, cut):
        cut -= 1
    return end if _joins_previous(text, cut) else cut


def _cut(text: str, start: int, end: int) -> tuple[int, int]:
    """Where the chunk starting at ``start`` ends and the next one starts.

    Every cut lies in a run of whitespace that begins at or before ``end``; the
    last paragraph break wins, then the last line break, then the last space.
    """
    spaces = _SPACE_RUN.match(text, end)
    region = text[start : spaces.end() if spaces else end]
    backwards = region[::-1]
    blank = _BLANK_LINE.search(backwards)
    if blank is not None:
        at = len(region) - blank.end()
    else:
        at = region.rfind("\n")
        if at < 0:
            space = _SPACE_RUN.search(backwards)
            at = len(region) - space.end() if space is not None else -1
    if at <= 0:
        cut = _hard_cut(text, start, end)
        return cut, cut
    chunk_end = start + len(region[:at].rstrip())
    following = _SPACE_RUN.match(text, start + at)
    return chunk_end, following.end() if following else start + at


def split_for_chat(text: str, limit: int = CHAT_LIMIT) -> list[str]:
    """Plain text in chunks that each fit ``limit`` UTF-16 units once escaped with escape_html.

    A chunk ends at the last paragraph break (a blank line) that lets it fit,
    else at the last line break, else at the last whitespace, else as late as
    possible without parting a character from its marks. Whitespace at the
    cuts is dropped; nothing else is. Blank text gives no chunks.
    """
    if limit < 5:
        raise ValueError("the limit must leave room for one escaped character (5 units)")
    chunks: list[str] = []
    leading = _SPACE_RUN.match(text)
    start = leading.end() if leading else 0
    while start < len(text):
        end = _fit(text, start, limit)
        rest = _SPACE_RUN.match(text, end)
        if end == len(text) or (rest is not None and rest.end() == len(text)):
            chunks.append(text[start:end].rstrip())
            break
        chunk_end, following = _cut(text, start, end)
        chunks.append(text[start:chunk_end])
        start = following
    return chunks


def trim(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at whitespace when that keeps most of them, then "…".

    Runs of blank lines become one blank line; the ends are stripped.
    """
    if limit < 1:
        raise ValueError("the limit must be at least one character")
    text = _BLANK_LINES.sub("\n\n", text.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if len(text) <= limit:
        return text
    room = limit - 1
    if text[room].isspace():
        return text[:room].rstrip() + _ELLIPSIS
    space = _SPACE_RUN.search(text[:room][::-1])
    cut = room - space.end() if space is not None else 0
    if cut <= room // 2:
        cut = _hard_cut(text, 0, room) if room > 0 else 0
    return text[:cut].rstrip() + _ELLIPSIS


def clip(text: str, units: int) -> str:
    """``text`` trimmed and escaped, at most ``units`` UTF-16 units once escaped."""
    limit = units
    while True:
        escaped = escape_html(trim(text, limit))
        cost = utf16_len(escaped)
        if cost <= units:
            return escaped
        limit = max(1, limit * units // cost - 1)


def one_line(text: str, units: int, empty: str = "") -> str:
    """One line of user text, whitespace collapsed, escaped and bounded."""
    return clip(" ".join(text.split()), units) or empty


def ticket_tag(number: int, tag_prefix: str) -> str:
    """``[#12]``, escaped and bounded for a chat line."""
    return one_line(subject_tag(number, tag_prefix), 60)
