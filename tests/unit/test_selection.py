from __future__ import annotations

import itertools
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from router.backlog import RelaxAfter, SkillsTimeout, backlog_key, relax_requirements
from router.routing_facts import AgentFacts, TicketFacts
from router.selection import Decision, SelectionPolicy, choose_agent, explain
from router.vocabulary import AgentStatus, Priority

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TICKET = TicketFacts(id=1, team="support", priority=Priority.NORMAL, created_at=NOW)
SKILLS = ("billing", "german", "tech", "sales")
ALL = SelectionPolicy(shortlist=None)


def agent(i: int, **kw: object) -> AgentFacts:
    base: dict[str, object] = {
        "id": i,
        "name": f"a{i}",
        "status": AgentStatus.ONLINE,
        "capacity": 5,
        "load": 0,
        "teams": frozenset({"support"}),
        "last_assigned_at": None,
    }
    base.update(kw)
    return AgentFacts(**base)  # type: ignore[arg-type]


def ticket(**kw: object) -> TicketFacts:
    return replace(TICKET, **kw)  # type: ignore[arg-type]


def names(decision: Decision) -> list[str]:
    return [a.name for a in decision.ranked]


def test_the_least_loaded_agent_is_chosen_and_the_reason_names_the_load() -> None:
    decision = choose_agent(TICKET, [agent(1, load=3), agent(2, load=1)], NOW)
    assert decision.agent is not None and decision.agent.name == "a2"
    assert "load 1/5" in decision.reasons[0]


def test_load_is_compared_as_a_ratio_of_capacity() -> None:
    decision = choose_agent(
        TICKET, [agent(1, load=2, capacity=10), agent(2, load=1, capacity=2)], NOW
    )
    assert decision.agent is not None and decision.agent.name == "a1"


def test_among_equals_the_agent_idle_longest_goes_first() -> None:
    recent = agent(1, last_assigned_at=NOW - timedelta(minutes=1))
    idle = agent(2, last_assigned_at=NOW - timedelta(minutes=30))
    decision = choose_agent(TICKET, [recent, idle], NOW)
    assert decision.agent is not None and decision.agent.name == "a2"
    assert "idle 30 min" in decision.reasons[0]


def test_offline_full_and_other_team_agents_are_not_eligible_and_say_why() -> None:
    decision = choose_agent(
        TICKET,
        [
            agent(1, status=AgentStatus.AWAY),
            agent(2, load=5),
            agent(3, teams=frozenset({"billing"})),
        ],
        NOW,
    )
    assert decision.agent is None
    text = " ".join(decision.reasons)
    assert "a1: away" in text and "a2: full 5/5" in text and "a3" not in text


def test_old_positional_facts_still_construct_and_stay_hashable() -> None:
    old = AgentFacts(1, "ana", AgentStatus.ONLINE, 5, 0, frozenset({"support"}), None)
    skilled = agent(1, skills={"billing": 3}, channel_capacity={"telegram": 2})
    same = agent(1, skills={"billing": 3}, channel_capacity={"telegram": 2})
    assert old.skills == {} and TICKET.teams == ("support",) and TICKET.channel == "email"
    assert len({old, skilled, same}) == 2 and skilled.skills == {"billing": 3}


def test_an_agent_short_of_a_required_skill_is_not_eligible_and_the_reason_says_so() -> None:
    needs = ticket(required_skills={"billing": 2, "german": 1})
    decision = choose_agent(
        needs, [agent(1, name="ben", skills={"billing": 1, "german": 2}), agent(2, name="sam")], NOW
    )
    assert decision.agent is None
    assert "ben: billing 1 < 2" in decision.reasons
    assert "sam: lacks billing≥2, lacks german≥1" in decision.reasons


def test_an_agent_full_in_the_tickets_channel_is_not_eligible_though_free_overall() -> None:
    joe = agent(1, name="joe", channel_capacity={"telegram": 2}, channel_load={"telegram": 2})
    assert choose_agent(ticket(channel="telegram"), [joe], NOW).reasons[1:] == (
        "joe: full in telegram 2/2",
    )
    assert choose_agent(ticket(channel="email"), [joe], NOW).agent == joe


def test_a_higher_skill_match_wins_over_a_lower_load() -> None:
    needs = ticket(required_skills={"billing": 2})
    expert = agent(1, load=4, skills={"billing": 5})
    novice = agent(2, load=0, skills={"billing": 2})
    assert names(choose_agent(needs, [novice, expert], NOW)) == ["a1", "a2"]


def test_meeting_more_optional_skills_beats_higher_levels() -> None:
    needs = ticket(required_skills={"billing": 2}, optional_skills={"german": 2})
    speaks = agent(1, skills={"billing": 2, "german": 2})
    expert = agent(2, skills={"billing": 5, "german": 1})
    assert names(choose_agent(needs, [expert, speaks], NOW)) == ["a1", "a2"]


def test_the_chosen_agents_reason_lists_team_skills_load_idle_and_seniority() -> None:
    needs = ticket(
        priority=Priority.URGENT, required_skills={"billing": 2}, optional_skills={"german": 2}
    )
    ana = agent(
        1,
        load=1,
        skills={"billing": 3},
        seniority=4,
        last_assigned_at=NOW - timedelta(minutes=12, seconds=30),
    )
    policy = SelectionPolicy(prefer_senior_for=frozenset({Priority.URGENT}), senior_at=3)
    assert choose_agent(needs, [ana], NOW, policy=policy).reasons == (
        "team support, billing≥2 ✓ (3), german≥2 ✗ optional, load 1/5, idle 12 min, "
        "senior for urgent",
    )


def test_urgent_tickets_go_to_senior_agents_first_only_when_configured() -> None:
    junior = agent(1, skills={"billing": 5}, seniority=1)
    senior = agent(2, skills={"billing": 2}, seniority=5, load=3)
    policy = SelectionPolicy(prefer_senior_for=frozenset({Priority.URGENT, Priority.HIGH}))
    urgent = ticket(priority=Priority.URGENT, required_skills={"billing": 2})
    assert names(choose_agent(urgent, [junior, senior], NOW, policy=policy)) == ["a2", "a1"]
    assert names(choose_agent(urgent, [junior, senior], NOW)) == ["a1", "a2"]
    normal = replace(urgent, priority=Priority.NORMAL)
    assert names(choose_agent(normal, [junior, senior], NOW, policy=policy)) == ["a1", "a2"]


def test_the_ranked_shortlist_holds_the_best_ten_and_counts_every_eligible_agent() -> None:
    agents = [agent(i, load=i % 5) for i in range(1, 31)]
    decision = choose_agent(TICKET, agents, NOW)
    assert decision.eligible == 30 and len(decision.ranked) == 10
    assert decision.ranked == choose_agent(TICKET, agents, NOW, policy=ALL).ranked[:10]


def test_the_why_not_lines_put_online_agents_first_and_stop_after_ten() -> None:
    agents = [agent(i, status=AgentStatus.OFFLINE) for i in range(1, 20)]
    agents.append(agent(50, load=5))
    reasons = choose_agent(TICKET, agents, NOW).reasons
    assert reasons[0] == "no eligible agent in team support (20 members, 1 online)"
    assert reasons[1] == "a50: full 5/5" and reasons[2] == "a1: offline"
    assert len(reasons) == 12 and reasons[-1] == "and 10 more"


def test_a_widened_ticket_also_goes_to_the_fallback_team_and_says_so() -> None:
    tier2 = agent(7, teams=frozenset({"tier2"}))
    assert choose_agent(TICKET, [tier2], NOW).agent is None
    widened = ticket(widened_to=("tier2",))
    decision = choose_agent(widened, [tier2], NOW)
    assert decision.agent == tier2 and decision.reasons[0].startswith("team tier2 (widened)")


TIMEOUT = SkillsTimeout(
    urgent=RelaxAfter(drop_optional=timedelta(minutes=5), widen=timedelta(minutes=15)),
    normal=RelaxAfter(drop_optional=timedelta(minutes=15), widen=timedelta(minutes=40)),
    fallback_team="tier2",
)


def test_the_skills_timeout_drops_optional_skills_then_widens_to_the_fallback_team() -> None:
    needs = ticket(required_skills={"billing": 2}, optional_skills={"german": 2})
    assert relax_requirements(needs, timedelta(minutes=14), TIMEOUT) == (needs, ())
    dropped, why = relax_requirements(needs, timedelta(minutes=15), TIMEOUT)
    assert dropped == replace(needs, optional_skills={}) and why == (
        "waited 15 min: optional skills dropped",
    )
    widened, why = relax_requirements(needs, timedelta(minutes=40), TIMEOUT)
    assert widened.teams == ("support", "tier2") and widened.required_skills == {"billing": 2}
    assert why == (
        "waited 40 min: optional skills dropped",
        "waited 40 min: widened to team tier2",
    )
    assert relax_requirements(widened, timedelta(minutes=90), TIMEOUT) == (widened, ())


def test_the_skills_timeout_follows_the_priority_and_needs_a_fallback_team_to_widen() -> None:
    urgent = ticket(priority=Priority.URGENT)
    assert relax_requirements(urgent, timedelta(minutes=15), TIMEOUT)[0].teams[-1] == "tier2"
    low = ticket(priority=Priority.LOW, optional_skills={"german": 2})
    assert relax_requirements(low, timedelta(days=3), TIMEOUT) == (low, ())
    no_fallback = replace(TIMEOUT, fallback_team=None)
    assert relax_requirements(urgent, timedelta(hours=1), no_fallback) == (urgent, ())


def test_waiting_for_optional_skills_holds_the_ticket_until_the_timeout_drops_them() -> None:
    policy = SelectionPolicy(wait_for_optional_skills=True)
    needs = ticket(optional_skills={"german": 2})
    ana = agent(1, name="ana")
    waiting = choose_agent(needs, [ana], NOW, policy=policy)
    assert waiting.agent is None and "ana: lacks german≥2 (optional)" in waiting.reasons
    relaxed, _ = relax_requirements(needs, timedelta(minutes=20), TIMEOUT)
    assert choose_agent(relaxed, [ana], NOW, policy=policy).agent == ana


def test_the_backlog_puts_urgent_first_then_the_nearest_sla_then_the_oldest() -> None:
    def t(i: int, priority: Priority, due: int | None, age: int) -> TicketFacts:
        return ticket(
            id=i,
            priority=priority,
            sla_due_at=None if due is None else NOW + timedelta(minutes=due),
            created_at=NOW - timedelta(minutes=age),
        )

    backlog = [
        t(1, Priority.LOW, 5, 100),
        t(2, Priority.NORMAL, None, 300),
        t(3, Priority.NORMAL, 60, 10),
        t(4, Priority.URGENT, None, 1),
        t(5, Priority.NORMAL, 30, 5),
        t(6, Priority.NORMAL, None, 400),
        t(7, Priority.NORMAL, None, 400),
    ]
    assert [x.id for x in sorted(backlog, key=backlog_key)] == [4, 5, 3, 6, 7, 2, 1]


# Property tests: an oracle written from the spec, against the implementation. Timing never
# goes in a test: no deadline, and slow generation on a busy machine is no failure.
PROPERTY = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

moments = (
    st.none()
    | st.sampled_from([NOW - timedelta(minutes=m) for m in (0, 5, 30, 600)])
    | st.integers(0, 10**6).map(lambda m: NOW - timedelta(minutes=m))
)
skill_maps = st.lists(st.integers(0, 5), min_size=len(SKILLS), max_size=len(SKILLS)).map(
    lambda levels: {s: level for s, level in zip(SKILLS, levels, strict=True) if level}
)
channel_maps = st.dictionaries(st.sampled_from(["telegram", "email"]), st.integers(0, 3))


@st.composite
def agent_facts(draw: st.DrawFn) -> AgentFacts:
    """Agents that are often eligible, so the properties are exercised on real choices."""
    capacity = draw(st.integers(0, 6))
    number = draw(st.integers(1, 10_000))
    return AgentFacts(
        id=number,
        name=f"a{number}",
        status=draw(st.sampled_from([AgentStatus.ONLINE] * 4 + [*AgentStatus])),
        capacity=capacity,
        load=draw(st.integers(0, max(capacity - 1, 0)) | st.integers(0, 8)),
        teams=draw(
            st.just(frozenset({"support"}))
            | st.frozensets(st.sampled_from(["support", "billing", "tier2"]), max_size=2)
        ),
        last_assigned_at=draw(moments),
        skills=draw(skill_maps),
        seniority=draw(st.integers(0, 5)),
        channel_capacity=draw(channel_maps),
        channel_load=draw(channel_maps),
    )


agents_strategy = st.lists(agent_facts(), max_size=30, unique_by=lambda a: a.id) | st.lists(
    agent_facts(), min_size=8, max_size=30, unique_by=lambda a: a.id
)
tickets_strategy = st.builds(
    TicketFacts,
    id=st.integers(1, 1000),
    team=st.sampled_from(["support", "support", "billing"]),
    priority=st.sampled_from(list(Priority)),
    created_at=st.just(NOW),
    channel=st.sampled_from(["email", "telegram", "web"]),
    required_skills=st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 3), max_size=2),
    optional_skills=st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 5), max_size=3),
    widened_to=st.sampled_from([(), ("tier2",)]),
)
policies = st.builds(
    SelectionPolicy,
    prefer_senior_for=st.frozensets(st.sampled_from(list(Priority))),
    senior_at=st.integers(0, 5),
    shortlist=st.none() | st.integers(1, 12),
    wait_for_optional_skills=st.booleans(),
)


def is_eligible(a: AgentFacts, t: TicketFacts, p: SelectionPolicy = ALL) -> bool:
    gate = dict(t.required_skills)
    gates = [gate, dict(t.optional_skills) if p.wait_for_optional_skills else {}]
    channel_full = (
        t.channel in a.channel_capacity
        and a.channel_load.get(t.channel, 0) >= a.channel_capacity[t.channel]
    )
    return (
        a.status is AgentStatus.ONLINE
        and bool(set(a.teams) & set(t.teams))
        and a.capacity > 0
        and a.load < a.capacity
        and not channel_full
        and all(a.skills.get(s, 0) >= m for g in gates for s, m in g.items())
    )


def spec_key(a: AgentFacts, t: TicketFacts, p: SelectionPolicy) -> tuple[object, ...]:
    met = sum(1 for s, m in t.optional_skills.items() if a.skills.get(s, 0) >= m)
    named = set(t.required_skills) | set(t.optional_skills)
    levels = sum(min(a.skills.get(s, 0), 5) for s in named)
    senior_first = t.priority in p.prefer_senior_for and a.seniority < p.senior_at
    idle_since = a.last_assigned_at or datetime.min.replace(tzinfo=UTC)
    return (senior_first, -met, -levels, Fraction(a.load, a.capacity), idle_since, a.id)


@PROPERTY
@given(agents_strategy, tickets_strategy, policies)
def test_every_ranked_agent_is_eligible_and_someone_is_picked_whenever_anyone_is(
    agents: list[AgentFacts], t: TicketFacts, p: SelectionPolicy
) -> None:
    decision = choose_agent(t, agents, NOW, policy=p)
    eligible = [a for a in agents if is_eligible(a, t, p)]
    assert all(is_eligible(a, t, p) for a in decision.ranked)
    assert decision.eligible == len(eligible)
    assert len(decision.ranked) == min(len(eligible), p.shortlist or len(eligible))
    assert (decision.agent is None) == (not eligible)
    if decision.agent is None:
        lines = decision.reasons[1:]
        assert len(lines) <= 11
        named = [line.split(": ")[0] for line in lines if ": " in line]
        assert all(not is_eligible(a, t, p) for a in agents if a.name in named)
        assert set(named) <= {a.name for a in agents if set(a.teams) & set(t.teams)}


@PROPERTY
@given(agents_strategy, tickets_strategy, policies)
def test_the_ranking_is_the_prefix_of_the_total_order_the_spec_states(
    agents: list[AgentFacts], t: TicketFacts, p: SelectionPolicy
) -> None:
    eligible = sorted((a for a in agents if is_eligible(a, t, p)), key=lambda a: spec_key(a, t, p))
    ranked = choose_agent(t, agents, NOW, policy=p).ranked
    assert [a.id for a in ranked] == [a.id for a in eligible][: len(ranked)]


@PROPERTY
@given(agents_strategy, tickets_strategy, policies, st.randoms(use_true_random=False))
def test_the_decision_does_not_depend_on_the_order_of_the_agents(
    agents: list[AgentFacts], t: TicketFacts, p: SelectionPolicy, rng: random.Random
) -> None:
    shuffled = list(agents)
    rng.shuffle(shuffled)
    assert choose_agent(t, agents, NOW, policy=p) == choose_agent(t, shuffled, NOW, policy=p)


@PROPERTY
@given(
    st.lists(moments, min_size=1, max_size=8),
    st.integers(1, 6),
    skill_maps,
    tickets_strategy.map(lambda t: replace(t, team="support", required_skills={}, channel="web")),
)
def test_among_equal_skill_and_load_the_agent_idle_longest_is_chosen(
    idle: list[datetime | None], load: int, skills: dict[str, int], t: TicketFacts
) -> None:
    agents = [
        agent(i, capacity=6, load=load - 1, skills=skills, last_assigned_at=last)
        for i, last in enumerate(idle, start=1)
    ]
    chosen = choose_agent(t, agents, NOW).agent
    assert chosen is not None
    never = datetime.min.replace(tzinfo=UTC)
    longest = min(agents, key=lambda a: (a.last_assigned_at or never, a.id))
    assert chosen == longest


@PROPERTY
@given(st.integers(2, 8), st.integers(1, 3), skill_maps)
def test_repeated_assignments_rotate_through_equal_agents(
    count: int, rounds: int, skills: dict[str, int]
) -> None:
    agents = {i: agent(i, capacity=rounds, skills=skills) for i in range(1, count + 1)}
    order = []
    for step in range(count * rounds):
        chosen = choose_agent(TICKET, list(agents.values()), NOW + timedelta(minutes=step)).agent
        assert chosen is not None
        order.append(chosen.id)
        agents[chosen.id] = replace(
            chosen, load=chosen.load + 1, last_assigned_at=NOW + timedelta(minutes=step)
        )
    first = order[:count]
    assert sorted(first) == list(agents) and order == first * rounds
    assert choose_agent(TICKET, list(agents.values()), NOW).agent is None  # all full now


@PROPERTY
@given(agents_strategy, tickets_strategy, policies, st.data())
def test_adding_an_optional_skill_never_ranks_the_agent_lower(
    agents: list[AgentFacts], t: TicketFacts, p: SelectionPolicy, data: st.DataObject
) -> None:
    p = replace(p, shortlist=None)
    if not agents or not t.optional_skills:
        return
    index = data.draw(st.integers(0, len(agents) - 1))
    before = agents[index]
    new = [s for s in t.optional_skills if s not in before.skills]
    if not new:
        return
    skill = data.draw(st.sampled_from(new))
    level = data.draw(st.integers(1, 5))
    after = replace(before, skills={**before.skills, skill: level})
    ranked_before = [a.id for a in choose_agent(t, agents, NOW, policy=p).ranked]
    changed = [*agents[:index], after, *agents[index + 1 :]]
    ranked_after = [a.id for a in choose_agent(t, changed, NOW, policy=p).ranked]
    if before.id in ranked_before:
        assert ranked_after.index(before.id) <= ranked_before.index(before.id)


@PROPERTY
@given(agents_strategy, tickets_strategy, st.integers(0, 120), st.integers(0, 120))
def test_waiting_longer_only_relaxes_and_relaxing_again_changes_nothing(
    agents: list[AgentFacts], t: TicketFacts, shorter: int, longer: int
) -> None:
    shorter, longer = sorted((shorter, longer))
    early, _ = relax_requirements(t, timedelta(minutes=shorter), TIMEOUT)
    late, _ = relax_requirements(t, timedelta(minutes=longer), TIMEOUT)
    for a in agents:
        assert not is_eligible(a, t) or is_eligible(a, early)
        assert not is_eligible(a, early) or is_eligible(a, late)
    assert relax_requirements(late, timedelta(minutes=longer), TIMEOUT) == (late, ())


@PROPERTY
@given(
    st.lists(
        st.builds(
            TicketFacts,
            id=st.integers(1, 50),
            team=st.just("support"),
            priority=st.sampled_from(list(Priority)),
            created_at=moments.filter(lambda m: m is not None),
            sla_due_at=moments,
        ),
        max_size=20,
        unique_by=lambda t: t.id,
    )
)
def test_the_backlog_order_is_total_and_follows_priority_then_due_then_age(
    backlog: list[TicketFacts],
) -> None:
    ordered = sorted(backlog, key=backlog_key)
    assert ordered == sorted(reversed(backlog), key=backlog_key)
    far = datetime.max.replace(tzinfo=UTC)
    for a, b in itertools.pairwise(ordered):
        assert (a.priority.rank, a.sla_due_at or far, a.created_at, a.id) <= (
            b.priority.rank,
            b.sla_due_at or far,
            b.created_at,
            b.id,
        )


def test_explain_names_a_channel_limit_and_a_never_assigned_agent() -> None:
    joe = agent(1, channel_capacity={"telegram": 3}, channel_load={"telegram": 1})
    text = explain(joe, ticket(channel="telegram"), NOW)
    assert text == "team support, load 0/5, telegram 1/3, never assigned, normal"
