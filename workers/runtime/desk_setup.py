"""A configuration as the simulation's setup: its rules, its roster and its SLA.

The roster is the configuration's agents with what it says of them (teams, skills,
capacity, per-channel limits, seniority); an agent the store knows keeps its number
and its routing status as they are now (the status belongs to the agent, not to the
file), a new one gets the status the file gives it and a number after the known ones.

A pilot's roster (``pilot_roster``) is the desk's, as live: a candidate's agents and teams
wait for its promotion; only the routing settings of the pilot's teams are the candidate's.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace

from config.settings import Settings
from router.desk_simulation import DeskSetup, Pilot
from router.routing_facts import AgentFacts
from router.routing_replay import Roster
from router.sla_simulation import SlaSetup
from router.vocabulary import AgentStatus
from workers.runtime.routing_policy import selection_policy, skills_timeout
from workers.runtime.rule_book import rule_setup
from workers.runtime.sla_policies import business_calendars, sla_policies

Known = Mapping[str, tuple[int, AgentStatus]]


def desk_setup(settings: Settings, known: Known) -> DeskSetup:
    return DeskSetup(rules=rule_setup(settings), roster=roster(settings, known), sla=sla(settings))


def roster(settings: Settings, known: Known) -> Roster:
    after = max((number for number, _ in known.values()), default=0)
    agents = []
    for agent in sorted(settings.agents, key=lambda a: a.name):
        if agent.name in known:
            number, status = known[agent.name]
        else:
            after += 1
            number, status = after, AgentStatus(agent.status)
        agents.append(
            AgentFacts(
                id=number,
                name=agent.name,
                status=status,
                capacity=agent.capacity,
                load=0,
                teams=frozenset(agent.teams),
                skills=dict(agent.skills),
                seniority=agent.seniority,
                channel_capacity={str(k): v for k, v in agent.channel_capacity.items()},
            )
        )
    routing = settings.routing
    return Roster(
        agents=tuple(agents),
        policy=selection_policy(routing),
        timeouts={t.name: skills_timeout(routing, t.fallback_team) for t in settings.teams},
    )


def pilot(settings: Settings, candidate: Settings, teams: Collection[str], known: Known) -> Pilot:
    """``candidate`` piloted on ``teams`` beside ``settings``: the desk's agents and teams
    (their fallback teams), each pilot team's selection policy and skills timeouts the
    candidate's, as the route step takes them for a pilot team's ticket."""
    desk = roster(settings, known)
    fallbacks = {t.name: t.fallback_team for t in settings.teams}
    timeouts = dict(desk.timeouts)
    for team in teams:
        timeouts[team] = skills_timeout(candidate.routing, fallbacks.get(team))
    policy = selection_policy(candidate.routing)
    piloted = replace(desk, timeouts=timeouts, team_policies=dict.fromkeys(teams, policy))
    return Pilot(teams=frozenset(teams), roster=piloted)


def sla(settings: Settings) -> SlaSetup:
    return SlaSetup(
        policies=sla_policies(settings.sla),
        calendars=business_calendars(settings.sla),
        team_calendars=dict(settings.sla.team_calendars),
        default_calendar=settings.sla.default_calendar,
    )
