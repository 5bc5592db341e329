"""The part of a reply its author wrote: quoted history, signatures and trailers stripped.

Two kinds of cut, applied in this order (the words of every language are in
``reply_markers``):

1. The first *history marker* ends the new text: an ``-----Original Message-----``
   line (Outlook; Foxmail's and QQ Mail's ``------ 原始邮件 ------``); an
   Outlook-style header block (``From:`` followed within four lines by two of
   ``Sent:``, ``To:``, ``Subject:``, ``Cc:``: ``发件人/发送时间/收件人/主题``,
   ``Från:/Skickat:/Till:/Ämne:``, ``差出人:/送信日時:/宛先:/件名:`` and so on); the
   RFC 3676 signature delimiter (a line that is exactly ``-- ``).
2. Then, repeatedly from the end: a trailing block of ``>`` lines together with the
   attribution line before it (``On ... wrote:``, ``在 2026年12月6日 06:59 … 写道``,
   ``Den ... skrev ...:``, ``2026年12月6日(土) 6:59 … <…>:``, ..., possibly wrapped over
   two lines), and mobile trailers (``Sent from my iPhone``, ``发自我的iPhone``, ...).

Quoted lines that are followed by new text (an interleaved reply) are kept. When
nothing would be left, the full text is returned: an agent never sees an empty reply.
"""

from __future__ import annotations

import re

from connectors.email.reply_markers import (
    ADDRESS_WROTE,
    ATTRIBUTION,
    HEADER_FROM_LINE,
    HEADER_OTHER_LINE,
    ORIGINAL_MESSAGE,
    TRAILER,
)

_SIGNATURE = "-- "
_SEPARATOR = re.compile(r"^\s*(_{10,}|-{10,})\s*$")
_HEADER_BLOCK_REACH = 4
_MAX_ATTRIBUTION = 300  # longer lines are text, not an attribution (and keep regexes cheap)
_MAX_ROUNDS = 5


def visible_text(text: str) -> str:
    """``text`` without its quoted history and signature; ``text`` itself if that is all."""
    visible = new_text(text)
    return visible if visible.strip() else text


def new_text(text: str) -> str:
    """What the writer added: ``text`` without quoted history and signature, maybe ""."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = lines[: _history_start(lines)]
    for _ in range(_MAX_ROUNDS):
        before = len(lines)
        lines = _strip_trailing_quote(_strip_blank_end(lines))
        lines = _strip_trailer(_strip_blank_end(lines))
        if len(lines) == before:
            break
    return "\n".join(lines).strip("\n").rstrip()


def _history_start(lines: list[str]) -> int:
    for index, line in enumerate(lines):
        if line == _SIGNATURE or ORIGINAL_MESSAGE.match(line[:_MAX_ATTRIBUTION]):
            return _after_separator(lines, index)
        if HEADER_FROM_LINE.match(line) and _header_block_follows(lines, index):
            return _after_separator(lines, index)
    return len(lines)


def _after_separator(lines: list[str], index: int) -> int:
    """Where history starting at ``index`` really starts: with the ``____`` or ``----``
    line Outlook and Foxmail draw above it, when there is one."""
    before = index - 1
    while before >= 0 and not lines[before].strip():
        before -= 1
    if before >= 0 and _SEPARATOR.match(lines[before]):
        return before
    return index


def _header_block_follows(lines: list[str], index: int) -> bool:
    reach = lines[index + 1 : index + 1 + _HEADER_BLOCK_REACH]
    return sum(1 for line in reach if HEADER_OTHER_LINE.match(line)) >= 2


def _strip_blank_end(lines: list[str]) -> list[str]:
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    return lines[:end]


def _strip_trailing_quote(lines: list[str]) -> list[str]:
    start = len(lines)
    while start and (lines[start - 1].lstrip().startswith(">") or not lines[start - 1].strip()):
        start -= 1
    if start == len(lines):
        return lines
    kept = _strip_blank_end(lines[:start])
    last = kept[-1].strip()[:_MAX_ATTRIBUTION] if kept else ""
    wrapped = " ".join(line.strip() for line in kept[-2:])[: 2 * _MAX_ATTRIBUTION]
    if ATTRIBUTION.match(last):
        return kept[:-1]
    if len(kept) >= 2 and ATTRIBUTION.match(wrapped):
        return kept[:-2]
    if ADDRESS_WROTE.match(last):
        return kept[:-1]
    return kept


def _strip_trailer(lines: list[str]) -> list[str]:
    if lines and TRAILER.match(lines[-1][:_MAX_ATTRIBUTION]):
        return lines[:-1]
    return lines
