"""Text for one line of a header, read or written: control characters and line or
paragraph separators become spaces, runs of whitespace one space.

Shared by inbound parsing (names and addresses of a received message) and the
outbound composer, so neither borrows from the other.
"""

from __future__ import annotations

import re
import unicodedata

_BREAKING = {"Cc", "Zl", "Zp"}  # control characters, line and paragraph separators
_WSP = re.compile(r"\s+")


def clean(value: str) -> str:
    """``value`` with every control character replaced and whitespace collapsed."""
    if value.isascii() and value.isprintable():  # the common case: no control characters,
        return " ".join(value.split())  # and no whitespace but spaces (what _WSP matches)
    spaced = "".join(" " if unicodedata.category(char) in _BREAKING else char for char in value)
    return _WSP.sub(" ", spaced).strip()
