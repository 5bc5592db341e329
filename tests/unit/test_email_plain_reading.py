"""Reading a received mail's plain headers and its date without the stdlib's header
parser (``plain_headers.plain_text``, ``plain_address``, ``addresses._read_date``): what
the stdlib reads of them, for generated values, and every corpus and benchmark mail
parsed as it is without them."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from email import policy
from email.utils import format_datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import connectors.email.addresses as addresses_module
from benchmarks.mail_corpus import build_corpus
from connectors.email import plain_headers
from connectors.email.addresses import parse_date
from connectors.email.one_line import clean
from connectors.email.parse import ParsedEmail, parse_email
from connectors.email.plain_headers import plain_address, plain_text

STDLIB = policy.EmailPolicy()  # a registry of its own: every header parsed anew
CORPUS = sorted((Path(__file__).parents[1] / "data" / "email").rglob("*.eml"))

# the characters that make a header plain or not: atext, specials, spaces, encoded-word
# starts, a non-ASCII letter, a tab, a control character
CHARS = "aZ09.'!#~-_=?\"()<>@,;:\\[] \té中\x01"
WORDS = st.text(alphabet=st.sampled_from(CHARS), max_size=12)
TEXTS = st.lists(st.one_of(WORDS, st.sampled_from(["Ana", "Souza", "x" * 30])), max_size=8).map(
    " ".join
)
SPECS = st.builds(
    lambda local, domain: f"{local}@{domain}",
    st.one_of(WORDS, st.sampled_from(["ana", "a.b+tag", "support+42", "=?x?q?y?="])),
    st.one_of(WORDS, st.sampled_from(["customer.example", "relaydesk.example", "x"])),
)
MAILBOXES = st.one_of(
    SPECS,
    SPECS.map(lambda spec: f"<{spec}>"),
    st.builds(lambda display, spec: f"{display} <{spec}>", TEXTS, SPECS),
)
VALUES = st.one_of(TEXTS, MAILBOXES, MAILBOXES.map(lambda mailbox: f"{mailbox}, b@c"))
HEADERS = st.sampled_from(
    [
        "Subject",
        "From",
        "To",
        "Cc",
        "Sender",
        "Reply-To",
        "Message-ID",
        "In-Reply-To",
        "References",
        "X-Loop",
        "Auto-Submitted",
        "Date",
        "Content-Type",
    ]
)


@settings(max_examples=400)
@given(name=HEADERS, value=VALUES)
def test_a_plain_headers_text_is_the_stdlibs_without_a_defect(name: str, value: str) -> None:
    text = plain_text(name, value)
    if text is None:
        return
    header = STDLIB.header_factory(name, value)
    assert text == str(header)
    assert not header.defects


@settings(max_examples=400)
@given(name=st.sampled_from(["From", "To", "Cc", "Sender", "Reply-To"]), value=MAILBOXES)
def test_a_plain_mailbox_is_read_as_the_stdlib_reads_it(name: str, value: str) -> None:
    pair = plain_address(name, value)
    if pair is None:
        return
    header = STDLIB.header_factory(name, value)
    assert [pair] == [(a.display_name, a.addr_spec) for a in header.addresses]
    assert not header.defects


@pytest.mark.parametrize(
    ("name", "value", "pair"),
    [
        ("From", "Ana Souza <ana@customer.example>", ("Ana Souza", "ana@customer.example")),
        ("From", "O'Brien <o'brien+tag@example.ie>", ("O'Brien", "o'brien+tag@example.ie")),
        ("Reply-To", "support+42@relaydesk.example", ("", "support+42@relaydesk.example")),
    ],
)
def test_a_plain_mailbox_is_read_without_the_stdlib(
    name: str, value: str, pair: tuple[str, str]
) -> None:
    assert plain_address(name, value) == pair
    assert plain_text(name, value) == value


@pytest.mark.parametrize("value", ["<a.b@c.example>", "<20261207.1a2b+x@mail.example.org>"])
def test_a_plain_message_id_is_the_stdlibs_without_a_defect(value: str) -> None:
    header = STDLIB.header_factory("Message-ID", value)
    assert plain_text("Message-ID", value) == str(header) == value
    assert not header.defects


@settings(max_examples=300)
@given(
    value=st.one_of(
        st.from_regex(plain_headers._MESSAGE_ID, fullmatch=True),
        st.from_regex(plain_headers._MAILBOX, fullmatch=True),
    ),
    name=st.sampled_from(["Message-ID", "From", "Reply-To"]),
)
def test_values_drawn_from_the_plain_shapes_read_as_the_stdlib_reads_them(
    name: str, value: str
) -> None:
    """Drawn from the shortcuts' own patterns, so most are read the plain way (the
    property tests above draw mostly values the shortcuts leave to the stdlib)."""
    text = plain_text(name, value)
    if text is None:
        return
    header = STDLIB.header_factory(name, value)
    assert text == str(header)
    assert not header.defects


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Subject", "Grüße"),
        ("Subject", "=?utf-8?q?hi?="),
        ("Subject", "a=?b"),
        ("Subject", "two  spaces"),
        ("Subject", "a\tfolded line"),
        ("Subject", " leading space"),
        ("From", "a.b <a@b.example>"),  # the stdlib quotes it
        ("From", '"Souza, Ana" <a@b.example>'),
        ("From", "<a@b.example>"),  # its text is the bare address
        ("From", "a@b.example, c@d.example"),  # a list
        ("From", "a (comment) <a@b.example>"),
        ("From", "=?utf-8?q?Ana?= <a@b.example>"),
        ("From", "Ana <=?us-ascii?q?evil?=@x.example>"),
        ("From", "Ana <a@[127.0.0.1]>"),
        ("Message-ID", "<a@b@c>"),
        ("Message-ID", "<abc>"),  # the stdlib notes "no id-right": the note would be lost
        ("Message-ID", "<a@b.example> <c@d.example>"),  # the stdlib keeps the first, notes
        ("Message-ID", "<a.@b.example>"),
        ("Message-ID", " <a@b.example>"),
        ("Message-ID", "<a@b.example> (c)"),
        ("From", "Ana\tSouza <a@b.example>"),
        ("Date", "Wed, 02 Jan 2030 03:04:05 +0000"),  # written anew by the stdlib
        ("Content-Type", "text/plain; charset=utf-8 (comment)"),
    ],
)
def test_anything_else_is_left_to_the_stdlib(name: str, value: str) -> None:
    assert plain_text(name, value) is None
    assert plain_address(name, value) is None


DATES = st.one_of(
    st.builds(
        lambda moment, minutes: format_datetime(
            moment.replace(tzinfo=timezone(timedelta(minutes=minutes)))
        ),
        st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)),
        st.integers(min_value=-1439, max_value=1439),
    ),
    st.datetimes(min_value=datetime(1900, 1, 1)).map(lambda moment: f"{moment:%d %b %Y %H:%M}"),
    st.text(alphabet=st.sampled_from("0123456789 :+-,()JanMyFebWedGMTUTCPST\t"), max_size=40),
)


@settings(max_examples=400)
@given(value=DATES)
def test_a_dates_text_is_the_stdlibs_without_a_defect(value: str) -> None:
    read = addresses_module._read_date("Date", value)
    if read is None:
        return
    text, date = read
    header = STDLIB.header_factory("Date", value)
    assert text == str(header)
    assert not header.defects
    problems: list[str] = []
    again = parse_date(text, problems)  # what parse_email read from the text before
    assert again is not None and not problems
    assert (date, date.utcoffset(), date.tzinfo) == (again, again.utcoffset(), again.tzinfo)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("Wed, 2 Jan 2030 03:04:05 +0100", "Wed, 02 Jan 2030 03:04:05 +0100"),
        ("2 Jan 2030 03:04 GMT", "Wed, 02 Jan 2030 03:04:00 +0000"),
        ("Wed, 02 Jan 2030 03:04:05 -0000", "Wed, 02 Jan 2030 03:04:05 -0000"),
    ],
)
def test_a_date_is_written_anew_as_the_stdlib_does(value: str, text: str) -> None:
    read = addresses_module._read_date("Date", value)
    assert read is not None
    assert read[0] == text == str(STDLIB.header_factory("Date", value))
    assert read[1] == parse_date(text, [])


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Date", ""),
        ("Date", "yesterday"),
        ("Date", "32 Jan 2030 03:04:05 +0000"),
        ("Subject", "2 Jan 2030 03:04 GMT"),
    ],
)
def test_a_date_the_stdlib_notes_a_defect_of_or_no_date_is_left_to_it(
    name: str, value: str
) -> None:
    assert addresses_module._read_date(name, value) is None


def _zone(parsed: ParsedEmail) -> object:
    return None if parsed.date is None else (parsed.date.tzinfo, parsed.date.utcoffset())


def _parsed_both_ways(raw: bytes, patch: pytest.MonkeyPatch) -> tuple[ParsedEmail, ParsedEmail]:
    def parse() -> ParsedEmail:
        return parse_email(raw, max_attachment_bytes=1 << 20, max_attachments_bytes=1 << 22)

    with patch.context() as stdlib_only:
        stdlib_only.setattr(addresses_module, "plain_text", lambda name, value: None)
        stdlib_only.setattr(addresses_module, "plain_address", lambda name, value: None)
        stdlib_only.setattr(addresses_module, "_read_date", lambda name, value: None)
        slow = parse()
    return parse(), slow


@pytest.mark.parametrize("path", CORPUS, ids=lambda path: path.name)
def test_every_corpus_mail_parses_as_it_does_with_the_stdlib_alone(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, slow = _parsed_both_ways(path.read_bytes(), monkeypatch)
    assert fast == slow
    assert _zone(fast) == _zone(slow)  # == compares instants: the zones too


def test_every_benchmark_mail_parses_as_it_does_with_the_stdlib_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plain = 0
    for mail in build_corpus(400, "plain-reading").messages:
        fast, slow = _parsed_both_ways(mail.raw, monkeypatch)
        assert fast == slow, mail.shape
        assert _zone(fast) == _zone(slow)
        plain += plain_address("From", fast.headers.get("From", "")) is not None
    assert plain > 200  # most of them take the plain path: the test compares something


def test_a_mails_date_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Date header's date is the one read with the headers: its written text is not
    parsed again (it was, once for the header's text and once for the date)."""
    reads: list[str] = []
    read = addresses_module.parsedate_to_datetime

    def counted(value: str) -> datetime:
        reads.append(value)
        return read(value)

    monkeypatch.setattr(addresses_module, "parsedate_to_datetime", counted)
    raw = b"From: ana@customer.example\r\nDate: 2 Jan 2030 03:04 +0100\r\nSubject: x\r\n\r\nHi\r\n"
    parsed = parse_email(raw, max_attachment_bytes=1 << 20, max_attachments_bytes=1 << 22)
    assert parsed.date == datetime(2030, 1, 2, 3, 4, tzinfo=timezone(timedelta(hours=1)))
    assert parsed.headers["Date"] == "Wed, 02 Jan 2030 03:04:00 +0100"
    assert reads == ["2 Jan 2030 03:04 +0100"]


@settings(max_examples=400)
@given(
    value=st.text(
        alphabet=st.sampled_from("a Z\t\n\x0b\x0c\r\x1c\x1f\x85é\u2028\u3000!~"), max_size=20
    )
)
def test_a_header_text_on_one_line_is_the_whitespace_collapsed(value: str) -> None:
    """``clean``'s split and join for printable ASCII is the regex's collapse (``\\s+`` to
    one space, stripped) it replaced; anything else takes the regex as before."""
    collapsed = re.sub(r"\s+", " ", value).strip()
    if value.isascii() and value.isprintable():
        assert clean(value) == collapsed
    else:
        assert "\n" not in clean(value) and "\t" not in clean(value)
