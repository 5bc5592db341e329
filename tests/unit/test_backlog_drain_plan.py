from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from router.backlog import RelaxAfter, SkillsTimeout
from router.backlog_drain import drain_group, plan_drain
from router.routing_facts import AgentFacts, TicketFacts
from router.selection import choose_agent
from router.vocabulary import AgentStatus, Priority
from tests.unit.test_selection import ALL, agents_strategy, tickets_strategy

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
NO_TIMEOUT = SkillsTimeout()


def agent(i: int, **kw: object) -> AgentFacts:
    base: dict[str, object] = {
        "id": i,
        "name": f"a{i}",
        "status": AgentStatus.ONLINE,
        "capacity": 5,
        "load": 0,
        "teams": frozenset({"support"}),
    }
    base.update(kw)
    return AgentFacts(**base)  # type: ignore[arg-type]


def waiting(i: int, **kw: object) -> tuple[TicketFacts, datetime]:
    base: dict[str, object] = {
        "id": i,
        "team": "support",
        "priority": Priority.NORMAL,
        "created_at": NOW,
        "channel": "web",
    }
    base.update(kw)
    return TicketFacts(**base), NOW  # type: ignore[arg-type]


def plan(tickets: list[tuple[TicketFacts, datetime]], agents: list[AgentFacts], **kw: object):  # type: ignore[no-untyped-def]
    return [
        (ticket_id, a.name)
        for ticket_id, a in plan_drain(tickets, agents, NOW, timeouts=NO_TIMEOUT, **kw)  # type: ignore[arg-type]
    ]


def test_an_agent_full_in_a_channel_is_planned_for_no_ticket_of_that_channel() -> None:
    solo = agent(1, channel_capacity={"web": 1}, channel_load={"web": 1}, load=1)
    tickets = [waiting(i) for i in range(1, 400)] + [waiting(400, channel="email")]
    assert plan(tickets, [solo]) == [(400, "a1")]


def test_each_planned_ticket_counts_against_the_agent_overall_and_in_its_channel() -> None:
    ana = agent(1, capacity=3, channel_capacity={"web": 1})
    tickets = [waiting(1), waiting(2), waiting(3, channel="email"), waiting(4, channel="email")]
    tickets += [waiting(5, channel="email")]
    assert plan(tickets, [ana]) == [(1, "a1"), (3, "a1"), (4, "a1")]


def test_slots_go_in_backlog_order_and_a_ticket_nobody_can_take_holds_up_no_other() -> None:
    ana = agent(1, capacity=1, skills={"billing": 3})
    bo = agent(2, capacity=1)
    tickets = [waiting(1, required_skills={"linux": 1}), waiting(2), waiting(3)]
    tickets += [waiting(4, required_skills={"billing": 2})]
    assert plan(tickets, [ana, bo]) == [(2, "a1"), (3, "a2")]  # nothing is left for #4


def test_the_backlog_is_read_no_further_than_the_last_free_slot() -> None:
    read = []

    def backlog() -> Iterator[tuple[TicketFacts, datetime]]:
        for i in range(1, 1000):
            read.append(i)
            yield waiting(i)

    assert plan(backlog(), [agent(1, capacity=2)]) == [(1, "a1"), (2, "a1")]  # type: ignore[arg-type]
    assert read == [1, 2]


def test_nobody_free_reads_nothing() -> None:
    def backlog() -> Iterator[tuple[TicketFacts, datetime]]:
        raise AssertionError("read")
        yield  # pragma: no cover

    assert plan(backlog(), [agent(1, load=5), agent(2, status=AgentStatus.AWAY)]) == []  # type: ignore[arg-type]


def test_in_claim_mode_every_ticket_someone_free_could_take_is_planned() -> None:
    ana = agent(1, capacity=1)
    tickets = [waiting(1), waiting(2), waiting(3, required_skills={"linux": 1})]
    assert plan(tickets, [ana], claim_mode=True) == [(1, "a1"), (2, "a1")]


def test_a_ticket_waiting_past_the_skills_timeout_is_planned_for_the_fallback_team() -> None:
    kai = agent(1, teams=frozenset({"tier2"}))
    timeouts = SkillsTimeout(
        normal=replace(SkillsTimeout().normal, widen=timedelta(minutes=10)), fallback_team="tier2"
    )
    fresh, old = waiting(1), (waiting(2)[0], NOW - timedelta(minutes=11))
    planned = plan_drain([fresh, old], [kai], NOW, timeouts=timeouts)
    assert [(t, a.name) for t, a in planned] == [(2, "a1")]


@settings(suppress_health_check=[HealthCheck.too_slow])  # big examples; a busy machine
@given(agents_strategy, st.lists(tickets_strategy, max_size=40, unique_by=lambda t: t.id))
def test_a_plan_never_overfills_an_agent_and_leaves_no_slot_a_skipped_ticket_fits(
    agents: list[AgentFacts], tickets: list[TicketFacts]
) -> None:
    planned = plan_drain([(t, NOW) for t in tickets], agents, NOW, timeouts=NO_TIMEOUT, policy=ALL)
    by_id = {t.id: t for t in tickets}
    taken: Counter[int] = Counter()
    in_channel: Counter[tuple[int, str]] = Counter()
    for ticket_id, chosen in planned:
        taken[chosen.id] += 1
        in_channel[chosen.id, by_id[ticket_id].channel] += 1
    left = []
    for a in agents:
        channel_load = dict(a.channel_load)
        for (agent_id, channel), n in in_channel.items():
            if agent_id == a.id:
                channel_load[channel] = channel_load.get(channel, 0) + n
        if taken[a.id]:
            assert a.load + taken[a.id] <= a.capacity, a
            for channel, limit in a.channel_capacity.items():
                assert channel_load.get(channel, 0) <= max(limit, a.channel_load.get(channel, 0))
        left.append(replace(a, load=a.load + taken[a.id], channel_load=channel_load))
    skipped = [t for t in tickets if t.id not in {i for i, _ in planned}]
    for t in skipped:  # loads only grow as the plan goes: what nobody could take, nobody can
        assert choose_agent(t, left, NOW, policy=ALL).agent is None, t


def test_the_agent_a_ticket_was_taken_from_is_passed_over_while_another_can_take_it() -> None:
    ana, ben = agent(1, load=0), agent(2, load=3)  # ana would be chosen: the lighter load
    assert plan([waiting(7)], [ana, ben], avoid={7: 1}) == [(7, "a2")]
    assert plan([waiting(7)], [ana], avoid={7: 1}) == [(7, "a1")]  # nobody else: ana after all
    assert plan([waiting(8)], [ana, ben], avoid={7: 1}) == [(8, "a1")]  # only for that ticket


def test_each_ticket_relaxes_by_its_own_teams_skills_timeout() -> None:
    widened = SkillsTimeout(normal=RelaxAfter(widen=timedelta(minutes=10)), fallback_team="tier2")
    helper = agent(1, teams=frozenset({"tier2"}))
    old = (waiting(1, team="billing")[0], NOW - timedelta(hours=1))
    also_old = (waiting(2, team="support")[0], NOW - timedelta(hours=1))
    planned = plan_drain(
        [old, also_old], [helper], NOW, timeouts={"billing": widened, "support": NO_TIMEOUT}
    )
    assert [(t, a.name) for t, a in planned] == [(1, "a1")]  # support never widens


LAYOUT_FALLBACKS: dict[int, int | None] = {1: None, 2: None, 3: 1, 4: None, 5: None}
LAYOUT_MEMBERS = {1: {10}, 2: {11}, 3: {12}, 4: {11, 13}, 5: {14}}


def test_teams_that_share_agents_directly_or_by_fallback_are_drained_as_one() -> None:
    assert drain_group(1, LAYOUT_FALLBACKS, LAYOUT_MEMBERS) == {1, 3}  # 3 falls back to 1
    assert drain_group(3, LAYOUT_FALLBACKS, LAYOUT_MEMBERS) == {1, 3}
    assert drain_group(2, LAYOUT_FALLBACKS, LAYOUT_MEMBERS) == {2, 4}  # agent 11 in both
    assert drain_group(5, LAYOUT_FALLBACKS, LAYOUT_MEMBERS) == {5}


def test_a_team_in_claim_mode_is_drained_on_its_own_and_joins_no_group() -> None:
    assert drain_group(2, LAYOUT_FALLBACKS, LAYOUT_MEMBERS, claim_mode={4}) == {2}
    assert drain_group(4, LAYOUT_FALLBACKS, LAYOUT_MEMBERS, claim_mode={4}) == {4}


@given(
    st.dictionaries(st.integers(1, 8), st.frozensets(st.integers(1, 12), max_size=4), min_size=1),
    st.data(),
)
def test_a_drain_group_is_the_same_from_any_of_its_teams(
    members: dict[int, frozenset[int]], data: st.DataObject
) -> None:
    teams = sorted(members)
    fallbacks = {t: data.draw(st.sampled_from([None, *teams])) for t in teams}
    for team in teams:
        group = drain_group(team, fallbacks, members)
        assert team in group
        for other in group:
            assert drain_group(other, fallbacks, members) == group
