"""The first classification: hints from the channel, defaults from configuration.

The full rule interpreter (keywords, senders, skills) replaces this later; the
shape stays: a pure function that returns the decision and its reasons.
"""

from __future__ import annotations

from dataclasses import dataclass

from router.envelopes import InboundMessage
from router.vocabulary import Priority


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
    reasons = []
    category = (message.category_hint or "general").strip().lower() or "general"
    priority = message.priority_hint or default_priority
    reasons.append(
        f"priority {priority.value} from {'hint' if message.priority_hint else 'default'}"
    )
    team = category_teams.get(category)
    if team:
        reasons.append(f"team {team} for category {category}")
    else:
        team = default_team
        reasons.append(f"team {team} by default")
    return Classification(category=category, priority=priority, team=team, reasons=tuple(reasons))
