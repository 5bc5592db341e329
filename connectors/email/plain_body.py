"""A mail's body written from a skeleton: the stdlib writes the body once for stand-in
texts, and a mail whose texts are plain 7bit takes that skeleton with its own texts.

``set_content`` of an ASCII text whose lines are at most ``max_line_length`` long
(78) chooses ``7bit`` and keeps the text as its lines, each ended by ``\\n``
(``contentmanager._encode_text``: ``bytes.splitlines`` of the text); the generator
writes each of those lines ended by the line separator. Nothing else of the body
(its MIME headers, the parts' headers, the boundary lines) depends on such a text, so
a body of the same shape (the same parts, boundary and headers) written once for
stand-in texts holds everything but the texts. Any other text (non-ASCII, a long line
to encode) is left to the stdlib, as is any other shape (files).
"""

from __future__ import annotations

from collections.abc import Sequence

_LONGEST = 78  # policy.default's max_line_length, which decides 7bit
_CRLF = b"\r\n"


def seven_bit(text: str) -> bytes | None:
    """``text`` as the stdlib writes a part set to it without a transfer encoding (7bit,
    CRLF), or None when it would not be 7bit (or not written as it is)."""
    if not text.isascii():
        return None
    lines = text.encode("ascii").splitlines()
    if any(len(line) > _LONGEST for line in lines):
        return None
    return _CRLF.join(lines) + _CRLF


def cut(data: bytes, stand_ins: Sequence[str]) -> tuple[bytes, ...] | None:
    """``data`` (a body written for ``stand_ins``) in the pieces around each stand-in's
    written lines, in order; None unless each is there exactly once."""
    pieces: list[bytes] = []
    rest = data
    for stand_in in stand_ins:
        written = seven_bit(stand_in)
        if written is None or data.count(written) != 1 or written not in rest:
            return None
        before, _, rest = rest.partition(written)
        pieces.append(before)
    return (*pieces, rest)
