"""Latency of routing's agent selection, against a bare scan of the same agents.

    python -m benchmarks.routing [--agents 1000] [--skills 50] [--tickets 5000]
        [--warmup 500] [--seed 7] [--phases pure,e2e] [--skip-e2e]
        [--e2e-tickets 2000] [--e2e-agents 200] [--processes 2] [--threads 4]

Phase ``pure`` (no IO): builds, from ``--seed``, N agents x K skills (levels
1-5, each skill held by 60% of agents; online 60% / away 20% / offline 20%;
1-2 of 5 teams; capacity 3-8 with a random load; seniority 0-10; a third
with a Telegram capacity of 1-3; idle up to 8 hours or never assigned) and
tickets with 1-3 required skills (minimum 1-3) and 0-3 optional ones (minimum
1-5), of every priority and channel, urgent and high preferring seniors.
Every ticket is decided against all N agents (a superset of a team's members,
what the route worker passes), each ``choose_agent`` call timed on its own
with ``time.perf_counter_ns`` after a warm-up. The baseline is one bare pass
over the same agents (``status is ONLINE``), the floor of any scan.

Phase ``e2e`` (``benchmarks/routing_e2e.py`` says how): routing throughput
end to end on PostgreSQL and Redis, ``--e2e-tickets`` real tickets made
beforehand and routed by ``--processes`` worker processes of ``--threads``
threads, ``--e2e-agents`` agents with skills; it needs a few minutes, and the
servers. ``--skip-e2e`` runs the pure phase alone. Each phase is a function of
the parsed arguments returning its key=value pairs, in ``PHASES``.

The last line is key=value pairs: decision_p50_us, decision_p99_us, agents,
skills, then decision_max_us, decisions_per_s, eligible_mean, no_agent_pct,
scan_us (the baseline) and p50_over_scan; then, from ``e2e``, routed_per_s
(tickets / s from the first route message sent to the last route finished),
e2e_tickets, e2e_processes, e2e_threads, e2e_agents, e2e_assigned_pct (the rest
wait), e2e_p50_ms and e2e_p99_ms (route message sent -> route committed, all
sent at once: mostly queueing), route_p50_ms and route_p99_ms (one route in the
worker), worker_cpu_ms_per_route, pg_cpu_ms_per_route and sql_per_route.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from router.routing_facts import AgentFacts, TicketFacts
from router.selection import SelectionPolicy, choose_agent
from router.vocabulary import AgentStatus, Channel, Priority

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TEAMS = ("support", "billing", "tech", "sales", "vip")
STATUSES = (AgentStatus.ONLINE, AgentStatus.AWAY, AgentStatus.OFFLINE)
STATUS_WEIGHTS = (0.6, 0.2, 0.2)
CHANNELS = tuple(c.value for c in Channel)
# as the route worker runs it (workers.runtime.routing_policy.selection_policy): every eligible
# agent ranked, no shortlist
POLICY = SelectionPolicy(
    prefer_senior_for=frozenset({Priority.URGENT, Priority.HIGH}), shortlist=None
)

Metrics = dict[str, str]


def build_agents(rng: random.Random, count: int, skills: list[str]) -> list[AgentFacts]:
    agents = []
    for i in range(count):
        capacity = rng.randint(3, 8)
        telegram = rng.randint(1, 3) if rng.random() < 1 / 3 else None
        agents.append(
            AgentFacts(
                id=i + 1,
                name=f"agent{i + 1}",
                status=rng.choices(STATUSES, STATUS_WEIGHTS)[0],
                capacity=capacity,
                load=rng.randint(0, capacity),
                teams=frozenset(rng.sample(TEAMS, rng.randint(1, 2))),
                last_assigned_at=(
                    None if rng.random() < 0.1 else NOW - timedelta(minutes=rng.randint(0, 480))
                ),
                skills={s: rng.randint(1, 5) for s in skills if rng.random() < 0.6},
                seniority=rng.randint(0, 10),
                channel_capacity={"telegram": telegram} if telegram else {},
                channel_load={"telegram": rng.randint(0, telegram)} if telegram else {},
            )
        )
    return agents


def build_tickets(rng: random.Random, count: int, skills: list[str]) -> list[TicketFacts]:
    tickets = []
    for i in range(count):
        named = rng.sample(skills, min(6, len(skills)))
        required = {s: rng.randint(1, 5) for s in named[: rng.randint(1, 3)]}
        optional = {s: rng.randint(1, 5) for s in named[3 : 3 + rng.randint(0, 3)]}
        tickets.append(
            TicketFacts(
                id=i + 1,
                team=rng.choice(TEAMS),
                priority=rng.choice(list(Priority)),
                created_at=NOW - timedelta(minutes=rng.randint(0, 600)),
                channel=rng.choice(CHANNELS),
                required_skills=required,
                optional_skills=optional,
            )
        )
    return tickets


def percentile(sorted_values: list[float], q: float) -> float:
    index = min(round(q * (len(sorted_values) - 1)), len(sorted_values) - 1)
    return sorted_values[index]


def pure_phase(args: argparse.Namespace) -> Metrics:
    rng = random.Random(args.seed)
    skills = [f"skill{k:02d}" for k in range(args.skills)]
    agents = build_agents(rng, args.agents, skills)
    tickets = build_tickets(rng, args.warmup + args.tickets, skills)
    for ticket in tickets[: args.warmup]:
        choose_agent(ticket, agents, NOW, policy=POLICY)

    scan = []
    online = AgentStatus.ONLINE
    for _ in range(200):
        start = time.perf_counter_ns()
        sum(1 for a in agents if a.status is online)
        scan.append((time.perf_counter_ns() - start) / 1000)

    timings: list[float] = []
    eligible: list[int] = []
    gc.collect()
    began = time.perf_counter_ns()
    for ticket in tickets[args.warmup :]:
        start = time.perf_counter_ns()
        decision = choose_agent(ticket, agents, NOW, policy=POLICY)
        timings.append((time.perf_counter_ns() - start) / 1000)
        eligible.append(decision.eligible)
    wall_s = (time.perf_counter_ns() - began) / 1e9

    timings.sort()
    p50, p99, worst = percentile(timings, 0.5), percentile(timings, 0.99), timings[-1]
    scan_us = statistics.median(scan)
    no_agent = 100 * sum(1 for e in eligible if e == 0) / len(eligible)
    print(
        f"pure selection: {args.agents} agents x {args.skills} skills, "
        f"{args.tickets} decisions after {args.warmup} warm-up, "
        f"shortlist {POLICY.shortlist}"
    )
    print(
        f"  eligible per decision: mean {statistics.fmean(eligible):.1f}, "
        f"none for {no_agent:.1f}% of tickets"
    )
    print(
        f"  decision: p50 {p50:.0f} µs, p99 {p99:.0f} µs, max {worst:.0f} µs; "
        f"{len(timings) / wall_s:,.0f} decisions/s (target p99 <= 1000 µs)"
    )
    print(f"  baseline, a bare scan of the agents: {scan_us:.0f} µs ({p50 / scan_us:.1f}x)")
    return {
        "decision_p50_us": f"{p50:.0f}",
        "decision_p99_us": f"{p99:.0f}",
        "agents": str(args.agents),
        "skills": str(args.skills),
        "decision_max_us": f"{worst:.0f}",
        "decisions_per_s": f"{len(timings) / wall_s:.0f}",
        "eligible_mean": f"{statistics.fmean(eligible):.1f}",
        "no_agent_pct": f"{no_agent:.1f}",
        "scan_us": f"{scan_us:.0f}",
        "p50_over_scan": f"{p50 / scan_us:.1f}",
    }


def e2e_phase(args: argparse.Namespace) -> Metrics:
    from benchmarks.routing_e2e import e2e_phase as run  # the store, broker and workers

    return run(args)


PHASES: dict[str, Callable[[argparse.Namespace], Metrics]] = {"pure": pure_phase, "e2e": e2e_phase}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--skills", type=int, default=50)
    parser.add_argument("--tickets", type=int, default=5000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--phases", default="pure,e2e", help=f"comma-separated, of: {', '.join(PHASES)}"
    )
    parser.add_argument("--skip-e2e", action="store_true", help="The pure phase only.")
    parser.add_argument("--e2e-tickets", type=int, default=2000, help="Tickets routed (e2e).")
    parser.add_argument("--e2e-agents", type=int, default=200, help="Agents of the team (e2e).")
    parser.add_argument("--processes", type=int, default=2, help="Worker processes (e2e).")
    parser.add_argument("--threads", type=int, default=4, help="Threads per worker (e2e).")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.phases.split(",") if n.strip()]
    metrics: Metrics = {}
    for name in names:
        if not (args.skip_e2e and name == "e2e"):
            metrics.update(PHASES[name](args))
    print(" ".join(f"{k}={v}" for k, v in metrics.items()))


if __name__ == "__main__":
    main()
