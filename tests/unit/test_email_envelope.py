"""Intake reads a message's header block only: the same headers as a parse of the whole."""

from __future__ import annotations

from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path

import pytest

from connectors.email.normalize import envelope_message, header_block

CORPUS = Path(__file__).resolve().parent.parent / "data" / "email"


def _headers(raw: bytes) -> list[tuple[str, str]]:
    return BytesHeaderParser(policy=policy.compat32).parsebytes(raw).items()


def _shapes(raw: bytes) -> list[bytes]:
    """The message as sent (CRLF), as a mailbox may store it (LF), and as found."""
    lf = raw.replace(b"\r\n", b"\n")
    return [raw, lf, lf.replace(b"\n", b"\r\n")]


@pytest.mark.parametrize("name", sorted(path.name for path in CORPUS.glob("*.eml")))
def test_every_corpus_message_has_the_same_headers_read_from_its_header_block(name: str) -> None:
    for raw in _shapes((CORPUS / name).read_bytes()):
        assert _headers(header_block(raw)) == _headers(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"Subject: no body and no empty line",
        b"From: a@b.c\r\nSubject: only headers\r\n",
        b"\r\nFrom: a@b.c\r\n\r\nan empty line first: no headers at all",
        b"From: a@b.c\nSubject: LF\n\nbody\r\n\r\nmore",
        b"From: a@b.c\r\nSubject: CRLF\r\n\r\nbody\n\nmore",
        b"From: a@b.c\r\nSubject: CRLF then LF\r\n\nbody",
        b"From: a@b.c\r\rSubject: a bare CR ends them\r\n\r\nbody",
        b"From: a@b.c\r\nno header here\r\nSubject: x\r\n\r\nbody",
        b"From: a@b.c\r\nSubject: folded\r\n  on two lines\r\n\r\nbody",
        b"From: a@b.c\r\nX-Raw: \xff\xfe bytes\r\n\r\nbody \xff",
    ],
)
def test_awkward_shapes_have_the_same_headers_read_from_their_header_block(raw: bytes) -> None:
    block = header_block(raw)
    assert raw.startswith(block)
    assert _headers(block) == _headers(raw)


def test_the_body_is_left_out_of_the_header_block() -> None:
    raw = b"From: Jo <jo@example.org>\r\nMessage-ID: <m1@x>\r\n\r\n" + b"body line\r\n" * 10_000
    assert header_block(raw) == b"From: Jo <jo@example.org>\r\nMessage-ID: <m1@x>\r\n\r\n"
    envelope = envelope_message(raw, source="smtp")
    assert envelope.idempotency_key == "<m1@x> jo@example.org"
    assert (envelope.sender_name, envelope.sender_address) == ("Jo", "jo@example.org")


def test_a_message_without_a_message_id_is_keyed_by_its_whole_body() -> None:
    head = b"From: jo@example.org\r\nSubject: same\r\n\r\n"
    one = envelope_message(head + b"first body", source="smtp")
    two = envelope_message(head + b"second body", source="smtp")
    again = envelope_message(head.replace(b"\r\n", b"\n") + b"first body", source="imap:x")
    assert one.idempotency_key.startswith("sha256:")
    assert one.idempotency_key != two.idempotency_key
    assert one.idempotency_key == again.idempotency_key
