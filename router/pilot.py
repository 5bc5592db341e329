"""A pilot: a candidate configuration decides for named teams, the current one for the rest.

Every decision about a ticket (routing, SLA clocks, escalations, notices) is made by the
version of the ticket's team (``deciding``). Classification at ingest is the one decision
that chooses the team, so it is made in two steps (``classify_in_pilot``): the current
version classifies; when the team it chose is a pilot team, the candidate classifies
again, and its result is kept if the candidate's team is a pilot team too, else the
current result stands. A pilot therefore never takes a ticket from a team outside it and
never hands one to a team outside it: the rest of the desk sees exactly what it would
without the pilot.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from router.rule_facts import MessageFacts
from router.rule_simulation import RuleSetup
from router.rules import Classified
from router.vocabulary import Priority

V = TypeVar("V")


@dataclass(frozen=True)
class PilotPlan(Generic[V]):
    """``candidate`` decides for ``teams``; ``current`` for every other team."""

    current: V
    candidate: V
    teams: frozenset[str]

    def deciding(self, team: str | None) -> V:
        """The version that decides for a ticket of ``team`` (none yet: the current)."""
        return self.candidate if team is not None and team in self.teams else self.current


def teams_it_cannot_run_on(
    named: Iterable[str], current: Collection[str], candidate: Collection[str]
) -> tuple[str, ...]:
    """The ``named`` teams a pilot cannot run on, in their order: those that are not teams
    of both the current configuration and the candidate (``current``, ``candidate``: their
    teams' names). ``config pilot start`` refuses them, and so does a simulation of one."""
    return tuple(team for team in named if team not in current or team not in candidate)


@dataclass(frozen=True)
class PilotClassified:
    decision: Classified
    by_candidate: bool  # the candidate's rules decided (the ticket's team is a pilot team)


def classify_in_pilot(
    facts: MessageFacts,
    current: RuleSetup,
    candidate: RuleSetup,
    teams: Collection[str],
    *,
    category_hint: str | None = None,
    priority_hint: Priority | None = None,
) -> PilotClassified:
    """A new ticket's classification while ``candidate`` is piloted on ``teams``."""
    first = current.decide(facts, category_hint=category_hint, priority_hint=priority_hint)
    if first.team not in teams:
        return PilotClassified(first, by_candidate=False)
    second = candidate.decide(facts, category_hint=category_hint, priority_hint=priority_hint)
    if second.team not in teams:
        return PilotClassified(first, by_candidate=False)
    return PilotClassified(second, by_candidate=True)
