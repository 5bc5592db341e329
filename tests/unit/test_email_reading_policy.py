"""A received mail's plain Content-Type read as the string it is (``reading_policy``), and
its automatic-mail headers read once: the stdlib's text of every plain value generated,
and every corpus and benchmark mail parsed as it is without them."""

from __future__ import annotations

from email import policy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import connectors.email.automatic as automatic_module
from benchmarks.mail_corpus import build_corpus
from connectors.email import plain_headers
from connectors.email.parse import ParsedEmail, parse_email
from connectors.email.plain_headers import plain_content_type, plain_text
from connectors.email.reading_policy import READING_POLICY
from tests.support.mail_samples import email_bytes

STDLIB = policy.EmailPolicy()  # a registry of its own: every header parsed anew
CORPUS = sorted((Path(__file__).parents[1] / "data" / "email").rglob("*.eml"))

# what makes a Content-Type plain or not: token characters, tspecials, spaces, quotes,
# RFC 2231's star, encoded-word starts, a non-ASCII letter, a tab, a line break
CHARS = "aZ09.-+_!'%*=?\"()<>@,;:\\/[] \té\r\n"
TOKENS = st.one_of(
    st.text(alphabet=st.sampled_from(CHARS), min_size=0, max_size=6),
    st.sampled_from(["text", "plain", "multipart", "mixed", "charset", "boundary", "name"]),
)
QUOTED = st.one_of(
    TOKENS.map(lambda value: f'"{value}"'),
    TOKENS,  # unquoted
    st.sampled_from(['""', '"=?utf-8?q?caf=C3=A9?="', '"a\\"b"', '"===_Part_1.2"']),
)
PARAMETERS = st.lists(
    st.tuples(TOKENS, st.sampled_from(["; ", ";", " ; ", ";\t", "; (c) "]), QUOTED), max_size=4
)
VALUES = st.builds(
    lambda kind, sub, parameters: (
        f"{kind}/{sub}" + "".join(f"{sep}{name}={value}" for name, sep, value in parameters)
    ),
    TOKENS,
    TOKENS,
    PARAMETERS,
)
# the shape itself and its near misses, drawn directly: plain values are rare above
PLAIN_VALUES = st.builds(
    lambda kind, parameters: (
        f"{kind}/plain"
        + "".join(f"{sep}{name}={quote.format(value)}" for sep, name, value, quote in parameters)
    ),
    st.sampled_from(["text", "TEXT", "multipart", "application"]),
    st.lists(
        st.tuples(
            st.sampled_from(["; ", ";", ";\t", ";\r\n\t", ";  ", " ;", "; \r\n "]),
            st.sampled_from(["charset", "Charset", "boundary", "name", "a.b", "x-y"]),
            st.one_of(
                st.text(alphabet=st.sampled_from("aZ0 =_.-;,:()<>@[]/?'%"), max_size=8),
                st.text(alphabet=st.sampled_from("az09-!#$&^_.+"), min_size=1, max_size=4),
            ),
            st.sampled_from(['"{}"', '"{}"', "{}", "{} "]),  # quoted, a token, or more
        ),
        max_size=3,
    ),
)


def _the_stdlibs_text(value: str) -> str:
    return str(STDLIB.header_factory("Content-Type", "".join(value.splitlines())))


@settings(max_examples=600)
@given(st.one_of(VALUES, PLAIN_VALUES))
def test_a_plain_content_type_is_the_text_of_the_stdlibs_header(value: str) -> None:
    text = plain_content_type(value)
    assert plain_text("Content-Type", value) == text
    if text is not None:
        header = STDLIB.header_factory("Content-Type", "".join(value.splitlines()))
        assert str(header) == text
        assert not header.defects


@settings(max_examples=200)
@given(PLAIN_VALUES)
def test_the_reading_policy_hands_out_what_the_stdlibs_header_says(value: str) -> None:
    fetched = READING_POLICY.header_fetch_parse("Content-Type", value)
    assert str(fetched) == _the_stdlibs_text(value)


@pytest.mark.parametrize(
    "value",
    [
        'text/plain; charset=""',  # empty: the stdlib writes the name alone
        "text/plain ; charset=utf-8",
        "text/plain; charset=utf-8 ",
        'text/plain; a="1"; A="2"',  # a name twice: the stdlib keeps one
        "text/plain; name*=utf-8''caf%C3%A9",  # RFC 2231
        'text/plain; name*0="a"',
        'text/plain; name="=?utf-8?q?caf=C3=A9?="',  # an encoded word: decoded
        'text/plain; name="a\\"b"',
        'text/plain; charset="utf-8" (comment)',
        'text/plain; name="caf\xe9"',
        "text",
        "",
    ],
)
def test_anything_else_is_a_header_object_of_the_stdlibs(value: str) -> None:
    assert plain_content_type(value) is None
    assert hasattr(READING_POLICY.header_fetch_parse("Content-Type", value), "params")


def test_a_plain_content_type_is_parsed_into_no_header_object(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A multipart mail's new boundary is not parsed by the header registry (the old
    reading built a ContentTypeHeader for every part's type, its boundary new in every
    mail), and the automatic-mail headers are not read a second time."""
    asked: list[str] = []
    registry = type(READING_POLICY.header_factory)
    call = registry.__call__

    def counted_call(self: object, name: str, value: str) -> object:
        asked.append(name.lower())
        return call(self, name, value)

    monkeypatch.setattr(registry, "__call__", counted_call)
    reads: list[object] = []
    read_headers = automatic_module.read_headers

    def counted_read(*args: Any) -> dict[str, str]:
        reads.append(args)
        return read_headers(*args)

    monkeypatch.setattr(automatic_module, "read_headers", counted_read)
    raw = email_bytes(body="hello", attachments=(("a.pdf", "application/pdf", b"%PDF-1.4"),))
    parsed = parse_email(raw, max_attachment_bytes=1 << 20, max_attachments_bytes=1 << 22)
    assert [a.filename for a in parsed.attachments] == ["a.pdf"]
    assert "content-type" not in asked
    assert reads == []


def _parsed_both_ways(raw: bytes, patch: pytest.MonkeyPatch) -> tuple[ParsedEmail, ParsedEmail]:
    def parse() -> ParsedEmail:
        return parse_email(raw, max_attachment_bytes=1 << 20, max_attachments_bytes=1 << 22)

    with patch.context() as stdlib_only:
        stdlib_only.setattr(plain_headers, "plain_content_type", lambda value: None)
        slow = parse()
    return parse(), slow


@pytest.mark.parametrize("path", CORPUS, ids=lambda path: path.name)
def test_every_corpus_mail_parses_as_it_does_with_the_stdlibs_header_objects(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, slow = _parsed_both_ways(path.read_bytes(), monkeypatch)
    assert fast == slow


def test_every_benchmark_mail_parses_as_it_does_with_the_stdlibs_header_objects(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plain = 0
    for mail in build_corpus(400, "reading-policy").messages:
        fast, slow = _parsed_both_ways(mail.raw, monkeypatch)
        assert fast == slow, mail.shape
        plain += plain_content_type(fast.headers.get("Content-Type", "")) is not None
    assert plain > 100  # many take the plain path: the test compares something


def test_a_long_content_type_is_read_but_not_kept() -> None:
    """A hostile boundary may be as long as a mail: only short values' answers are kept."""
    kept = plain_headers._kept_content_type_text
    kept.cache_clear()
    long_value = 'multipart/mixed; boundary="' + "b" * 100_000 + '"'
    assert plain_content_type(long_value) == long_value
    assert kept.cache_info().currsize == 0
    assert plain_content_type("text/plain; charset=utf-8") == 'text/plain; charset="utf-8"'
    assert kept.cache_info().currsize == 1
