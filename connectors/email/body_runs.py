"""The stdlib's ``BytesParser``, with long runs of base64 lines set aside while it reads.

``email.feedparser`` reads a message one line at a time (each line is checked
against every open multipart boundary), so a 200 KiB base64 attachment, 2,700
lines, cost 2.4 ms to parse against 0.1 ms for a message without it. A line
made only of base64's alphabet (``A-Z a-z 0-9 + / =``) is neither a header
(no colon, no leading blank), nor a continuation, nor a boundary (those start
with ``--``), nor empty, nor ``From ``: wherever it stands, the parser does
with it what it does with any other such line. So a run of them can be one
line while the parser reads, and the run put back into whatever text that line
ended in afterwards (a part's payload, a preamble or an epilogue): the tree is
the one the stdlib builds from the original bytes (``tests/unit/
test_email_body_runs.py`` compares both on every message of the corpus). Each
run stands in as a token of its own; the run's last line ending stays outside
the token, where the parser may strip it (the line ending before a boundary).

Written here, not taken from a library: no kept library parses MIME faster
while building the stdlib's ``EmailMessage``, which the rest of the email
connector reads.
"""

from __future__ import annotations

import re
import secrets
from email.message import Message
from email.parser import BytesParser
from email.policy import Policy

_MIN_LINES = 16  # a shorter run saves less than setting it aside costs
_SMALLEST = 16 * 1024  # a smaller message holds no run worth setting aside
_PREFIX = "relaydeskrun"
_STAND_IN = re.compile(_PREFIX + r"([0-9a-f]{16})(\d{8})")  # a message's nonce, a run's number


# Whole lines of base64 from a line's start, each with its line ending, as many as follow:
# a block is read once, and one too short to set aside is left as it is (a pattern that
# asked for at least so many lines read a block of long lines again from each of its
# lines, about 30 times over). Not possessive (``++``): Python 3.11.2's possessive repeat of
# a group matched past a line's end ("AAAA\nSubject" in "AAAA\nSubject: x\n")
_BLOCK = re.compile(rb"(?m)^(?:[A-Za-z0-9+/=]+\r?\n)+")


def parse_bytes(
    raw: bytes, policy: Policy, *, min_lines: int = _MIN_LINES, smallest: int = _SMALLEST
) -> Message:
    """``BytesParser(policy=policy).parsebytes(raw)``, the same tree, sooner for long
    base64 bodies: runs of ``min_lines`` lines or more are set aside in a message of
    ``smallest`` bytes or more."""
    runs: list[bytes] = []
    token = _token(raw) if len(raw) >= smallest else b""

    def set_aside(found: re.Match[bytes]) -> bytes:
        block = found.group()
        if block.count(b"\n") < min_lines:
            return block
        ending = 2 if block.endswith(b"\r\n") else 1  # the last line's stays outside
        runs.append(block[:-ending])
        return b"%s%08d%s" % (token, len(runs) - 1, block[-ending:])

    if token:
        raw = _BLOCK.sub(set_aside, raw)
    msg = BytesParser(policy=policy).parsebytes(raw)
    if runs:
        _put_back(msg, token.decode("ascii"), [run.decode("ascii") for run in runs])
    return msg


def _token(raw: bytes) -> bytes:
    """A stand-in that the message does not hold (in the base64 alphabet itself)."""
    while True:
        token = f"{_PREFIX}{secrets.token_hex(8)}".encode("ascii")
        if token not in raw:
            return token


def _put_back(msg: Message, token: str, runs: list[str]) -> None:
    nonce = token.removeprefix(_PREFIX)

    def run(found: re.Match[str]) -> str:
        return runs[int(found.group(2))] if found.group(1) == nonce else found.group()

    def restore(text: str) -> str:
        return _STAND_IN.sub(run, text) if token in text else text

    for part in msg.walk():
        payload = vars(part)["_payload"]  # as the parser left it (get_payload decodes)
        if isinstance(payload, str):
            part.set_payload(restore(payload))  # (a str is kept as it is)
        for name in ("preamble", "epilogue"):
            text = getattr(part, name)
            if isinstance(text, str):
                setattr(part, name, restore(text))
