"""``body_runs.parse_bytes`` builds the very tree the stdlib's ``BytesParser`` builds."""

from __future__ import annotations

import base64
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import Policy
from pathlib import Path

import pytest

from benchmarks.mail_corpus import build_corpus
from connectors.email import body_runs
from connectors.email import parse as parse_module
from connectors.email.body_runs import parse_bytes
from connectors.email.email_policy import POLICY
from connectors.email.parse import parse_email

CORPUS = Path(__file__).resolve().parent.parent / "data" / "email"
FILES = sorted(CORPUS.rglob("*.eml"))
B64 = base64.encodebytes(bytes(range(256)) * 8).decode("ascii")  # 2 KiB, 28 lines


def tree(part: Message) -> tuple[object, ...]:
    """Everything the parser decides about a part, its children's included."""
    payload = vars(part)["_payload"]  # what the parser set, as it set it
    return (
        part.get_unixfrom(),
        tuple(part.raw_items()),
        [(type(d).__name__, str(d)) for d in part.defects],
        part.preamble,
        part.epilogue,
        [tree(child) for child in payload] if isinstance(payload, list) else payload,
    )


def same_as_the_stdlib(raw: bytes, **thresholds: int) -> bool:
    """Whether ``parse_bytes`` agrees with ``BytesParser``; raises when nothing was set aside
    (then the comparison proved nothing)."""
    stdlib = BytesParser(policy=POLICY).parsebytes(raw)
    seen: list[int] = []
    real = body_runs._put_back

    def counting(msg: Message, token: str, runs: list[str]) -> None:
        seen.append(len(runs))
        real(msg, token, runs)

    body_runs._put_back = counting
    try:
        ours = parse_bytes(raw, POLICY, **thresholds)
    finally:
        body_runs._put_back = real
    assert seen, "no run was set aside: this comparison proves nothing"
    return tree(ours) == tree(stdlib)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_corpus_message_parses_to_the_stdlibs_tree_with_every_run_set_aside(
    path: Path,
) -> None:
    raw = path.read_bytes()
    if not body_runs._BLOCK.search(raw):
        pytest.skip("no line that could be set aside")
    assert same_as_the_stdlib(raw, min_lines=1, smallest=0)


def test_every_benchmark_message_parses_to_the_stdlibs_tree_and_attachments_are_set_aside() -> None:
    corpus = build_corpus(200, "body-runs")
    attachments = [mail.raw for mail in corpus.messages if mail.shape == "attachment"]
    assert attachments
    for raw in attachments:  # with the thresholds the intake uses
        assert same_as_the_stdlib(raw)
    for mail in corpus.messages:
        if body_runs._BLOCK.search(mail.raw):
            assert same_as_the_stdlib(mail.raw, min_lines=1, smallest=0), mail.shape


def test_a_parsed_email_is_the_same_with_every_run_set_aside(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    raws = [path.read_bytes() for path in FILES] + [_mixed(B64, "\r\n")]
    slow = [
        parse_email(raw, max_attachment_bytes=1 << 20, max_attachments_bytes=1 << 22)
        for raw in raws
    ]
    set_aside = []

    def eager(raw: bytes, policy: Policy) -> Message:
        set_aside.append(bool(body_runs._BLOCK.search(raw)))
        return parse_bytes(raw, policy, min_lines=1, smallest=0)

    monkeypatch.setattr(parse_module, "parse_bytes", eager)
    fast = [
        parse_email(raw, max_attachment_bytes=1 << 20, max_attachments_bytes=1 << 22)
        for raw in raws
    ]
    assert sum(set_aside) >= 20
    assert fast == slow


def _mixed(body: str, end: str, *, preamble: str = "", epilogue: str = "") -> bytes:
    text = (
        "From: Jo <jo@example.org>\nSubject: runs\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="XX"\n\n'
        f"{preamble}--XX\nContent-Type: text/plain\n\nhello\n"
        "--XX\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"
        f"{body}--XX--\n{epilogue}"
    )
    return text.replace("\n", end).encode("ascii")


ODD_PLACES = {
    "a run just before the boundary, CRLF": _mixed(B64, "\r\n"),
    "a run just before the boundary, LF": _mixed(B64, "\n"),
    "a run in the preamble and the epilogue": _mixed(B64, "\r\n", preamble=B64, epilogue=B64),
    "an epilogue that is a run without its last line ending": _mixed(
        B64, "\n", epilogue=B64.rstrip("\n")
    ),
    "a run where the headers should be": (B64 + "\nFrom: jo@example.org\n\nhi\n").encode(),
    "a run right after a header, then a header line": (
        "From: jo@example.org\n" + B64 + "Subject: no header any more\n\nhi\n"
    ).encode(),
    "a run ending in a line the alphabet starts": _mixed(B64 + "Content-Type: x\n", "\n"),
    "a run broken by an empty line and a lone CR": _mixed(
        B64[:300] + "\n" + B64[300:600] + "\r" + B64[600:], "\n"
    ),
    "a run in a forwarded message": (
        b"From: jo@example.org\nContent-Type: message/rfc822\n\n" + _mixed(B64, "\n", epilogue=B64)
    ),
    "a run in a delivery status": (
        "From: <>\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="R"\n\n'
        "--R\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; x\n"
        + B64
        + "\nFinal-Recipient: rfc822; a@b\n"
        + B64
        + "--R--\n"
    ).encode(),
    "a run at the end without a line ending": ("From: jo@example.org\n\n" + B64 + "AAAA").encode(),
    "blocks a line short of a run and just long enough, long lines": _mixed(
        ("A" * 900 + "\n") * 3 + "!\n" + ("A" * 900 + "\n") * 4 + "!\n" + B64, "\r\n"
    ),
    "a run holding what looks like a token": _mixed(
        B64 + "relaydeskrun0123456789abcdef00000000\n" + B64, "\n"
    ),
}


@pytest.mark.parametrize("raw", ODD_PLACES.values(), ids=ODD_PLACES.keys())
def test_runs_in_odd_places_parse_to_the_stdlibs_tree(raw: bytes) -> None:
    assert same_as_the_stdlib(raw, min_lines=1, smallest=0)
    assert same_as_the_stdlib(raw, min_lines=4, smallest=0)


def test_the_bytes_of_a_set_aside_attachment_are_the_same() -> None:
    msg = parse_bytes(_mixed(B64, "\r\n"), POLICY, smallest=0)
    assert isinstance(msg, EmailMessage)
    attachment = next(msg.iter_attachments())
    assert attachment.get_payload(decode=True) == bytes(range(256)) * 8


@pytest.mark.parametrize("end", ["\n", "\r\n"])
def test_a_block_of_lines_is_set_aside_from_min_lines_on(
    monkeypatch: pytest.MonkeyPatch, end: str
) -> None:
    read: list[bytes] = []
    parsebytes = BytesParser.parsebytes

    def reading(self: BytesParser, text: bytes, headersonly: bool = False) -> Message:
        read.append(text)
        return parsebytes(self, text, headersonly)

    monkeypatch.setattr(BytesParser, "parsebytes", reading)
    short, enough = (_mixed(("QUJD" * 19 + "\n") * lines, end) for lines in (3, 4))
    for raw, set_aside in ((short, False), (enough, True)):
        read.clear()
        parse_bytes(raw, POLICY, min_lines=4, smallest=0)
        assert (b"relaydeskrun" in read[0]) is set_aside
    monkeypatch.setattr(BytesParser, "parsebytes", parsebytes)
    assert same_as_the_stdlib(enough, min_lines=4, smallest=0)
