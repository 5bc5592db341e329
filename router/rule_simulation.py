"""What a candidate rule book would change: past tickets replayed through two rule books.

Each ``Arrival`` is one ticket as it arrived (its first message's facts and the channel's
hints). Both the current and the candidate ``RuleSetup`` classify it through
``RuleSetup.decide``, which ingest calls for every new ticket, so the simulation and the
live desk share one code path. ``compare`` counts, per field (category, priority, team,
skills), every ``from -> to`` with a few example ticket numbers, the candidate's rules
that never hit, and the tickets no candidate rule matched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from router.rule_facts import MessageFacts
from router.rules import Classified, RuleBook, classify_message
from router.vocabulary import Priority, Status

FIELDS = ("category", "priority", "team", "skills")
EXAMPLES = 5  # ticket numbers kept per change


@dataclass(frozen=True)
class Arrival:
    """A ticket as the rules saw it when it arrived, and what became of it (the history
    the routing and SLA replays need: ``None`` where unknown or not yet)."""

    number: int
    facts: MessageFacts
    category_hint: str | None = None
    priority_hint: Priority | None = None
    arrived_at: datetime | None = None
    responded_at: datetime | None = None  # the first public reply
    resolved_at: datetime | None = None
    done_at: datetime | None = None  # resolved, or closed without a resolution
    # its status changes after it arrived, in order: (when, from, to)
    moves: tuple[tuple[datetime, Status, Status], ...] = ()


@dataclass(frozen=True)
class RuleSetup:
    """A configuration's classification: its rule book and the defaults around it."""

    book: RuleBook
    default_category: str
    default_priority: Priority
    default_team: str
    category_teams: Mapping[str, str] = field(default_factory=dict, hash=False)

    def decide(
        self,
        facts: MessageFacts,
        *,
        category_hint: str | None = None,
        priority_hint: Priority | None = None,
    ) -> Classified:
        """How this configuration classifies a new ticket's message (ingest calls this)."""
        return classify_message(
            facts,
            self.book,
            default_category=self.default_category,
            default_priority=self.default_priority,
            default_team=self.default_team,
            category_teams=self.category_teams,
            category_hint=category_hint,
            priority_hint=priority_hint,
        )

    def classify(self, arrival: Arrival) -> Classified:
        return self.decide(
            arrival.facts,
            category_hint=arrival.category_hint,
            priority_hint=arrival.priority_hint,
        )


@dataclass(frozen=True)
class Change:
    """``count`` tickets whose ``field`` would go from ``before`` to ``after``."""

    field: str
    before: str
    after: str
    count: int
    examples: tuple[int, ...]


@dataclass(frozen=True)
class Simulation:
    tickets: int
    changed: int  # tickets with at least one field changed
    changes: tuple[Change, ...]  # by field, then most tickets first
    rules_never_matched: tuple[str, ...]  # the candidate's, in the file's order
    unmatched: int  # tickets no candidate rule matched
    unmatched_examples: tuple[int, ...]
    outcomes: Mapping[int, Classified] = field(default_factory=dict, hash=False, repr=False)


def values(decision: Classified) -> dict[str, str]:
    """The compared fields of a decision, as words."""
    skills = ", ".join(f"{s}>={n}" for s, n in decision.required_skills)
    return {
        "category": decision.category,
        "priority": decision.priority.value,
        "team": decision.team,
        "skills": skills or "-",
    }


class ClassificationTally:
    """Counts, arrival by arrival, what ``compare`` reports."""

    def __init__(self, *, examples: int = EXAMPLES, keep_outcomes: bool = False) -> None:
        self.examples = examples
        self.keep_outcomes = keep_outcomes
        self.counts: dict[tuple[str, str, str], list[int]] = {}
        self.seen: dict[tuple[str, str, str], list[int]] = {}
        self.hits: dict[str, int] = {}
        self.outcomes: dict[int, Classified] = {}
        self.tickets = self.changed = self.unmatched = 0
        self.unmatched_examples: list[int] = []

    def add(
        self, arrival: Arrival, before: Classified, after: Classified, *, by_candidate: bool = True
    ) -> None:
        """``after``: the decision the candidate's side made; ``by_candidate``: by the
        candidate's rules (a pilot keeps the current rules' outside its teams), whose
        hits then count towards the rules that matched."""
        self.tickets += 1
        if self.keep_outcomes:
            self.outcomes[arrival.number] = after
        for name in after.hits if by_candidate else ():
            self.hits[name] = self.hits.get(name, 0) + 1
        if not after.hits:
            self.unmatched += 1
            if len(self.unmatched_examples) < self.examples:
                self.unmatched_examples.append(arrival.number)
        old, new = values(before), values(after)
        moved = [f for f in FIELDS if old[f] != new[f]]
        self.changed += bool(moved)
        for name in moved:
            key = (name, old[name], new[name])
            self.counts.setdefault(key, [0])[0] += 1
            kept = self.seen.setdefault(key, [])
            if len(kept) < self.examples:
                kept.append(arrival.number)

    def result(self, candidate: RuleSetup) -> Simulation:
        counts, seen = self.counts, self.seen
        order = {name: n for n, name in enumerate(FIELDS)}
        changes = sorted(
            (Change(f, b, a, counts[(f, b, a)][0], tuple(seen[(f, b, a)])) for f, b, a in counts),
            key=lambda c: (order[c.field], -c.count, c.before, c.after),
        )
        book = candidate.book
        rules = (*book.first_match, *book.all_match)
        never = tuple(r.name for r in rules if r.name not in self.hits)
        return Simulation(
            tickets=self.tickets,
            changed=self.changed,
            changes=tuple(changes),
            rules_never_matched=never,
            unmatched=self.unmatched,
            unmatched_examples=tuple(self.unmatched_examples),
            outcomes=self.outcomes,
        )


def compare(
    arrivals: Iterable[Arrival],
    current: RuleSetup,
    candidate: RuleSetup,
    *,
    examples: int = EXAMPLES,
    keep_outcomes: bool = False,
) -> Simulation:
    """Replay ``arrivals`` through both setups and say what the candidate changes."""
    tally = ClassificationTally(examples=examples, keep_outcomes=keep_outcomes)
    for arrival in arrivals:
        tally.add(arrival, current.classify(arrival), candidate.classify(arrival))
    return tally.result(candidate)
