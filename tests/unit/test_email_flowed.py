"""format=flowed (RFC 3676): soft breaks joined, quotes and signatures respected."""

from __future__ import annotations

from email.message import EmailMessage

from hypothesis import given
from hypothesis import strategies as st

from connectors.email.flowed import unflow
from connectors.email.parse import parse_email
from router.thread_keys import OwnAddresses


def test_soft_breaks_join_a_paragraph_and_hard_breaks_stay() -> None:
    text = "This is a long \nparagraph that was \nwrapped.\nNext line.\n\nNew paragraph."
    assert unflow(text) == (
        "This is a long paragraph that was wrapped.\nNext line.\n\nNew paragraph."
    )


def test_space_stuffing_is_undone() -> None:
    assert unflow(" From the start\n >not a quote") == "From the start\n>not a quote"


def test_quoted_lines_join_only_at_the_same_depth() -> None:
    text = "> quoted and \n> wrapped\n>> deeper \n>> too\n> back\nmine"
    assert unflow(text) == "> quoted and wrapped\n>> deeper too\n> back\nmine"


def test_the_signature_separator_is_not_a_soft_break() -> None:
    assert unflow("Thanks,\nAna\n-- \nAna Lima \nSupport") == (
        "Thanks,\nAna\n-- \nAna Lima Support"
    )


def test_delsp_deletes_the_space_of_each_soft_break() -> None:
    assert unflow("Donau\u00addampf \nschiff", delsp=True) == "Donau\u00addampfschiff"


@given(st.text(alphabet=st.characters(blacklist_characters="\r >", blacklist_categories=["Cs"])))
def test_text_without_soft_breaks_or_quotes_is_unchanged(text: str) -> None:
    assert unflow(text) == text


def test_a_flowed_message_reads_as_its_paragraphs() -> None:
    message = EmailMessage()
    message["From"] = "Kim <kim@example.org>"
    message["To"] = "support@example.com"
    message["Subject"] = "VPN"
    message.set_content(
        "Since this morning the VPN refuses \nmy certificate. I tried \ntwice.\n\n-- \nKim\n"
    )
    message.set_param("format", "flowed")
    parsed = parse_email(
        message.as_bytes(),
        max_attachment_bytes=1_000_000,
        max_attachments_bytes=1_000_000,
        own=OwnAddresses(),
    )
    assert parsed.text.startswith(
        "Since this morning the VPN refuses my certificate. I tried twice."
    )
