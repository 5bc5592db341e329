"""The part of a reply its author wrote: quoted history, signatures and trailers stripped.

Two kinds of cut, applied in this order:

1. The first *history marker* ends the new text: an Outlook ``-----Original Message-----``
   line; an Outlook header block (``From:`` followed within four lines by ``Sent:`` or
   ``Date:`` and by ``To:`` or ``Subject:``, also in German, French and Spanish); a
   ``____`` separator followed by a ``From:`` line; the RFC 3676 signature delimiter
   (a line that is exactly ``-- ``).
2. Then, repeatedly from the end: a trailing block of ``>`` lines together with the
   attribution line before it (``On ... wrote:``, ``Am ... schrieb ...:``,
   ``Le ... a écrit :``, ``El ... escribió:``, possibly wrapped over two lines), and
   mobile trailers (``Sent from my iPhone``, ``Get Outlook for iOS``).

Quoted lines that are followed by new text (an interleaved reply) are kept. When
nothing would be left, the full text is returned: an agent never sees an empty reply.
"""

from __future__ import annotations

import re

_ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{2,}\s*(original message|ursprüngliche nachricht|message d'origine|"
    r"mensaje original|original-nachricht)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_HEADER_FROM = re.compile(r"^\s*\*?(from|von|de|van)\s?:\*?\s*\S", re.IGNORECASE)
_HEADER_SENT = re.compile(
    r"^\s*\*?(sent|date|gesendet|datum|envoyé|enviado|enviado el|fecha)\s?:\*?\s*\S",
    re.IGNORECASE,
)
_HEADER_TO = re.compile(
    r"^\s*\*?(to|subject|an|betreff|à|objet|para|asunto)\s?:\*?\s*\S", re.IGNORECASE
)
_SEPARATOR = re.compile(r"^\s*_{10,}\s*$")
_SIGNATURE = "-- "
_WROTE = r"\s(wrote|schrieb|a écrit|escribió)\s?:$"
_ATTRIBUTION = re.compile(
    r"^(on|le|el)\s.+" + _WROTE + r"|^am\s.+\sschrieb(\s.+)?:$",  # German names follow "schrieb"
    re.IGNORECASE,
)
_ADDRESS_WROTE = re.compile(r"^.{0,100}<?[^\s<>]+@[^\s<>]+>?" + _WROTE, re.IGNORECASE)
_TRAILER = re.compile(
    r"^\s*(sent from my \w+( \w+)?|sent from (mail|outlook) for \w+|get outlook for \w+"
    r"|von meinem \w+ gesendet|envoyé de mon \w+|enviado desde mi \w+)\.?\s*$",
    re.IGNORECASE,
)
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
        if line == _SIGNATURE or _ORIGINAL_MESSAGE.match(line):
            return index
        if _HEADER_FROM.match(line) and _header_block_follows(lines, index):
            return index
        if _SEPARATOR.match(line):
            following = _next_content(lines, index + 1)
            if following is not None and _HEADER_FROM.match(lines[following]):
                return index
    return len(lines)


def _header_block_follows(lines: list[str], index: int) -> bool:
    reach = lines[index + 1 : index + 1 + _HEADER_BLOCK_REACH]
    sent = any(_HEADER_SENT.match(line) for line in reach)
    return sent and any(_HEADER_TO.match(line) for line in reach)


def _next_content(lines: list[str], start: int) -> int | None:
    for index in range(start, len(lines)):
        if lines[index].strip():
            return index
    return None


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
    if _ATTRIBUTION.match(last):
        return kept[:-1]
    if len(kept) >= 2 and _ATTRIBUTION.match(wrapped):
        return kept[:-2]
    if _ADDRESS_WROTE.match(last):
        return kept[:-1]
    return kept


def _strip_trailer(lines: list[str]) -> list[str]:
    if lines and _TRAILER.match(lines[-1]):
        return lines[:-1]
    return lines
