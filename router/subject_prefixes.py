"""The "Re:" of a mail's subject, in the languages mail clients write it.

A Chinese Outlook answers "回复: ", Foxmail and QQ Mail "回复" with a full-width
colon (U+FF1A), some clients "答复" or "RE" with either colon; German ones "AW:",
and forwards are "Fw:", "Fwd:", "转发". They are all the same mark: a subject that
starts with any of them is an answer already, and an answer's subject is the
ticket's subject with these taken off and the reader's own prefix put back once.
Threading never depends on them (it reads the ``[#N]`` tag and the headers); this
keeps subjects from growing "Re: 回复: RE: ..." chains.
"""

from __future__ import annotations

import re

_PREFIX = re.compile(
    r"^\s*(?:re|aw|sv|vs|antw|fwd?|wg|回复|回覆|答复|答覆|转发|轉發|转寄|轉寄)"
    r"\s*(?:\[\d{1,4}\]|\(\d{1,4}\))?\s*[:\uff1a]\s*",
    re.IGNORECASE,
)


def without_reply_prefixes(subject: str) -> str:
    """``subject`` without the answer and forward marks it starts with:
    ``"回复\uff1aRE: [#12] Printer"`` -> ``"[#12] Printer"``."""
    rest = subject
    while True:
        match = _PREFIX.match(rest)
        if match is None or match.end() == 0:
            return rest.strip()
        rest = rest[match.end() :]


def is_answer(subject: str) -> bool:
    """Whether ``subject`` starts with an answer's or a forward's mark."""
    return _PREFIX.match(subject) is not None
