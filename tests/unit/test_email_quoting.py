"""visible_text: the part of a reply its author wrote."""

from __future__ import annotations

import pytest

from connectors.email.quoting import visible_text


def test_trailing_quote_and_its_attribution_line_are_stripped() -> None:
    text = "Works now, thanks.\n\nOn Mon, 3 Jun 2024, Ana <ana@example.com> wrote:\n> Try again.\n"
    assert visible_text(text) == "Works now, thanks."


def test_attribution_wrapped_over_two_lines_is_stripped() -> None:
    text = (
        "Works now.\n\nOn Mon, Jun 3, 2024 at 10:12 AM Relaydesk Support <\n"
        "support@relaydesk.localhost> wrote:\n\n> Try again.\n>\n"
    )
    assert visible_text(text) == "Works now."


@pytest.mark.parametrize(
    "attribution",
    [
        "Am 03.06.2024 um 10:12 schrieb Ana Support <ana@example.com>:",
        "Le lun. 3 juin 2024 à 10:12, Ana <ana@example.com> a écrit :",
        "El lun, 3 jun 2024 a las 10:12, Ana (<ana@example.com>) escribió:",
        "ana@example.com wrote:",
    ],
)
def test_attribution_lines_in_several_languages_are_stripped(attribution: str) -> None:
    assert visible_text(f"Danke!\n\n{attribution}\n> Hallo\n") == "Danke!"


def test_an_interleaved_reply_is_kept_whole() -> None:
    text = "On Mon, Ana wrote:\n> Which browser?\n\nFirefox.\n\n> Every page?\n\nOnly reports."
    assert visible_text(text) == text


def test_unanswered_quotes_after_an_interleaved_reply_are_stripped() -> None:
    text = "> Which browser?\nFirefox.\n> Anything else?\n> Kind regards, Ana\n"
    assert visible_text(text) == "> Which browser?\nFirefox."


def test_signature_after_the_rfc_3676_delimiter_is_stripped() -> None:
    text = "See you.\n\n-- \nJane Doe\nACME Ltd\n"
    assert visible_text(text) == "See you."


def test_a_double_dash_without_the_space_is_not_a_signature_delimiter() -> None:
    text = "Options:\n--\nverbose mode"
    assert visible_text(text) == text


def test_outlook_original_message_and_everything_after_is_stripped() -> None:
    text = (
        "Yes please.\n\n-----Original Message-----\nFrom: Ana <ana@example.com>\n"
        "Sent: Friday\nTo: Yusuf\nSubject: Renewal\n\nRenew?"
    )
    assert visible_text(text) == "Yes please."


def test_outlook_header_block_after_an_underscore_separator_is_stripped() -> None:
    text = (
        "Tuesday works.\n\n________________________________\n"
        "From: Ana <ana@example.com>\nSent: Friday, June 14, 2024 4:00 PM\n"
        "To: Zoe\nSubject: Training\n\nWhich date?"
    )
    assert visible_text(text) == "Tuesday works."


def test_outlook_header_block_in_german_is_stripped() -> None:
    text = (
        "Passt.\n\nVon: Ana <ana@example.com>\nGesendet: Freitag, 14. Juni 2024 16:00\n"
        "An: Zoe\nBetreff: Schulung\n\nWelcher Tag?"
    )
    assert visible_text(text) == "Passt."


def test_a_from_line_without_a_header_block_is_ordinary_text() -> None:
    text = "Hello,\nFrom: Berlin, Germany\nI have a question about shipping."
    assert visible_text(text) == text


@pytest.mark.parametrize(
    "trailer", ["Sent from my iPhone", "Get Outlook for iOS", "Von meinem iPad gesendet"]
)
def test_mobile_trailers_are_stripped(trailer: str) -> None:
    assert visible_text(f"On my way.\n\n{trailer}\n") == "On my way."


def test_text_that_is_only_quoted_is_returned_in_full() -> None:
    text = "> just a forwarded quote\n> nothing else"
    assert visible_text(text) == text


def test_text_that_is_only_a_signature_is_returned_in_full() -> None:
    text = "-- \nJane Doe"
    assert visible_text(text) == text


def test_empty_and_blank_text_are_returned_unchanged() -> None:
    assert visible_text("") == ""
    assert visible_text("  \n ") == "  \n "


def test_crlf_line_endings_are_understood() -> None:
    assert visible_text("Thanks.\r\n\r\n-- \r\nJane\r\n") == "Thanks."
