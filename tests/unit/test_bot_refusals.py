"""What an agent is told in the chat when the desk refuses: in the agent's language."""

from __future__ import annotations

import pytest

from connectors.telegram.bot_replies import not_done
from router.errors import InvalidTransition, PermanentError
from router.lifecycle import check_transition
from router.vocabulary import Status
from tests.support.catalog_texts import said

BOT = "connectors/telegram"


def test_a_refused_status_change_is_said_in_the_agents_words() -> None:
    with pytest.raises(InvalidTransition) as caught:
        check_transition(Status.RESOLVED, Status.PENDING)
    refusal = said(
        BOT,
        "zh_CN",
        "a %(current)s ticket cannot become %(target)s",
        current=said("router", "zh_CN", "resolved", context="status"),
        target=said("router", "zh_CN", "pending", context="status"),
    )
    assert not_done(caught.value, "zh_CN") == said(
        BOT, "zh_CN", "Not done: %(reason)s", reason=refusal
    )
    assert not_done(caught.value, "en") == "Not done: a resolved ticket cannot become pending"


def test_another_refusal_keeps_the_desks_words_inside_the_readers_sentence() -> None:
    told = not_done(PermanentError("#9 is not one of your tickets"), "zh_CN")
    assert told == said(
        BOT, "zh_CN", "Not done: %(reason)s", reason="#9 is not one of your tickets"
    )
