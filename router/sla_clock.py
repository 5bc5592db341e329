"""SLA timers: start, pause, resume, stop, and the deadlines the scheduler sweeps.

A ``Timer`` counts business time (see ``router.business_calendar``) towards a target. It is
running (``running_since`` set), paused (neither set) or stopped (``stopped_at``
set). ``consumed`` is the business time used by earlier runs, so pausing and
resuming carries the time that was left: nothing is counted while paused.

``deadlines`` gives the two instants to store (``warn_at``, ``due_at``); they only
change when the timer does, so they are recomputed after ``apply`` returns
different clocks and never on a sweep.

``apply`` is the reducer from conversation events to a ticket's clocks:

- the first customer message starts ``first_response`` and ``resolution``;
- an agent's public reply stops ``first_response`` and ``next_response``;
- a later customer message that awaits an answer starts ``next_response`` (a
  second message before the answer leaves the running clock alone);
- an internal note changes nothing;
- pending pauses every running timer, open resumes them with the time left;
- resolved stops every timer; reopened resumes ``resolution`` with the business
  time that was left when it was resolved (the response clocks restart only when
  the customer writes again).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from router.business_calendar import BusinessCalendar, add_business_time, business_time_between
from router.lifecycle import DONE_STATUSES
from router.vocabulary import Status

TimerKind = Literal["first_response", "next_response", "resolution"]
_ZERO = timedelta(0)


@dataclass(frozen=True)
class Timer:
    """One SLA clock; ``target`` and ``consumed`` are business time."""

    kind: TimerKind
    target: timedelta | None  # None: the policy sets no target: recorded, never due
    started_at: datetime
    consumed: timedelta = _ZERO
    running_since: datetime | None = None
    stopped_at: datetime | None = None
    warn_share: float = 0.75

    @property
    def is_running(self) -> bool:
        return self.running_since is not None

    @property
    def is_stopped(self) -> bool:
        return self.stopped_at is not None


def start_timer(
    kind: TimerKind, target: timedelta | None, now: datetime, warn_share: float = 0.75
) -> Timer:
    """A timer running from ``now``."""
    if target is not None and target < _ZERO:
        raise ValueError(f"an SLA target cannot be negative: {target}")
    if not 0.0 <= warn_share <= 1.0:
        raise ValueError(f"warn_share is a share of the target in [0, 1], got {warn_share}")
    return Timer(kind, target, started_at=now, running_since=now, warn_share=warn_share)


def pause(timer: Timer, calendar: BusinessCalendar, now: datetime) -> Timer:
    """Fold the business time of the current run into ``consumed``; no-op unless running."""
    if timer.running_since is None:
        return timer
    used = business_time_between(calendar, timer.running_since, now)
    return replace(timer, consumed=timer.consumed + used, running_since=None)


def resume(timer: Timer, now: datetime) -> Timer:
    """Run a paused timer again from ``now``; no-op when running or stopped."""
    if timer.is_running or timer.is_stopped:
        return timer
    return replace(timer, running_since=now)


def stop(timer: Timer, calendar: BusinessCalendar, now: datetime) -> Timer:
    """Stop for good; ``consumed`` then says how much business time the timer used.

    Takes the calendar (unlike ``resume``) to count the last run: a stopped timer
    was met when ``consumed <= target``.
    """
    if timer.is_stopped:
        return timer
    return replace(pause(timer, calendar, now), stopped_at=now)


def remaining(timer: Timer, calendar: BusinessCalendar, now: datetime) -> timedelta:
    """Business time left at ``now``; negative once the target is missed."""
    if timer.target is None:
        return timedelta.max
    used = timer.consumed
    if timer.running_since is not None:
        used += business_time_between(calendar, timer.running_since, now)
    return timer.target - used


def deadlines(timer: Timer, calendar: BusinessCalendar) -> tuple[datetime | None, datetime | None]:
    """``(warn_at, due_at)`` of a running timer, ``(None, None)`` otherwise.

    ``warn_at`` is when ``consumed`` reaches ``warn_share * target``, ``None`` if that
    already happened. A timer resumed with nothing left is due at once (at
    ``running_since``, or at the next opening if that is outside business hours).
    """
    if timer.running_since is None or timer.target is None:
        return None, None
    since = timer.running_since
    due_at = add_business_time(calendar, since, max(timer.target - timer.consumed, _ZERO))
    to_warning = timer.target * timer.warn_share - timer.consumed
    warn_at = add_business_time(calendar, since, to_warning) if to_warning > _ZERO else None
    return warn_at, due_at


# --- the reducer -----------------------------------------------------------------------

_Change = Callable[[Timer], Timer]


class SlaEvent(StrEnum):
    """What happened on a ticket, as far as the SLA clocks care."""

    CUSTOMER_MESSAGE = "customer_message"
    AGENT_REPLY = "agent_reply"  # a public reply; internal notes are INTERNAL_NOTE
    INTERNAL_NOTE = "internal_note"
    PENDING = "pending"  # waiting on the customer
    OPEN = "open"
    RESOLVED = "resolved"
    REOPENED = "reopened"


@dataclass(frozen=True)
class SlaTargets:
    """The business-time targets of a ticket (chosen by its priority and team)."""

    first_response: timedelta | None  # None: no target for this clock
    next_response: timedelta | None
    resolution: timedelta | None
    warn_share: float = 0.75


@dataclass(frozen=True)
class TicketClocks:
    """The SLA timers of one ticket; ``paused`` while it waits on the customer."""

    first_response: Timer | None = None
    next_response: Timer | None = None
    resolution: Timer | None = None
    paused: bool = False

    def timers(self) -> tuple[Timer, ...]:
        found = (self.first_response, self.next_response, self.resolution)
        return tuple(t for t in found if t is not None)


def apply(
    clocks: TicketClocks,
    event: SlaEvent,
    targets: SlaTargets,
    calendar: BusinessCalendar,
    now: datetime,
) -> TicketClocks:
    """The clocks after ``event`` at ``now`` (rules in the module docstring)."""

    def each(change: _Change) -> TicketClocks:
        return replace(
            clocks,
            first_response=_maybe(change, clocks.first_response),
            next_response=_maybe(change, clocks.next_response),
            resolution=_maybe(change, clocks.resolution),
        )

    def new(kind: TimerKind, target: timedelta | None) -> Timer:
        timer = start_timer(kind, target, now, targets.warn_share)
        return replace(timer, running_since=None) if clocks.paused else timer

    if event is SlaEvent.CUSTOMER_MESSAGE:
        if clocks.first_response is None:
            return replace(
                clocks,
                first_response=new("first_response", targets.first_response),
                resolution=clocks.resolution or new("resolution", targets.resolution),
            )
        waiting = clocks.next_response is not None and not clocks.next_response.is_stopped
        if clocks.first_response.is_stopped and not waiting:
            return replace(clocks, next_response=new("next_response", targets.next_response))
        return clocks
    if event is SlaEvent.AGENT_REPLY:
        return replace(
            clocks,
            first_response=_maybe(lambda t: stop(t, calendar, now), clocks.first_response),
            next_response=_maybe(lambda t: stop(t, calendar, now), clocks.next_response),
        )
    if event is SlaEvent.PENDING:
        return replace(each(lambda t: pause(t, calendar, now)), paused=True)
    if event is SlaEvent.OPEN:
        return replace(each(lambda t: resume(t, now)), paused=False)
    if event is SlaEvent.RESOLVED:
        return each(lambda t: stop(t, calendar, now))
    if event is SlaEvent.REOPENED:
        res = clocks.resolution
        if res is not None and res.is_stopped:
            res = replace(res, stopped_at=None, running_since=now)
        return replace(clocks, resolution=res, paused=False)
    return clocks  # INTERNAL_NOTE


def status_event(before: Status, after: Status) -> SlaEvent | None:
    """What a status change means to the clocks."""
    if after is Status.PENDING:
        return SlaEvent.PENDING
    if after in DONE_STATUSES:
        return SlaEvent.RESOLVED
    if before in DONE_STATUSES and after is Status.OPEN:
        return SlaEvent.REOPENED
    if before is Status.PENDING and after in (Status.OPEN, Status.NEW):
        return SlaEvent.OPEN
    return None


def retarget(clocks: TicketClocks, targets: SlaTargets) -> TicketClocks:
    """The clocks under other targets (a ticket's priority, category or team changed, and
    with it its policy): each keeps the time it has run, running or stopped as it was; a
    clock the new policy sets no target for is recorded, never due."""

    def to(timer: Timer | None, target: timedelta | None) -> Timer | None:
        return (
            None if timer is None else replace(timer, target=target, warn_share=targets.warn_share)
        )

    return replace(
        clocks,
        first_response=to(clocks.first_response, targets.first_response),
        next_response=to(clocks.next_response, targets.next_response),
        resolution=to(clocks.resolution, targets.resolution),
    )


def _maybe(change: _Change, timer: Timer | None) -> Timer | None:
    return None if timer is None else change(timer)
