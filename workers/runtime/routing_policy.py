"""Routing policy from configuration, as the pure selection functions take it."""

from __future__ import annotations

from datetime import timedelta

from config.routing_settings import RoutingSettings, SkillsTimeoutSettings
from router.backlog import NEVER_RELAX, RelaxAfter, SkillsTimeout
from router.selection import SelectionPolicy
from router.vocabulary import Priority


def selection_policy(settings: RoutingSettings) -> SelectionPolicy:
    """Every eligible agent is ranked (no shortlist): if the best ones are taken by a
    concurrent router, the claim moves on down the list instead of leaving the ticket
    waiting while someone eligible is free."""
    return SelectionPolicy(
        prefer_senior_for=frozenset(Priority(p) for p in settings.prefer_senior_for),
        senior_at=settings.senior_at,
        shortlist=None,
        wait_for_optional_skills=settings.wait_for_optional_skills,
    )


def _relax(value: SkillsTimeoutSettings | None) -> RelaxAfter:
    if value is None:
        return NEVER_RELAX
    return RelaxAfter(
        drop_optional=_seconds(value.drop_optional_after_s),
        widen=_seconds(value.widen_after_s),
    )


def _seconds(value: float | None) -> timedelta | None:
    return None if value is None else timedelta(seconds=value)


def skills_timeout(settings: RoutingSettings, fallback_team: str | None) -> SkillsTimeout:
    timeouts = settings.skills_timeout
    return SkillsTimeout(
        urgent=_relax(timeouts.get("urgent")),
        high=_relax(timeouts.get("high")),
        normal=_relax(timeouts.get("normal")),
        low=_relax(timeouts.get("low")),
        fallback_team=fallback_team,
    )
