from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.telegram.commands import (
    BUTTON_ACTIONS,
    ButtonAction,
    Command,
    encode_button,
    link_code_of,
    parse_button,
    parse_command,
    parse_ticket_ref,
)
from router.mentions import parse_mentions

# -- commands --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/start", Command("start", "")),
        ("/start ABC123", Command("start", "ABC123")),
        ("/new", Command("new", "")),
        ("/new printer broken", Command("new", "printer broken")),
        ("/NEW  Printer Broken  ", Command("new", "Printer Broken")),
        ("/status online", Command("status", "online")),
        ("/note#12 called back", Command("note", "#12 called back")),
        ("/note\nfirst line\nsecond line\n", Command("note", "first line\nsecond line")),
        ("/my_tickets_2", Command("my_tickets_2", "")),
        ("/" + "a" * 32, Command("a" * 32, "")),
        ("/new\tx", Command("new", "x")),
    ],
)
def test_a_command_is_parsed_into_a_lowercase_name_and_stripped_args(
    text: str, expected: Command
) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "/",
        "/ text",
        " /new",
        "hello /new",
        "new",
        "//new",
        "/new/old",
        "/" + "a" * 33,
        "/caf\u00e9",
        "/new@",
        "\\new",
    ],
)
def test_what_is_not_a_command_gives_none(text: str) -> None:
    assert parse_command(text) is None


def test_a_command_addressed_to_this_bot_is_taken_whatever_the_case() -> None:
    assert parse_command("/new@MyBot", bot_username="MyBot") == Command("new", "")
    assert parse_command("/new@mybot printer", bot_username="MyBot") == Command("new", "printer")
    assert parse_command("/Status@MYBOT away", bot_username="@mybot") == Command("status", "away")


def test_a_command_addressed_to_another_bot_is_not_ours() -> None:
    assert parse_command("/new@OtherBot", bot_username="MyBot") is None
    assert parse_command("/new@MyBot2", bot_username="MyBot") is None
    assert parse_command("/new@OtherBot") is None  # without our name we cannot tell


def test_an_unaddressed_command_is_taken_whoever_the_bot_is() -> None:
    assert parse_command("/mine", bot_username="MyBot") == Command("mine", "")


@given(st.text(max_size=80), st.one_of(st.none(), st.text(max_size=20)))
def test_parse_command_never_raises(text: str, bot: str | None) -> None:
    result = parse_command(text, bot)
    assert result is None or (text.startswith("/") and result.name == result.name.lower())


# -- buttons ---------------------------------------------------------------------------


def test_a_button_is_encoded_compactly() -> None:
    assert encode_button("claim", 123) == "rd:claim:123"
    assert encode_button("reopen", 1) == "rd:reopen:1"


@pytest.mark.parametrize("action", BUTTON_ACTIONS)
def test_every_button_round_trips_within_telegrams_64_bytes(action: str) -> None:
    data = encode_button(action, 999_999_999_999)
    assert len(data.encode()) <= 64
    assert parse_button(data) == ButtonAction(action, 999_999_999_999)


def test_an_unknown_action_or_a_bad_ticket_cannot_be_encoded() -> None:
    with pytest.raises(ValueError, match="unknown button action"):
        encode_button("delete", 1)
    for ticket in (0, -5, True):
        with pytest.raises(ValueError):
            encode_button("claim", ticket)
    with pytest.raises(ValueError):
        encode_button("claim", 10**60)


@pytest.mark.parametrize(
    "data",
    [
        "",
        "rd",
        "rd:claim",
        "rd:claim:",
        "rd:claim:abc",
        "rd:claim:0",
        "rd:claim:012",
        "rd:claim:-1",
        "rd:claim:+1",
        "rd:claim:1_000",
        "rd:claim:\u0661\u0662",  # Arabic-Indic digits
        "rd:claim:12\n",
        "rd:claim:12:extra",
        " rd:claim:12",
        "rd:delete:12",
        "rd:CLAIM:12",
        "xx:claim:12",
        "claim:12",
        "rd:claim:" + "9" * 40,
    ],
)
def test_callback_data_that_is_not_ours_or_malformed_gives_none(data: str) -> None:
    assert parse_button(data) is None


def test_parse_button_accepts_anything_without_raising() -> None:
    assert parse_button(None) is None
    assert parse_button(b"rd:claim:1") is None
    assert parse_button(12) is None


@given(st.text(max_size=70))
def test_parse_button_never_raises(data: str) -> None:
    result = parse_button(data)
    assert result is None or encode_button(result.action, result.ticket) == data


# -- ticket references -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#123 the rest", (123, "the rest")),
        ("123 the rest", (123, "the rest")),
        ("  #7   done, thanks  ", (7, "done, thanks")),
        ("#123", (123, "")),
        ("42", (42, "")),
        ("#5\nline one\nline two", (5, "line one\nline two")),
        ("#123abc", (None, "#123abc")),
        ("# 123 x", (None, "# 123 x")),
        ("the rest #123", (None, "the rest #123")),
        ("  plain text  ", (None, "plain text")),
        ("", (None, "")),
        ("#1234567890123 too long", (None, "#1234567890123 too long")),
        ("\u0661\u0662 arabic digits", (None, "\u0661\u0662 arabic digits")),
    ],
)
def test_a_ticket_reference_is_read_from_the_start(
    text: str, expected: tuple[int | None, str]
) -> None:
    assert parse_ticket_ref(text) == expected


# -- mentions --------------------------------------------------------------------------


def test_mentions_are_lowercased_deduplicated_and_in_order() -> None:
    text = "@Ana can you and @bob.smith look? cc @ana @BOB.SMITH @carla_2 @d-e"
    assert parse_mentions(text) == ("ana", "bob.smith", "carla_2", "d-e")


def test_a_trailing_full_stop_is_not_part_of_the_name() -> None:
    assert parse_mentions("Thanks @ana. And @bob...") == ("ana", "bob")


def test_email_addresses_are_not_mentions() -> None:
    assert parse_mentions("write to jo@example.com or a@b.com") == ()
    assert parse_mentions("jo.doe@example.com, @ana") == ("ana",)
    assert parse_mentions("@ana@example.social") == ()


def test_mentions_after_punctuation_count() -> None:
    assert parse_mentions('(@ana) \u2014@bob, "@carla"\n@dan: ok') == ("ana", "bob", "carla", "dan")


def test_an_at_sign_alone_is_not_a_mention() -> None:
    assert parse_mentions("meet @ 5pm, @. or @@") == ()


@given(st.text(max_size=200))
def test_mentions_are_always_clean_names(text: str) -> None:
    for name in parse_mentions(text):
        assert name and name == name.lower() and not name.endswith(".")
        assert set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789_.-")


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("7GQ2KXMTPA", "7GQ2KXMTPA"),
        ("7gq2 kxmt-pa", "7GQ2KXMTPA"),
        ("  7GQ2.KXMT_PA ", "7GQ2KXMTPA"),
        ("from-a-deep-link", "FROMADEEPLINK"),
    ],
)
def test_a_link_code_is_read_as_printed_whatever_separators_were_typed(
    typed: str, code: str
) -> None:
    assert link_code_of(typed) == code
