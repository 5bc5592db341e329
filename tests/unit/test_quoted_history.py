"""The quoted history a ticket page folds: what a message as it came has beyond what its
writer added."""

from __future__ import annotations

from router.staff_ticket_views import quoted_history


def test_the_history_after_the_new_text_is_what_is_folded() -> None:
    full = "Thanks, that worked.\r\n\r\nOn Mon, Ana wrote:\r\n> Try restarting.\r\n"
    assert quoted_history(full, "Thanks, that worked.") == "On Mon, Ana wrote:\n> Try restarting."


def test_nothing_is_folded_when_nothing_was_cut() -> None:
    assert quoted_history(None, "Hello") == ""
    assert quoted_history("Hello\n", "Hello") == ""
    assert quoted_history("   ", "Hello") == ""


def test_a_history_not_around_the_shown_text_is_folded_whole() -> None:
    assert quoted_history("> old words\n", "new words") == "> old words"
