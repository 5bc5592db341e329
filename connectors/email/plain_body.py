"""A mail's body written from a skeleton: the stdlib writes the body once for stand-in
texts, and a mail whose texts are written as 7bit or quoted-printable takes that skeleton
with its own texts.

``set_content`` of an ASCII text whose lines are at most ``max_line_length`` long
(78) chooses ``7bit`` and keeps the text as its lines, each ended by ``\\n``
(``contentmanager._encode_text``: ``bytes.splitlines`` of the text); the generator
writes each of those lines ended by the line separator. Nothing else of the body
(its MIME headers, the parts' headers, the boundary lines) depends on such a text, so
a body of the same shape (the same parts, boundary and headers) written once for
stand-in texts holds everything but the texts.

A text the stdlib writes quoted-printable (non-ASCII, for which the mail asks it; an
ASCII line longer than 78, for which the stdlib chooses it) is encoded by the stdlib's
own ``_encode_text``, which ``set_content`` calls, and its payload is written as the
generator writes a text part's (``Generator._write_lines``: each ``\\n`` a line
separator). Its part's headers differ from a 7bit one's only in the encoding they name,
so the skeleton is written for stand-ins set to the same encodings; a stand-in's
quoted-printable is itself. Any other text (base64, 8bit) is left to the stdlib, as is
any other shape (files).

``_encode_text`` is private to the stdlib. The public route to the same bytes is a part
of its own (``EmailMessage().set_content(text, cte=...)``, then its transfer encoding and
payload): two to five times as much a text (quoted-printable, timed at load 15: four
lines of Chinese 137 against 65 us, eight of German 162 against 73, one English line of
100 characters 129 against 24), and every text of a mail in Chinese (both
parts of each acknowledgement and notice to a customer or agent who reads it) is written
quoted-printable. So the private function is borrowed, and
``tests/unit/test_email_wire.py`` pins it to what the public route writes (generated
texts, and fixed answers): a Python whose function moves, takes other arguments or writes
otherwise fails there.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from email.contentmanager import _encode_text  # type: ignore[attr-defined]  # see above
from email.policy import Policy

_LONGEST = 78  # policy.default's max_line_length, which decides 7bit
_CRLF = b"\r\n"
_QUOTED_PRINTABLE = "quoted-printable"
_WRITTEN_AS_IT_IS = re.compile(r"[\t\n\x20-\x7e]*")  # no CR, nothing the generator changes


def seven_bit(text: str) -> bytes | None:
    """``text`` as the stdlib writes a part set to it without a transfer encoding (7bit,
    CRLF), or None when it would not be 7bit (or not written as it is)."""
    if not text.isascii():
        return None
    lines = text.encode("ascii").splitlines()
    if any(len(line) > _LONGEST for line in lines):
        return None
    return _CRLF.join(lines) + _CRLF


def written_text(text: str, cte: str | None, policy: Policy) -> tuple[str, bytes] | None:
    """``text`` as the stdlib writes a part ``set_content(text, cte=cte)`` makes under
    ``policy``: the transfer encoding the part names and the part's body (CRLF); None
    when that encoding is neither 7bit nor quoted-printable (or the text cannot be
    encoded: the stdlib raises it)."""
    if cte is None:
        seven = seven_bit(text)
        if seven is not None:
            return "7bit", seven
    try:
        chosen, payload = _encode_text(text, "utf-8", cte, policy)
    except (ValueError, LookupError):  # UnicodeError is a ValueError
        return None
    if chosen != _QUOTED_PRINTABLE or not _WRITTEN_AS_IT_IS.fullmatch(payload):
        return None  # 7bit is seven_bit's: for a text of ours, cte is None where it is
    return chosen, payload.replace("\n", "\r\n").encode("ascii")


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
