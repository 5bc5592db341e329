"""The first classification: hints from the channel, defaults from configuration.

Kept for callers that have no rule book yet: it is ``router.rules.classify_message``
with an empty rule book, so the category is the channel's hint (else "general"),
the priority the hint (else the default) and the team the category's team (else
the default). ``classify_message`` adds the rules, skills, tags and the trace.
"""

from __future__ import annotations

from dataclasses import dataclass

from router.envelopes import InboundMessage
from router.rules import RuleBook, classify_message, facts_from_message
from router.vocabulary import Priority

_NO_RULES = RuleBook()


@dataclass(frozen=True)
class Classification:
    category: str
    priority: Priority
    team: str
    reasons: tuple[str, ...]


def classify(
    message: InboundMessage,
    *,
    default_team: str,
    default_priority: Priority,
    category_teams: dict[str, str],
) -> Classification:
    decided = classify_message(
        facts_from_message(message),
        _NO_RULES,
        default_category="general",
        default_priority=default_priority,
        default_team=default_team,
        category_teams=category_teams,
        category_hint=message.category_hint,
        priority_hint=message.priority_hint,
    )
    return Classification(
        category=decided.category,
        priority=decided.priority,
        team=decided.team,
        reasons=decided.reasons,
    )
