"""What the desk tells a requester on its own, and asks of them."""

from __future__ import annotations

from pydantic import Field

from config.base import Frozen


class RequesterSettings(Frozen):
    # tell the requester, on their channel and threaded, that their request was resolved
    # (with the rating question)
    resolved_notice: bool = True
    # ask them to rate the help with each resolution (the notice's links and buttons, the
    # ticket's page)
    ratings: bool = True
    # tell the requester when their request waits for them (pending), with what was asked
    # (not when the agent's answer asking it went out moments before: it said so)
    pending_notice: bool = True
    # pending: remind after this many business days (of the team's SLA calendar), resolve
    # after this many without an answer; resolved: close after this many. 0: never.
    # Per team too.
    pending_remind_days: int = Field(3, ge=0, le=365)
    pending_resolve_days: int = Field(7, ge=0, le=365)
    resolved_close_days: int = Field(7, ge=0, le=365)
    follow_up_every_s: float = Field(300.0, gt=0)  # how often the scheduler looks
