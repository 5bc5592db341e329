from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.telegram.chat_text import CHAT_LIMIT, escape_html, split_for_chat, trim, utf16_len

# Text that exercises the splitter: escapes, astral characters, marks, all kinds of whitespace.
chat_text = st.text(
    alphabet=st.one_of(
        st.sampled_from("ab &<>\n\n \t\r\u00a0\u2028\u0301\u200d\ufe0f\U0001f600\U0001f3fb"),
        st.characters(codec="utf-8"),
    ),
    max_size=400,
)


def cost(chunk: str) -> int:
    return utf16_len(escape_html(chunk))


def assert_only_whitespace_lost(text: str, chunks: list[str]) -> None:
    """The chunks are, in order, the text itself with only whitespace between them."""
    position = 0
    for chunk in chunks:
        index = text.index(chunk, position)
        assert text[position:index].strip() == ""
        position = index + len(chunk)
    assert text[position:].strip() == ""


# -- escaping and measuring ------------------------------------------------------------


def test_escape_html_escapes_the_three_characters_telegram_reads_and_nothing_else() -> None:
    assert escape_html("a & b < c > d \"e\" 'f'") == "a &amp; b &lt; c &gt; d \"e\" 'f'"
    assert escape_html("&amp;") == "&amp;amp;"
    assert escape_html("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_utf16_len_counts_astral_characters_twice() -> None:
    assert utf16_len("") == 0
    assert utf16_len("abc") == 3
    assert utf16_len("\u00e9\u20ac") == 2
    assert utf16_len("\U0001f600") == 2
    assert utf16_len("a\U0001f44d\U0001f3fbb") == 6


# -- splitting -------------------------------------------------------------------------


@settings(max_examples=300)
@given(chat_text, st.integers(min_value=5, max_value=60))
def test_split_chunks_fit_the_limit_once_escaped(text: str, limit: int) -> None:
    assert all(cost(chunk) <= limit for chunk in split_for_chat(text, limit))


@settings(max_examples=300)
@given(chat_text, st.integers(min_value=5, max_value=60))
def test_split_loses_only_whitespace_at_the_cuts_and_keeps_the_order(text: str, limit: int) -> None:
    chunks = split_for_chat(text, limit)
    assert_only_whitespace_lost(text, chunks)
    assert "".join("".join(c.split()) for c in chunks) == "".join(text.split())


@settings(max_examples=200)
@given(chat_text, st.integers(min_value=5, max_value=60))
def test_split_chunks_are_stripped_and_never_empty(text: str, limit: int) -> None:
    for chunk in split_for_chat(text, limit):
        assert chunk and chunk == chunk.strip()


@given(chat_text)
def test_text_that_fits_is_one_chunk_stripped(text: str) -> None:
    expected = [text.strip()] if text.strip() else []
    assert split_for_chat(text, CHAT_LIMIT) == expected


def test_blank_text_gives_no_chunks() -> None:
    assert split_for_chat("") == []
    assert split_for_chat(" \n\n\t \u00a0") == []


def test_a_paragraph_break_is_preferred_to_a_line_break_and_a_space() -> None:
    text = "one two\n\nthree four\nfive six seven"
    assert split_for_chat(text, 25) == ["one two", "three four\nfive six seven"]
    assert split_for_chat(text, 21) == ["one two", "three four", "five six seven"]


def test_a_paragraph_break_may_hold_spaces_and_carriage_returns() -> None:
    text = "alpha beta\r\n  \r\ngamma delta epsilon"
    assert split_for_chat(text, 24) == ["alpha beta", "gamma delta epsilon"]


def test_a_line_break_is_preferred_to_a_space() -> None:
    assert split_for_chat("aa bb\ncc dd ee", 12) == ["aa bb", "cc dd ee"]


def test_without_whitespace_a_word_is_cut_where_the_limit_falls() -> None:
    assert split_for_chat("abcdefghij", 4 + 1) == ["abcde", "fghij"]


def test_whitespace_just_after_the_limit_is_a_clean_cut() -> None:
    assert split_for_chat("abcde fghij", 5) == ["abcde", "fghij"]
    assert split_for_chat("abcde\n\nfghij klm", 5) == ["abcde", "fghij", "klm"]


def test_an_ampersand_that_would_overflow_once_escaped_moves_to_the_next_chunk() -> None:
    # "abcdefg&" is 8 characters but 12 units once escaped.
    assert split_for_chat("abcdefg&", 11) == ["abcdefg", "&"]
    assert split_for_chat("abcdefg&", 12) == ["abcdefg&"]
    assert split_for_chat("abc <b>", 9) == ["abc", "<b>"]
    assert split_for_chat("abc <b>", 8) == ["abc", "<b", ">"]
    assert split_for_chat("a&b", 5) == ["a", "&", "b"]


def test_emoji_count_two_units_and_are_never_split() -> None:
    assert split_for_chat("\U0001f600" * 5, 5) == ["\U0001f600\U0001f600"] * 2 + ["\U0001f600"]
    assert split_for_chat("abc\U0001f600", 5) == ["abc\U0001f600"]
    assert split_for_chat("abcd\U0001f600", 5) == ["abcd", "\U0001f600"]
    assert split_for_chat("a\U0001f600 b&", 8) == ["a\U0001f600", "b&"]


def test_a_limit_below_one_escaped_character_is_refused() -> None:
    with pytest.raises(ValueError):
        split_for_chat("anything", 4)


def test_a_character_is_not_parted_from_its_combining_mark_or_joiner() -> None:
    assert split_for_chat("abcde\u0301f", 5) == ["abcd", "e\u0301f"]
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert split_for_chat("x" * 3 + family, 8) == ["xxx", family]


def test_a_surrogate_pair_spelt_as_two_code_points_stays_together() -> None:
    pair = "\ud83d\ude00"
    assert split_for_chat("abcd" + pair, 5) == ["abcd", pair]


def test_a_long_message_splits_at_the_default_limit() -> None:
    paragraph = ("Lorem ipsum dolor sit amet & <co> \U0001f600 " * 40).strip()
    text = "\n\n".join([paragraph] * 10)
    chunks = split_for_chat(text)
    assert len(chunks) > 1
    assert all(cost(chunk) <= CHAT_LIMIT for chunk in chunks)
    assert all(set(chunk.split("\n\n")) == {paragraph} for chunk in chunks)
    assert_only_whitespace_lost(text, chunks)


def test_a_megabyte_without_any_whitespace_splits_into_full_chunks() -> None:
    text = "x&" * 500_000
    chunks = split_for_chat(text)
    assert all(CHAT_LIMIT - 5 < cost(chunk) <= CHAT_LIMIT for chunk in chunks[:-1])
    assert "".join(chunks) == text


# -- trimming --------------------------------------------------------------------------


def test_trim_keeps_a_short_text_stripped() -> None:
    assert trim("  hello  ", 10) == "hello"


def test_trim_cuts_at_whitespace_and_ends_in_an_ellipsis() -> None:
    assert trim("the quick brown fox", 12) == "the quick\u2026"
    assert trim("the quick brown fox", 10) == "the quick\u2026"


def test_trim_cuts_a_long_word_where_whitespace_would_lose_too_much() -> None:
    assert trim("a bcdefghijklmnop", 8) == "a bcdef\u2026"


def test_trim_collapses_runs_of_blank_lines_but_keeps_indentation() -> None:
    assert trim("a\n\n\n \n\t\n  b\r\n\r\n\r\nc", 100) == "a\n\n  b\n\nc"


def test_trim_to_one_character_is_the_ellipsis() -> None:
    assert trim("hello", 1) == "\u2026"
    with pytest.raises(ValueError):
        trim("hello", 0)


@given(st.text(max_size=300), st.integers(min_value=1, max_value=120))
def test_trim_never_exceeds_its_limit_and_marks_a_cut(text: str, limit: int) -> None:
    result = trim(text, limit)
    assert len(result) <= limit
    if len(text.strip()) <= limit and "\n" not in text and "\r" not in text:
        assert result == text.strip()
    if result.endswith("\u2026") and not text.strip().endswith("\u2026"):
        assert "".join(text.split()).startswith("".join(result[:-1].split()))
