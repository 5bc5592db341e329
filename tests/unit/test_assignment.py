from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from router.assignment import AgentFacts, TicketFacts, choose_agent
from router.vocabulary import AgentStatus, Priority

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TICKET = TicketFacts(id=1, team="support", priority=Priority.NORMAL, created_at=NOW)


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


agents_strategy = st.lists(
    st.builds(
        AgentFacts,
        id=st.integers(1, 10_000),
        name=st.text(min_size=1, max_size=5),
        status=st.sampled_from(list(AgentStatus)),
        capacity=st.integers(0, 6),
        load=st.integers(0, 8),
        teams=st.frozensets(st.sampled_from(["support", "billing"]), max_size=2),
        last_assigned_at=st.none() | st.datetimes(timezones=st.just(UTC)),
    ),
    max_size=30,
    unique_by=lambda a: a.id,
)


@given(agents_strategy)
def test_the_choice_is_always_eligible_and_never_exceeds_capacity(agents: list[AgentFacts]) -> None:
    decision = choose_agent(TICKET, agents, NOW)
    for chosen in decision.ranked:
        assert chosen.status is AgentStatus.ONLINE
        assert "support" in chosen.teams
        assert chosen.load + 1 <= chosen.capacity
    eligible = [
        a
        for a in agents
        if a.status is AgentStatus.ONLINE and "support" in a.teams and a.load < a.capacity
    ]
    assert len(decision.ranked) == len(eligible)


@given(agents_strategy)
def test_no_eligible_agent_is_ranked_after_one_with_a_higher_load_ratio(
    agents: list[AgentFacts],
) -> None:
    ranked = choose_agent(TICKET, agents, NOW).ranked
    ratios = [a.load / a.capacity for a in ranked]
    assert ratios == sorted(ratios)
