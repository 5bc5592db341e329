"""Routing under stress: several `relaydesk worker` processes route at once on PostgreSQL.

Tickets with different skill needs arrive while every ticket is also routed a
second and third time (as redeliveries would) and agents come and go. Then,
once the backlog drain has run, the store must show: no ticket assigned twice,
no agent past capacity overall or in a channel, every assignee qualified, and
no waiting ticket that an agent with a free slot could have taken.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from config import load_settings
from config.settings import Settings
from router.assignment import choose_agent
from router.envelopes import InboundMessage
from router.lifecycle import is_active
from router.vocabulary import AgentStatus, Channel, Status
from store.models import AuditEvent, InboxItem, Ticket
from tests.support.processes import Background, relaydesk_env, run, wait_until
from tests.support.services import REDIS_URL, fresh_postgres_database, require
from workers.intake import StoreIntake
from workers.operations import set_agent_status
from workers.route import drain_backlog
from workers.route_policy import selection_policy
from workers.runtime import Runtime, build_runtime

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
def deployment(tmp_path: Path) -> Iterator[tuple[Settings, dict[str, str]]]:
    require("Redis", "127.0.0.1", 6379)
    namespace = f"t{uuid.uuid4().hex[:8]}"  # this test's keys only: others may share Redis
    config = tmp_path / "relaydesk.toml"
    config.write_text(
        CONFIG.format(
            outbox=tmp_path / "outbox", namespace=namespace, agents=_agents(random.Random(7))
        )
    )
    try:
        with fresh_postgres_database() as pg_url:
            env = relaydesk_env(
                config, RELAYDESK_DATABASE_URL=pg_url, RELAYDESK_BROKER_URL=REDIS_URL
            )
            migrated = run(["migrate"], env)
            assert migrated.returncode == 0, migrated.stderr
            yield load_settings(config, environ=env), env
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{namespace}*"):
            client.delete(key)


def _submit(runtime: Runtime, rng: random.Random, count: int) -> None:
    intake = StoreIntake(runtime)
    words = ("billing", "linux", "german", "urgent", "printer", "password")
    for i in range(count):
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
    runtime = build_runtime(settings, pool_size=4)
    try:
        worker.wait_for_output("3 processes x 4 threads")
        _submit(runtime, rng, 90)
        wait_until(lambda: _settled(runtime, 90), 60, worker.output)
        with runtime.db.unit_of_work() as uow:
            tickets = list(uow.session.scalars(select(Ticket.id)))
        for _ in range(2):  # redeliveries: every ticket routed again, all at once
            for ticket_id in tickets:
                runtime.enqueue_route(ticket_id)
        for name in ("a1", "a4", "a6"):  # agents come and go meanwhile
            set_agent_status(runtime, name, AgentStatus.OFFLINE)
            set_agent_status(runtime, name, AgentStatus.ONLINE)
        wait_until(lambda: _queues_empty(runtime), 60, worker.output)
    finally:
        assert worker.stop() == 0, worker.output()
    try:
        with runtime.db.unit_of_work() as uow:
            desk = uow.agents.team_id("desk")
        drain_backlog(runtime, desk)
        _check_invariants(runtime)
    finally:
        runtime.close()


def _queues_empty(runtime: Runtime) -> bool:
    broker = runtime.broker
    client = broker.client  # type: ignore[attr-defined]
    namespace = runtime.settings.broker.namespace
    pending = sum(client.llen(f"{namespace}:{q}") for q in ("route", "ingest.web"))
    acks = client.keys(f"{namespace}:__acks__.*.route") + client.keys(
        f"{namespace}:__acks__.*.ingest.web"
    )
    return pending == 0 and not any(client.scard(k) for k in acks)


def _check_invariants(runtime: Runtime) -> None:
    now = runtime.now()
    with runtime.db.unit_of_work() as uow:
        members = {
            m.facts.id: m.facts
            for m in uow.agents.routing_candidates({uow.agents.team_id("desk"): "desk"}, "web")
        }
        tickets = list(uow.session.scalars(select(Ticket)))
        assigned_events = Counter(
            uow.session.scalars(
                select(AuditEvent.ticket_id).where(AuditEvent.action == "ticket.assigned")
            )
        )
        waiting = [t.id for t in tickets if t.assignee_id is None and is_active(Status(t.status))]
        waiting_facts = [uow.tickets.lock_for_routing(t) for t in waiting]
    assert all(n == 1 for n in assigned_events.values()), "a ticket was assigned twice"
    active = Counter(
        t.assignee_id for t in tickets if t.assignee_id and is_active(Status(t.status))
    )
    for agent in members.values():
        assert agent.load == active[agent.id] <= agent.capacity, agent
        web_limit = agent.channel_capacity.get("web")
        assert web_limit is None or active[agent.id] <= web_limit, agent
    for ticket in tickets:
        if ticket.assignee_id is None:
            continue
        agent = members[ticket.assignee_id]
        for skill, level in (ticket.required_skills or {}).items():
            assert agent.skills.get(skill, 0) >= level, (ticket.id, agent.name, skill)
    policy = selection_policy(runtime.settings.routing)
    for found in waiting_facts:
        assert found is not None
        decision = choose_agent(found.facts, list(members.values()), now, policy=policy)
        assert decision.agent is None, f"#{found.facts.id} waits while {decision.agent} is free"
    assert len(assigned_events) == sum(active.values()) > 20
    assert waiting_facts, "every ticket found an agent: the test proves nothing about waiting"
