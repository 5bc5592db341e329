"""Routing under stress: several `relaydesk worker` processes route at once on PostgreSQL.

Tickets with different skill needs arrive while every ticket is also routed a
second and third time (as redeliveries would) and agents come and go. Then,
once the backlog drain has run, the store must show: no ticket assigned twice,
no agent past capacity overall or in a channel, every assignee qualified, and
no waiting ticket that an agent with a free slot could have taken.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from config import load_settings
from config.settings import Settings
from router.envelopes import InboundMessage
from router.errors import InvalidTransition, PermanentError
from router.lifecycle import is_active
from router.selection import choose_agent
from router.vocabulary import AgentStatus, Channel, Status
from store.models import AuditEvent, InboxItem, Ticket
from tests.support.processes import Background, migrated_env, wait_until
from tests.support.services import fresh_postgres_database
from workers.channels.intake import StoreIntake
from workers.desk.agents import set_agent_status
from workers.desk.assignments import assign_ticket, unassign_ticket
from workers.desk.ticket_status import set_ticket_status
from workers.runtime.build import build_runtime
from workers.runtime.context import Runtime
from workers.runtime.routing_policy import selection_policy

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SKILLS = ("billing", "linux", "german")
CONFIG = """
[helpdesk]
default_team = "desk"
acknowledge = false
[smtp]
transport = "file"
file_dir = "{outbox}"
[broker]
namespace = "{namespace}"
[routing]
prefer_senior_for = ["urgent"]
return_on_offline = true
[scheduler]
interval_s = 0.2

[[rules.all_match]]
name = "billing"
when = {{ keywords = ["billing"] }}
set = {{ required_skills = {{ billing = 2 }} }}
[[rules.all_match]]
name = "linux"
when = {{ keywords = ["linux"] }}
set = {{ required_skills = {{ linux = 3 }} }}
[[rules.all_match]]
name = "german"
when = {{ keywords = ["german"] }}
set = {{ optional_skills = {{ german = 2 }} }}
[[rules.all_match]]
name = "urgent"
when = {{ keywords = ["urgent"] }}
set = {{ priority = "urgent" }}

[[teams]]
name = "desk"
{agents}
"""


def _agents(rng: random.Random) -> str:
    blocks = []
    for i in range(8):
        skills = {s: rng.randint(1, 5) for s in SKILLS if rng.random() < 0.6}
        limit = f"channel_capacity = {{ web = {rng.randint(1, 3)} }}\n" if i % 3 == 0 else ""
        blocks.append(
            f'[[agents]]\nname = "a{i}"\nemail = "a{i}@desk.test"\nteams = ["desk"]\n'
            f'status = "online"\ncapacity = {rng.randint(2, 5)}\nseniority = {rng.randint(0, 6)}\n'
            f"skills = {{ {', '.join(f'{k} = {v}' for k, v in skills.items())} }}\n{limit}"
        )
    return "\n".join(blocks)


@pytest.fixture
def deployment(redis_url: str, tmp_path: Path) -> Iterator[tuple[Settings, dict[str, str]]]:
    namespace = f"t{uuid.uuid4().hex[:8]}"
    config = tmp_path / "relaydesk.toml"
    config.write_text(
        CONFIG.format(
            outbox=tmp_path / "outbox", namespace=namespace, agents=_agents(random.Random(7))
        )
    )
    try:
        with fresh_postgres_database() as pg_url:
            env, _ = migrated_env(config, pg_url, redis_url)
            yield load_settings(config, environ=env), env
    finally:
        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(f"{namespace}*"):
            client.delete(key)


def _submit(runtime: Runtime, rng: random.Random, count: int, *, first: int = 0) -> None:
    intake = StoreIntake(runtime)
    words = ("billing", "linux", "german", "urgent", "printer", "password")
    for i in range(first, first + count):
        subject = " ".join(rng.sample(words, rng.randint(1, 3)))
        intake.accept(
            InboundMessage(
                channel=Channel.WEB,
                idempotency_key=f"stress-{i}",
                sender_address=f"c{i}@example.org",
                subject=f"{subject} {i}",
                body_text="help",
            )
        )


def _settled(runtime: Runtime, count: int) -> bool:
    with runtime.db.unit_of_work() as uow:
        done = uow.session.scalar(
            select(func.count()).select_from(InboxItem).where(InboxItem.state == "done")
        )
    return done == count


def test_many_routing_processes_never_double_assign_overfill_or_leave_a_slot_idle(
    deployment: tuple[Settings, dict[str, str]],
) -> None:
    settings, env = deployment
    rng = random.Random(11)
    worker = Background(["worker", "--processes", "3", "--threads", "4"], env)
    scheduler = Background(["scheduler"], env)  # its drains, not the test's, must finish
    runtime = build_runtime(settings, pool_size=8)
    try:
        worker.wait_for_output("3 processes x 4 threads")
        _submit(runtime, rng, 90)
        wait_until(lambda: _settled(runtime, 90), 60, worker.output)
        with runtime.db.unit_of_work() as uow:
            tickets = list(uow.session.scalars(select(Ticket.id)))
        for _ in range(2):  # redeliveries: every ticket routed again, all at once
            for ticket_id in tickets:
                runtime.enqueue_route(ticket_id)
        _meanwhile(runtime, tickets, rng)  # resolves, returns, hand moves, agents coming/going
        wait_until(lambda: _queues_empty(runtime), 60, worker.output)
        wait_until(lambda: _nothing_waits_for_a_free_agent(runtime), 30, scheduler.output)
        _check_invariants(runtime)
    finally:
        assert scheduler.stop() == 0, scheduler.output()
        assert worker.stop() == 0, worker.output()
        runtime.close()


def test_an_agent_going_offline_under_continuous_intake_keeps_none_of_its_new_or_open_tickets(
    deployment: tuple[Settings, dict[str, str]],
) -> None:
    settings, env = deployment
    worker = Background(["worker", "--processes", "3", "--threads", "4"], env)
    scheduler = Background(["scheduler"], env)
    runtime = build_runtime(settings, pool_size=8)
    stop = threading.Event()

    def intake() -> None:  # a steady stream: routers claim slots whenever one is free
        rng, first = random.Random(3), 0
        while not stop.is_set():
            _submit(runtime, rng, 5, first=first)
            first += 5

    feeder = threading.Thread(target=intake)
    left_behind: list[tuple[int, list[int]]] = []
    try:
        with runtime.db.unit_of_work() as uow:  # room for many claims in flight at each flip
            a1 = uow.agents.by_name("a1")
            assert a1 is not None
            a1.capacity = 40
        worker.wait_for_output("3 processes x 4 threads")
        feeder.start()
        wait_until(lambda: _waiting(runtime) >= 20, 120, worker.output)  # every agent busy
        rng = random.Random(5)
        for flip in range(25):
            set_agent_status(runtime, "a1", AgentStatus.ONLINE)  # the drain fills its slots
            stop.wait(rng.uniform(0.0, 0.3))  # a random moment while routers claim them
            set_agent_status(runtime, "a1", AgentStatus.OFFLINE)
            kept = _active_tickets_of(runtime, "a1")  # offline: no router can add one now
            if kept:
                left_behind.append((flip, kept))
        stop.set()
        feeder.join()
        assert not left_behind, f"offline with new or open tickets (flip, tickets): {left_behind}"
    finally:
        stop.set()
        if feeder.is_alive():
            feeder.join()
        assert scheduler.stop() == 0, scheduler.output()
        assert worker.stop() == 0, worker.output()
        runtime.close()


def _waiting(runtime: Runtime) -> int:
    with runtime.db.unit_of_work() as uow:
        return int(
            uow.session.scalar(
                select(func.count())
                .select_from(Ticket)
                .where(Ticket.assignee_id.is_(None), Ticket.status == Status.NEW.value)
            )
            or 0
        )


def _active_tickets_of(runtime: Runtime, name: str) -> list[int]:
    with runtime.db.unit_of_work() as uow:
        agent = uow.agents.by_name(name)
        assert agent is not None
        return [t.id for t in uow.tickets.assigned_to(agent.id, (Status.NEW, Status.OPEN))]


def _meanwhile(runtime: Runtime, tickets: list[int], rng: random.Random) -> None:
    """Operators at work while the routers run: every operation from its own thread."""
    plan: list[tuple[str, int | str]] = []
    for ticket_id in rng.sample(tickets, 30):
        plan.append((rng.choice(("resolve", "unassign", "assign")), ticket_id))
    for name in ("a1", "a4", "a6", "a1", "a4"):
        plan.append(("toggle", name))
    rng.shuffle(plan)

    def act(step: tuple[str, int | str]) -> None:
        what, target = step
        try:
            if what == "toggle":
                set_agent_status(runtime, str(target), AgentStatus.OFFLINE)
                set_agent_status(runtime, str(target), AgentStatus.ONLINE)
            elif what == "resolve":
                set_ticket_status(runtime, int(target), Status.RESOLVED, reason="stress")
            elif what == "unassign":
                unassign_ticket(runtime, int(target), reason="stress")
            else:
                assign_ticket(runtime, int(target), f"a{int(target) % 8}", reason="stress")
        except (PermanentError, InvalidTransition):
            pass  # refused (no assignee, full agent, already resolved): the point is the race

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(act, plan))


def _nothing_waits_for_a_free_agent(runtime: Runtime) -> bool:
    try:
        _no_eligible_ticket_waits(runtime)
    except AssertionError:
        return False
    return True


def _queues_empty(runtime: Runtime) -> bool:
    broker = runtime.broker
    client = broker.client  # type: ignore[attr-defined]
    namespace = runtime.settings.broker.namespace
    pending = sum(client.llen(f"{namespace}:{q}") for q in ("route", "ingest.web"))
    acks = client.keys(f"{namespace}:__acks__.*.route") + client.keys(
        f"{namespace}:__acks__.*.ingest.web"
    )
    return pending == 0 and not any(client.scard(k) for k in acks)


def _no_eligible_ticket_waits(runtime: Runtime) -> None:
    now = runtime.now()
    policy = selection_policy(runtime.settings.routing)
    with runtime.db.unit_of_work() as uow:
        team = uow.agents.team_id("desk")
        members = [m.facts for m in uow.agents.routing_candidates({team: "desk"}, "web")]
        waiting = list(
            uow.session.scalars(
                select(Ticket.id).where(
                    Ticket.assignee_id.is_(None),
                    Ticket.status.in_([Status.NEW.value, Status.OPEN.value]),
                )
            )
        )
        for ticket_id in waiting:
            found = uow.tickets.lock_for_routing(ticket_id)
            assert found is not None
            decision = choose_agent(found.facts, members, now, policy=policy)
            assert decision.agent is None, f"#{ticket_id} waits while {decision.agent} is free"


def _check_invariants(runtime: Runtime) -> None:
    with runtime.db.unit_of_work() as uow:
        members = {
            m.facts.id: m.facts
            for m in uow.agents.routing_candidates({uow.agents.team_id("desk"): "desk"}, "web")
        }
        tickets = list(uow.session.scalars(select(Ticket)))
        events = uow.session.execute(
            select(AuditEvent.ticket_id, AuditEvent.action, AuditEvent.actor)
            .where(
                AuditEvent.action.in_(
                    ("ticket.assigned", "ticket.unassigned", "ticket.transferred")
                )
            )
            .order_by(AuditEvent.id)
        ).all()
    routed: Counter[int] = Counter()
    returned: Counter[int] = Counter()
    last_by: dict[int, str] = {}
    for ticket_id, action, actor in events:
        assert ticket_id is not None  # selected by ticket
        if action == "ticket.assigned":
            last_by[ticket_id] = actor
            routed[ticket_id] += actor == "system:route"
        else:
            returned[ticket_id] += 1
    for ticket_id, n in routed.items():  # a router assigns a ticket only when it is free
        assert n <= 1 + returned[ticket_id], f"#{ticket_id} routed {n} times"
    active = Counter(
        t.assignee_id for t in tickets if t.assignee_id and is_active(Status(t.status))
    )
    for agent in members.values():  # the load is exact: no slot taken twice, none lost
        assert agent.load == active[agent.id], agent
        web_limit = agent.channel_capacity.get("web")
        assert web_limit is None or active[agent.id] <= web_limit, agent
    for ticket in tickets:
        if ticket.assignee_id is None or last_by.get(ticket.id) != "system:route":
            continue  # a person may assign anyone; routing never assigns the unqualified
        agent = members[ticket.assignee_id]
        assert active[agent.id] <= agent.capacity, agent
        for skill, level in (ticket.required_skills or {}).items():
            assert agent.skills.get(skill, 0) >= level, (ticket.id, agent.name, skill)
    _no_eligible_ticket_waits(runtime)
    assert sum(active.values()) > 20
    waiting = [t for t in tickets if t.assignee_id is None and is_active(Status(t.status))]
    assert waiting, "every ticket found an agent: the test proves nothing about waiting"
