"""Satisfaction ratings: when a requester may rate the help, and what a rating says.

One rating per resolution (good or bad, with an optional comment), changeable
for ``RATING_WINDOW`` after the resolution; a ticket reopened and resolved
again is rated again. Pure: ``now`` is a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from router.vocabulary import Status

RATING_WINDOW = timedelta(days=7)
MAX_COMMENT_CHARS = 2_000


class RatingOutcome(StrEnum):
    RECORDED = "recorded"
    CHANGED = "changed"
    NOT_RESOLVED = "not_resolved"  # nothing to rate: not resolved (any more), or never
    TOO_LATE = "too_late"  # the window after the resolution has passed


class RatedVia(StrEnum):
    PAGE = "page"
    EMAIL = "email"  # the page the resolution mail's link opened
    TELEGRAM = "telegram"


@dataclass(frozen=True)
class RatingView:
    """What the requester is shown of their rating of the latest resolution."""

    can_rate: bool
    good: bool | None = None  # None: not rated yet
    comment: str = ""


def rating_refusal(
    status: Status,
    resolved_at: datetime | None,
    now: datetime,
    window: timedelta = RATING_WINDOW,
    *,
    asked: bool = True,
) -> RatingOutcome | None:
    """Why a rating cannot be given now; None: it can. A desk that does not ask for
    ratings (``asked``: ``requester.ratings``) takes none: nothing was asked to rate."""
    if not asked or status not in (Status.RESOLVED, Status.CLOSED) or resolved_at is None:
        return RatingOutcome.NOT_RESOLVED
    if now > resolved_at + window:
        return RatingOutcome.TOO_LATE
    return None


def resolution_number(reopen_count: int) -> int:
    """Which resolution of a resolved ticket this is (0: its first): each reopen ends one."""
    return reopen_count


def clean_comment(text: str) -> str:
    """A comment as kept: no NUL, trimmed, at most ``MAX_COMMENT_CHARS``."""
    return text.replace("\x00", "").strip()[:MAX_COMMENT_CHARS]
