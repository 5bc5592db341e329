"""Piloting a candidate configuration on named teams, then promoting or ending it.

``start_pilot`` keeps the desk's version for every team and makes a validated candidate
decide for the teams named (``router/pilot.py`` says how: the version of a ticket's team
decides each of its decisions; classification at ingest is made in two steps). It is
one more change in the store (``config_changes.pilot_version``, ``pilot_teams``), so
every process of the fleet switches at its next message, as for a reload. The roster
(teams, agents, skills, capacity) is one for the whole desk: a candidate's roster waits
for ``promote``, which applies the candidate to everyone as a reload does (roster
included). ``end_pilot`` returns every team to the desk's version. A plain reload or a
rollback ends a pilot as well: the change it records carries none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from config.settings import Settings
from router.errors import RelaydeskError
from router.pilot import teams_it_cannot_run_on
from router.vocabulary import ConfigAction
from store.config_decisions import ConfigDecisions, VersionDecisions
from store.config_versions import AppliedChange
from workers.desk.config_changes import Applied, apply_settings
from workers.runtime.config_follow import settings_of_version
from workers.runtime.context import Runtime
from workers.runtime.desk_config import shared_file

ROSTER_KEYS = ("teams", "agents")  # the desk's one directory: applied at promote


class PilotProblem(StrEnum):
    NO_VERSION = "no-version"  # nothing in force yet to pilot beside
    NO_TEAMS = "no-teams"
    NOT_A_TEAM = "not-a-team"  # a named team the current version or the candidate lacks
    SAME_VERSION = "same-version"  # the candidate is the desk's version
    NO_PILOT = "no-pilot"  # promote or end with no pilot running


class PilotRefused(RelaydeskError):
    """Nothing changed; ``problems``: each ``(problem, team or "")``."""

    def __init__(self, problems: Sequence[tuple[PilotProblem, str]]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{p.value} {t}".strip() for p, t in self.problems))


@dataclass(frozen=True)
class PilotStarted:
    version: str  # the desk's, for every other team
    candidate: str
    teams: tuple[str, ...]
    ended: str | None  # the candidate of a pilot this one replaces
    roster_waits: tuple[str, ...]  # the candidate's roster keys that differ: at promote


def start_pilot(
    runtime: Runtime, candidate: Settings, teams: Sequence[str], *, applied_by: str
) -> PilotStarted:
    """Make validated ``candidate`` decide for ``teams``, the desk's version for the rest;
    ``PilotRefused`` with every problem when it cannot be (nothing changes)."""
    named = tuple(dict.fromkeys(t.strip() for t in teams if t.strip()))
    candidate_file = shared_file(candidate)
    with runtime.db.unit_of_work() as uow:
        versions = uow.config_versions
        current = versions.current()
        desk_file = versions.file_of(current.version) if current else None
        if current is None or desk_file is None:
            raise PilotRefused([(PilotProblem.NO_VERSION, "")])
        desk = settings_of_version(desk_file, runtime.start_settings)
        problems: list[tuple[PilotProblem, str]] = []
        if not named:
            problems.append((PilotProblem.NO_TEAMS, ""))
        desks_teams = {t.name for t in desk.teams}
        missing = teams_it_cannot_run_on(named, desks_teams, {t.name for t in candidate.teams})
        problems += [(PilotProblem.NOT_A_TEAM, t) for t in missing]
        if candidate_file.version == current.version:
            problems.append((PilotProblem.SAME_VERSION, ""))
        if problems:
            raise PilotRefused(problems)
        versions.record(
            desk_file,
            action=ConfigAction.PILOT,
            applied_by=applied_by,
            now=runtime.now(),
            pilot=(candidate_file, named),
        )
    waits = tuple(k for k in ROSTER_KEYS if desk_file.data.get(k) != candidate_file.data.get(k))
    return PilotStarted(
        version=current.version,
        candidate=candidate_file.version,
        teams=named,
        ended=current.pilot.version if current.pilot else None,
        roster_waits=waits,
    )


def promote_pilot(runtime: Runtime, *, applied_by: str) -> Applied:
    """The running pilot's candidate becomes the desk's version for every team, its roster
    with it; ``PilotRefused`` when no pilot runs."""
    with runtime.db.unit_of_work() as uow:
        current = uow.config_versions.current()
        pilot = current.pilot if current else None
        candidate = uow.config_versions.file_of(pilot.version) if pilot else None
    if candidate is None:
        raise PilotRefused([(PilotProblem.NO_PILOT, "")])
    settings = settings_of_version(candidate, runtime.start_settings)
    return apply_settings(
        runtime, settings, action=ConfigAction.PROMOTE, applied_by=applied_by, desk_file=candidate
    )


def end_pilot(runtime: Runtime, *, applied_by: str) -> str:
    """Every team back on the desk's version; the candidate that was piloted.
    ``PilotRefused`` when no pilot runs."""
    with runtime.db.unit_of_work() as uow:
        versions = uow.config_versions
        current = versions.current()
        desk_file = versions.file_of(current.version) if current else None
        if current is None or current.pilot is None or desk_file is None:
            raise PilotRefused([(PilotProblem.NO_PILOT, "")])
        versions.record(
            desk_file, action=ConfigAction.PILOT_END, applied_by=applied_by, now=runtime.now()
        )
        return current.pilot.version


@dataclass(frozen=True)
class PilotComparison:
    started: AppliedChange | None  # the last change that started a pilot
    running: bool  # that pilot is the desk's now
    decisions: tuple[VersionDecisions, ...]  # since it started, per team and version


def compare_pilot(runtime: Runtime) -> PilotComparison:
    """What each version decided, per team, since the last pilot started (nothing when no
    pilot ever did): the pilot's teams under the candidate beside the rest."""
    with runtime.db.unit_of_work() as uow:
        started = uow.config_versions.last(ConfigAction.PILOT)
        if started is None:
            return PilotComparison(None, running=False, decisions=())
        current = uow.config_versions.current()
        running = current is not None and current.pilot == started.pilot
        decisions = ConfigDecisions(uow.session).since(started.applied_at)
    return PilotComparison(started, running, tuple(decisions))
