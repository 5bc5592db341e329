"""Classification rules: a rule book read by a small interpreter that explains itself.

A ``Rule`` is a name, a ``Condition`` (``when``) and an ``Action`` (``then``: category,
priority, team, required and optional skills, tags). A ``RuleBook`` has two
sections, evaluated in this order:

1. ``first_match``: the rules are tried in order; the first that matches applies
   and the rest are not evaluated (traced as "not evaluated"). This section
   answers "what kind of ticket is this?": category, team, skills. A rule with
   no conditions at the end is a catch-all; a rule that sets nothing stops the
   section and leaves the defaults.
2. ``all_match``: every rule is tried and every one that matches applies, in
   order, on top of the first-match result: cross-cutting adjustments whatever
   the kind of ticket (outage words raise the priority, a VIP tag, a German
   speaker wanted). Later values win for category, priority and team; skills
   merge keeping the higher level; tags are a union in first-seen order.

So the last word goes to the last matching rule reading the file top to bottom.

Hints from the channel (the web form's category and priority) are starting
values: the category hint replaces ``default_category`` and the priority hint
replaces ``default_priority``, and any matching rule that sets the value
replaces them in turn (the form documents its priority as a hint the helpdesk's
rules may overrule). Hints never name a team or skills. The team is the last
team a matching rule set, else ``category_teams[category]`` for the final
category, else ``default_team``. An optional skill that is also required is
kept as optional only at a higher level than required (it still ranks agents).

The result, ``Classified``, carries the decision, a ``RuleTrace`` per rule (hit,
miss or not evaluated, and why) and short ``reasons`` for the audit log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from router.rule_conditions import Condition, FieldValue
from router.rule_facts import MessageFacts, facts_from_message
from router.vocabulary import Priority

__all__ = [
    "Action",
    "Classified",
    "Condition",
    "FieldValue",
    "MessageFacts",
    "Rule",
    "RuleBook",
    "RuleTrace",
    "classify_message",
    "facts_from_message",
]

Section = Literal["first_match", "all_match"]
Outcome = Literal["hit", "miss", "not evaluated"]
SkillLevels = tuple[tuple[str, int], ...]  # (skill, level 1..5), sorted by skill


@dataclass(frozen=True)
class Action:
    """What a matching rule sets; ``None`` and empty leave the value as it was."""

    category: str | None = None
    priority: Priority | None = None
    team: str | None = None
    required_skills: SkillLevels = ()
    optional_skills: SkillLevels = ()
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for skill, level in (*self.required_skills, *self.optional_skills):
            if not 1 <= level <= 5:
                raise ValueError(f"skill {skill!r} level {level} is outside 1..5")

    def describe(self) -> str:
        """``category billing, priority high, team billing, billing>=3, tags vip``."""
        parts = []
        if self.category is not None:
            parts.append(f"category {self.category}")
        if self.priority is not None:
            parts.append(f"priority {self.priority.value}")
        if self.team is not None:
            parts.append(f"team {self.team}")
        parts.extend(f"{skill}>={level}" for skill, level in self.required_skills)
        parts.extend(f"optional {skill}>={level}" for skill, level in self.optional_skills)
        if self.tags:
            parts.append(f"tags {', '.join(self.tags)}")
        return ", ".join(parts) or "nothing set"


@dataclass(frozen=True)
class Rule:
    name: str
    when: Condition = field(default_factory=Condition)
    then: Action = field(default_factory=Action)


@dataclass(frozen=True)
class RuleBook:
    """The rules, by section; names are unique across both sections."""

    first_match: tuple[Rule, ...] = ()
    all_match: tuple[Rule, ...] = ()

    def __post_init__(self) -> None:
        names = [r.name for r in (*self.first_match, *self.all_match)]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate rule name: {', '.join(duplicates)}")


@dataclass(frozen=True)
class RuleTrace:
    """What one rule did for one message, and why."""

    rule: str
    section: Section
    outcome: Outcome
    why: str

    def line(self) -> str:
        return f"{self.section} {self.rule}: {self.outcome} ({self.why})"

    def to_payload(self) -> dict[str, str]:
        return {
            "rule": self.rule,
            "section": self.section,
            "outcome": self.outcome,
            "why": self.why,
        }


@dataclass(frozen=True)
class Classified:
    """The decision, the trace of every rule, and short reasons for the audit log."""

    category: str
    priority: Priority
    team: str
    required_skills: SkillLevels
    optional_skills: SkillLevels
    tags: tuple[str, ...]
    trace: tuple[RuleTrace, ...]
    reasons: tuple[str, ...]

    @property
    def hits(self) -> tuple[str, ...]:
        """The names of the rules that applied, in the order they applied."""
        return tuple(t.rule for t in self.trace if t.outcome == "hit")

    def audit_data(self) -> dict[str, Any]:
        """A JSON-safe record of the decision and every rule's outcome."""
        return {
            "category": self.category,
            "priority": self.priority.value,
            "team": self.team,
            "required_skills": dict(self.required_skills),
            "optional_skills": dict(self.optional_skills),
            "tags": list(self.tags),
            "rules": [t.to_payload() for t in self.trace],
        }


class _Draft:
    """The decision while the rules apply to it; remembers where priority and team came from."""

    def __init__(self, category: str, priority: Priority, hint: bool) -> None:
        self.category = category
        self.priority = priority
        self.priority_from = "hint" if hint else "default"
        self.team: str | None = None
        self.team_from = ""
        self.required: dict[str, int] = {}
        self.optional: dict[str, int] = {}
        self.tags: dict[str, None] = {}
        self.applied: list[str] = []

    def apply(self, rule: Rule) -> None:
        then = rule.then
        source = f"rule {rule.name}"
        if then.category is not None:
            self.category = then.category
        if then.priority is not None:
            self.priority, self.priority_from = then.priority, source
        if then.team is not None:
            self.team, self.team_from = then.team, source
        for skill, level in then.required_skills:
            self.required[skill] = max(level, self.required.get(skill, 0))
        for skill, level in then.optional_skills:
            self.optional[skill] = max(level, self.optional.get(skill, 0))
        self.tags.update(dict.fromkeys(then.tags))
        self.applied.append(f"{source}: {then.describe()}")


def classify_message(
    facts: MessageFacts,
    book: RuleBook,
    *,
    default_category: str,
    default_priority: Priority,
    default_team: str,
    category_teams: Mapping[str, str],
    category_hint: str | None = None,
    priority_hint: Priority | None = None,
) -> Classified:
    """Apply ``book`` to ``facts``: first-match, then all-match, over the hints and defaults."""
    hinted = (category_hint or "").strip().lower()
    draft = _Draft(
        category=hinted or default_category,
        priority=priority_hint or default_priority,
        hint=priority_hint is not None,
    )
    trace: list[RuleTrace] = []
    winner: str | None = None
    for rule in book.first_match:
        if winner is not None:
            trace.append(RuleTrace(rule.name, "first_match", "not evaluated", f"{winner} hit"))
            continue
        if _try(rule, "first_match", facts, draft, trace):
            winner = rule.name
    for rule in book.all_match:
        _try(rule, "all_match", facts, draft, trace)
    return _decided(draft, trace, book, default_team, category_teams, priority_hint)


def _try(
    rule: Rule, section: Section, facts: MessageFacts, draft: _Draft, trace: list[RuleTrace]
) -> bool:
    matched, why = rule.when.test(facts)
    trace.append(RuleTrace(rule.name, section, "hit" if matched else "miss", why))
    if matched:
        draft.apply(rule)
    return matched


def _decided(
    draft: _Draft,
    trace: list[RuleTrace],
    book: RuleBook,
    default_team: str,
    category_teams: Mapping[str, str],
    priority_hint: Priority | None,
) -> Classified:
    reasons = list(draft.applied)
    if (book.first_match or book.all_match) and not draft.applied:
        reasons.append(f"no rule matched ({len(trace)} tried)")
    priority_line = f"priority {draft.priority.value} from {draft.priority_from}"
    if priority_hint is not None and draft.priority_from.startswith("rule "):
        priority_line += f" over hint {priority_hint.value}"
    reasons.append(priority_line)
    team = draft.team
    if team is not None:
        reasons.append(f"team {team} from {draft.team_from}")
    elif team := category_teams.get(draft.category):
        reasons.append(f"team {team} for category {draft.category}")
    else:
        team = default_team
        reasons.append(f"team {team} by default")
    required = tuple(sorted(draft.required.items()))
    optional = tuple(  # a preferred level above the required one still ranks agents
        sorted((s, n) for s, n in draft.optional.items() if n > draft.required.get(s, 0))
    )
    if required or optional:
        needs = [f"{s}>={n}" for s, n in required] + [f"optional {s}>={n}" for s, n in optional]
        reasons.append(f"skills {', '.join(needs)}")
    return Classified(
        category=draft.category,
        priority=draft.priority,
        team=team,
        required_skills=required,
        optional_skills=optional,
        tags=tuple(draft.tags),
        trace=tuple(trace),
        reasons=tuple(reasons),
    )
