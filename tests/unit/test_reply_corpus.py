"""Replies as the clients our users have write them: what the thread shows of each.

``tests/data/email/replies`` holds one reply to our acknowledgement per client shape
and language (Outlook desktop and web, Gmail, Apple Mail and iPhone, Thunderbird,
Foxmail, QQ Mail, NetEase; Chinese, Japanese, Swedish, German, French, Spanish,
English), in the charsets and transfer encodings those clients use, plain text and
HTML. Beside each ``NAME.eml``, ``NAME.visible.txt`` is what the thread shows: what
the customer wrote (their own sign-off included). The whole text, quoted
acknowledgement and all, is always kept beside it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.email.parse import parse_email

REPLIES = Path(__file__).parents[1] / "data" / "email" / "replies"
QUOTED = "we have received your request"  # from our acknowledgement, in every reply
LANGUAGES = {"zh", "ja", "sv", "de", "fr", "es", "en"}


def _names() -> list[str]:
    return sorted(path.name for path in REPLIES.glob("*.eml"))


def test_every_reply_has_its_visible_text_and_every_language_is_there() -> None:
    texts = {path.name.removesuffix(".visible.txt") for path in REPLIES.glob("*.visible.txt")}
    assert texts == {name.removesuffix(".eml") for name in _names()}
    assert {name.split("-", 1)[0] for name in _names()} >= LANGUAGES


@pytest.mark.parametrize("name", _names())
def test_the_thread_shows_what_the_customer_wrote_and_the_full_text_is_kept(name: str) -> None:
    raw = (REPLIES / name).read_bytes()
    email = parse_email(raw, max_attachment_bytes=1 << 20, max_attachments_bytes=1 << 20)
    expected = (REPLIES / name.replace(".eml", ".visible.txt")).read_text(encoding="utf-8")
    assert email.visible_text == expected.rstrip("\n")
    assert QUOTED in email.text, "the full text keeps the quoted history"
    if email.html is not None:
        assert QUOTED in email.html
