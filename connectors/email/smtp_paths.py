"""The path of an SMTP command (MAIL FROM:<...>, RCPT TO:<...>) in its plain shape, read
without the stdlib's header parser, which aiosmtpd uses for every path."""

from __future__ import annotations

import re

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_PATH = re.compile(
    rf"<({_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)>(?:[ \t]+(?=[^ \t(])|\Z)"
)


def plain_path(arg: str) -> tuple[str, str] | None:
    """(address, parameters) of a path that is ``<dot-atom@domain>`` and then nothing, or
    spaces and parameters, as aiosmtpd's ``_getaddr`` reads it; None for any other shape
    (quoted local parts, routes, comments, address literals, UTF-8: aiosmtpd's to read)."""
    plain = _PLAIN_PATH.match(arg)
    return None if plain is None else (plain.group(1), arg[plain.end() :])
