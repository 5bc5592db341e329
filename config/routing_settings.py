"""Settings of routing: seniority for urgent work, skills timeouts, returning tickets."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from config.base import Frozen

PriorityName = Literal["urgent", "high", "normal", "low"]


class SkillsTimeoutSettings(Frozen):
    """How long a ticket of one priority waits before its requirements are relaxed."""

    drop_optional_after_s: float | None = Field(None, gt=0)  # then optional skills are dropped
    widen_after_s: float | None = Field(None, gt=0)  # then the team's fallback team may take it

    @model_validator(mode="after")
    def _in_order(self) -> SkillsTimeoutSettings:
        drop, widen = self.drop_optional_after_s, self.widen_after_s
        if drop is not None and widen is not None and widen < drop:
            raise ValueError("widen_after_s comes after drop_optional_after_s")
        return self


class RoutingSettings(Frozen):
    prefer_senior_for: tuple[PriorityName, ...] = ()  # e.g. ["urgent", "high"]
    senior_at: int = Field(3, ge=0)  # the seniority that counts as senior
    skills_timeout: dict[PriorityName, SkillsTimeoutSettings] = {}
    return_on_offline: bool = False  # an agent going offline gives back new/open tickets
    # optional skills only rank agents; with this on, a ticket waits for an agent who has
    # them too, until the skills timeout drops them
    wait_for_optional_skills: bool = False
