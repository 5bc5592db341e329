"""Who takes a ticket: the public face of routing's agent selection.

The facts live in ``router.routing_facts``, the ranking in
``router.selection``, the backlog order and the skills timeout in
``router.backlog``; import them from here.
"""

from __future__ import annotations

from router.backlog import (
    BacklogKey,
    RelaxAfter,
    SkillsTimeout,
    backlog_key,
    relax_requirements,
)
from router.routing_facts import MAX_SKILL_LEVEL, AgentFacts, IntMap, TicketFacts
from router.selection import (
    DEFAULT_POLICY,
    Decision,
    RankKey,
    SelectionPolicy,
    choose_agent,
    explain,
    ranking_key,
    skill_match,
    why_not,
)

__all__ = [
    "DEFAULT_POLICY",
    "MAX_SKILL_LEVEL",
    "AgentFacts",
    "BacklogKey",
    "Decision",
    "IntMap",
    "RankKey",
    "RelaxAfter",
    "SelectionPolicy",
    "SkillsTimeout",
    "TicketFacts",
    "backlog_key",
    "choose_agent",
    "explain",
    "ranking_key",
    "relax_requirements",
    "skill_match",
    "why_not",
]
