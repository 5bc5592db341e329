"""Simulate a candidate configuration on the period's tickets: one entry point for the
command line (``relaydesk rules simulate``) and the staff API (admins).

Reads the store in pages (``store.ticket_arrivals``), decides through the pure
``router.desk_simulation``, writes nothing.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date

from config.loader import ConfigError, settings_of
from config.settings import Settings
from router.desk_simulation import DeskSimulation, simulate
from router.pilot import teams_it_cannot_run_on
from router.rule_simulation import Arrival
from store.roster_snapshot import agents_now
from store.ticket_arrivals import TicketArrivals
from workers.desk.reports import report_period
from workers.runtime.context import Runtime
from workers.runtime.desk_setup import desk_setup, pilot

# how the caller watches the replay: given the arrivals and how many, what to iterate
Watch = Callable[[Iterator[Arrival], int], Iterable[Arrival]]


class TooManyTickets(ValueError):
    """The period holds more tickets than the caller may replay at once."""


def candidate_settings(text: str) -> Settings:
    """A candidate configuration given as TOML text; ``ConfigError`` lists every problem."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, sent escaped in JSON
        raise ConfigError([("candidate", "not valid TOML: not UTF-8 text")]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([("candidate", f"not valid TOML: {exc}")]) from None
    return settings_of(data)


def simulate_candidate(
    runtime: Runtime,
    candidate: Settings,
    *,
    since: str | None = None,
    first: date | None = None,
    last: date | None = None,
    teams: Sequence[str] = (),
    pilot_teams: Sequence[str] = (),
    watch: Watch | None = None,
    limit: int | None = None,
    keep_outcomes: bool = False,
) -> DeskSimulation:
    """What ``candidate`` would change on the tickets created in the period (of ``teams``,
    if named) against the desk's configuration now; with ``pilot_teams``, what piloting
    it on those teams would change (``relaydesk config reload --pilot-teams``), the rest
    keeping the desk's configuration. ``ValueError`` for a period that is not one or a
    pilot team that is not a team of both; ``TooManyTickets`` past ``limit``."""
    if pilot_teams:
        check_pilot_teams(runtime.settings, candidate, pilot_teams)
    if first is None and last is None and since is None:
        since = "30d"
    period = report_period(runtime, since=since, first=first, last=last)
    with runtime.db.unit_of_work() as uow:
        known = agents_now(uow.session)
        arrivals = TicketArrivals(uow.session)
        total = arrivals.count(period.start, period.end, teams)
        if limit is not None and total > limit:
            raise TooManyTickets(
                f"the period holds {total} tickets, more than {limit} at once: "
                "choose a shorter period or a team, or run `relaydesk rules simulate`"
            )
        replayed = arrivals.between(period.start, period.end, teams)
        stream = replayed if watch is None else watch(replayed, total)
        piloted = pilot(runtime.settings, candidate, pilot_teams, known) if pilot_teams else None
        return simulate(
            stream,
            desk_setup(runtime.settings, known),
            desk_setup(candidate, known),
            as_of=runtime.now(),
            pilot=piloted,
            keep_outcomes=keep_outcomes,
        )


def check_pilot_teams(settings: Settings, candidate: Settings, teams: Sequence[str]) -> None:
    """``ValueError`` naming the teams a pilot cannot run on: those the desk's
    configuration or the candidate lacks (as ``config reload --pilot-teams`` refuses)."""
    current = {t.name for t in settings.teams}
    unknown = teams_it_cannot_run_on(teams, current, {t.name for t in candidate.teams})
    if unknown:
        raise ValueError(
            f"not a team of both the desk's configuration and the candidate: {', '.join(unknown)}"
        )
