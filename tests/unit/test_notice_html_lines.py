"""A notice's HTML alternative in lines of at most 78 characters where its spaces allow:
the page reads the same, and an ASCII mail's HTML part is written 7bit instead of
quoted-printable."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from email import message_from_bytes, policy
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.email.compose import build_wire
from connectors.email.html_text import html_to_text
from router.envelopes import OutboundMessage
from router.notice_texts import Rendered, acknowledgement, assignment_notice
from router.vocabulary import Channel

NOW = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
FROM = "support@relaydesk.example"


def unbroken(text: str) -> str:
    """The HTML as it was written before its lines were broken: each line of the text,
    escaped, a paragraph's joined by ``<br>`` and a line break."""
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    inner = "\n".join(
        "<p>" + "<br>\n".join(html.escape(line) for line in p.strip("\n").split("\n")) + "</p>"
        for p in paragraphs
    )
    return f"<!DOCTYPE html>\n<html><body>\n{inner}\n</body></html>\n"


def notices(language: str) -> list[Rendered]:
    return [
        acknowledgement(
            number=1234,
            subject="Order 98123 has not arrived and the tracking page says nothing at all",
            requester_name="Ana Souza",
            helpdesk_name="Relay Desk",
            language=language,
        ),
        assignment_notice(
            number=1234,
            subject="Order 98123 has not arrived",
            priority="high",
            requester="Ana Souza <ana@customer.example>",
            excerpt="Hello, " + "my parcel was due on Monday and nothing came. " * 4,
            reasons=("skill billing>=2", "load 1/5", "P1"),
            language=language,
        ),
    ]


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_a_notices_html_is_its_text_with_spaces_broken_into_short_lines(language: str) -> None:
    for rendered in notices(language):
        written = rendered.body_html
        before = unbroken(rendered.body_text)
        # only spaces became line breaks, which HTML renders as the spaces they were
        assert written.replace("\n", " ") == before.replace("\n", " ")
        assert html_to_text(written) == html_to_text(before)
        if language == "en":
            assert all(len(line) <= 78 for line in written.split("\n")), written
        else:  # not all ASCII (quoted-printable whatever its lines): left as it is
            assert written == before


def test_a_long_chinese_line_keeps_its_spaces_as_spaces() -> None:
    """CSS removes a line break between two wide characters where it keeps a space, so a
    text that is not all ASCII is not broken (it is written quoted-printable anyway)."""
    text = "您好 我们已经收到您的订单 请耐心等待 " * 5
    written = Rendered(subject="s", body_text=text, language="zh_CN").body_html
    assert written == unbroken(text)
    assert "订单 请耐心等待" in written


def test_the_english_acknowledgements_html_is_written_7bit() -> None:
    """Its line 'An agent will answer you soon. Reply to this message to add
    information;<br>' was 79 characters, so the stdlib wrote the part quoted-printable."""
    rendered = notices("en")[0]
    message = OutboundMessage(
        channel=Channel.EMAIL,
        recipient="ana@customer.example",
        subject=rendered.subject,
        body_text=rendered.body_text,
        body_html=rendered.body_html,
        message_id="<out-1@relaydesk.example>",
        language="en",
    )
    wired = build_wire(message, from_address=FROM, from_name="Desk", reply_to=FROM, now=NOW)
    mail = message_from_bytes(wired.data, policy=policy.default)
    parts = {part.get_content_type(): part for part in mail.walk()}
    assert parts["text/html"]["Content-Transfer-Encoding"] == "7bit"
    assert parts["text/html"].get_content().replace("\r\n", "\n") == rendered.body_html


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(alphabet=st.sampled_from("ab <&\t\u00a0中"), max_size=30),
            st.sampled_from(["x" * 90, "word " * 20, " " * 80, "\n", "\n\n"]),
        ),
        max_size=12,
    ).map("".join)
)
def test_any_text_breaks_only_at_spaces_and_only_lines_too_long(text: str) -> None:
    written = Rendered(subject="s", body_text=text, language="en").body_html
    before = unbroken(text)
    assert written.replace("\n", " ") == before.replace("\n", " ")
    assert written.count("\n") >= before.count("\n")
    if not written.isascii():  # written quoted-printable anyway: left as it is
        assert written == before
        return
    pieces = iter(written.split("\n"))
    for line in before.split("\n"):
        made = [next(pieces)]
        while " ".join(made) != line:
            made.append(next(pieces))
        if len(line) <= 78:
            assert made == [line]  # a short line is kept as it is
        for piece, after in pairwise(made):
            if len(piece) <= 78:  # as full as can be: the next piece's first word won't fit
                assert len(piece) + 1 + len(after.split(" ", 1)[0]) > 78, (piece, after)
            else:  # a word too long for a line, on its own
                assert " " not in piece[1:79], piece
    assert next(pieces, None) is None
