"""The rules of the API's text fields: each a validator and the JSON Schema pattern that
documents it exactly (tests check that the two agree on every character that matters).

- a **line** (name, subject): no control character other than whitespace, something
  besides whitespace; runs of whitespace, line breaks included, become one space;
- a **text** (the message): no NUL, something besides whitespace; kept as written;
- a **value** (a custom field's text): no NUL;
- an **email address**: a plain ``local@domain.tld`` (domain lower-cased).

NUL (U+0000) is refused everywhere: the store cannot keep it (``router.storable``).
The patterns use only ``\\uXXXX`` escapes and character classes, which ECMA-262 (the
dialect of JSON Schema), Python and the Rust regex engine read alike.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from pydantic_core import PydanticCustomError

from router.storable import NUL

# what str.isspace() calls whitespace (and str.split() and str.strip() remove)
WHITESPACE = frozenset(c for c in map(chr, range(0x3001)) if c.isspace())
# control characters refused in a line: C0 except whitespace, and DEL
LINE_CONTROLS = frozenset(chr(c) for c in (*range(0x20), 0x7F)) - WHITESPACE


def char_class(chars: Iterable[str], *, negated: bool = False) -> str:
    """A regex character class of ``chars`` in ``\\uXXXX`` escapes, ranges joined."""
    codes = sorted({ord(c) for c in chars})
    parts: list[str] = []
    start = prev = codes[0]
    for code in [*codes[1:], -1]:
        if code == prev + 1:
            prev = code
            continue
        parts.append(f"\\u{start:04x}" if start == prev else f"\\u{start:04x}-\\u{prev:04x}")
        start = prev = code
    return "[" + ("^" if negated else "") + "".join(parts) + "]"


def _something_besides(allowed_not: frozenset[str]) -> str:
    """Only characters not in ``allowed_not``, one of them not whitespace either."""
    anything = char_class(allowed_not, negated=True)
    visible = char_class(allowed_not | WHITESPACE, negated=True)
    return f"^{anything}*{visible}{anything}*$"


LINE_PATTERN = _something_besides(LINE_CONTROLS)
TEXT_PATTERN = _something_besides(frozenset(NUL))
VALUE_PATTERN = "^" + char_class(NUL, negated=True) + "*$"

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_TOP_LABEL = r"[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# RFC 5322 dot-atoms only (no quoted local part) and LDH labels, the last one starting with
# a letter: strict on purpose, the address is written into headers verbatim
EMAIL_PATTERN = rf"^{_ATEXT}+(?:\.{_ATEXT}+)*@(?:{_LABEL}\.)+{_TOP_LABEL}$"
MAX_EMAIL_CHARS = 254
_EMAIL = re.compile(EMAIL_PATTERN.removeprefix("^").removesuffix("$"))


def nul_error() -> PydanticCustomError:
    return PydanticCustomError(
        "nul_character", "must not contain NUL characters (U+0000): text cannot keep them"
    )


def blank_error() -> PydanticCustomError:
    return PydanticCustomError("blank", "must contain more than whitespace")


def check_line(value: str) -> str:
    """One line of text: no control characters, not blank; whitespace runs become one space."""
    if NUL in value:
        raise nul_error()
    if any(c in LINE_CONTROLS for c in value):
        raise ValueError("must not contain control characters")
    if not value.strip():
        raise blank_error()
    return " ".join(value.split())


def check_text(value: str) -> str:
    """A message: no NUL, not blank; otherwise kept exactly as written."""
    if NUL in value:
        raise nul_error()
    if not value.strip():
        raise blank_error()
    return value


def check_value(value: str) -> str:
    if NUL in value:
        raise nul_error()
    return value


def check_custom_value(value: object, max_chars: int) -> bool | int | float | str | None:
    """A custom field's value: text (at most ``max_chars``, no NUL), a finite number, a
    boolean or null; never converted from one kind to another."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value
    if isinstance(value, str):
        if len(value) > max_chars:
            raise PydanticCustomError(
                "string_too_long",
                "must be at most {max_length} characters",
                {"max_length": max_chars},
            )
        return check_value(value)
    raise ValueError("must be text, a number, a boolean or null")


def check_email_address(value: str) -> str:
    """``value`` if it is a plain ``local@domain.tld`` address (domain lower-cased), else raise.

    No whitespace, no control characters, no display name, no comments, no
    quoted local part: whatever passes can be written into a header verbatim.
    """
    if NUL in value:
        raise nul_error()
    if any(c.isspace() or not c.isprintable() for c in value):
        raise ValueError("not an email address: spaces and line breaks are not allowed")
    if value.count("@") != 1:
        raise ValueError("not an email address: it needs one @, as in name@example.com")
    if len(value) > MAX_EMAIL_CHARS:
        raise ValueError(f"not an email address: it is longer than {MAX_EMAIL_CHARS} characters")
    local, domain = value.split("@")
    if not _EMAIL.fullmatch(f"{local}@example.org"):
        raise ValueError("not an email address: the part before @ is not valid")
    if not _EMAIL.fullmatch(f"a@{domain}"):
        raise ValueError(
            "not an email address: the domain is not valid (labels of letters, digits and "
            "hyphens, the last one starting with a letter)"
        )
    return f"{local}@{domain.lower()}"
