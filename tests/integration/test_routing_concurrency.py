"""Many routers at once never overfill an agent, never assign a ticket twice, never idle a slot."""

from __future__ import annotations

import threading
from collections import Counter

from dramatiq.brokers.stub import StubBroker
from sqlalchemy import func, select

from router.envelopes import InboundMessage
from router.vocabulary import AgentStatus, Channel
from store.models import AuditEvent, Ticket
from tests.conftest import make_settings
from workers.channels.intake import StoreIntake
from workers.desk.agents import add_agent
from workers.runtime.build import build_runtime
from workers.runtime.processes import prepare_database
from workers.steps.drain import drain_backlog
from workers.steps.ingest import ingest
from workers.steps.route import Outcome, route


def test_concurrent_routers_fill_every_slot_exactly_once_and_no_more(database_url: str) -> None:
    settings = make_settings(database_url, relaydesk_helpdesk__acknowledge="false")
    runtime = build_runtime(settings, broker=StubBroker(), pool_size=10)
    try:
        prepare_database(runtime)
        with runtime.db.unit_of_work() as uow:  # only the agents of this test
            for name in ("ana", "ben", "sam"):
                uow.agents.by_name(name).status = AgentStatus.OFFLINE.value  # type: ignore[union-attr]
        for i in range(4):
            add_agent(
                runtime,
                name=f"agent{i}",
                email=f"agent{i}@x.org",
                teams=("support",),
                capacity=5,
                status=AgentStatus.ONLINE,
            )
        intake = StoreIntake(runtime)
        for i in range(30):
            receipt = intake.accept(
                InboundMessage(
                    channel=Channel.WEB,
                    idempotency_key=f"c{i}",
                    sender_address=f"c{i}@x.org",
                    subject=f"s{i}",
                    body_text="b",
                )
            )
            ingest(runtime, receipt.inbox_id)
        with runtime.db.unit_of_work() as uow:
            tickets = list(uow.session.scalars(select(Ticket.id)))
        outcomes: Counter[Outcome] = Counter()
        lock = threading.Lock()
        barrier = threading.Barrier(8)

        def router(part: list[int]) -> None:
            barrier.wait()
            for ticket_id in part * 2:  # every ticket routed twice, as a redelivery would
                outcome = route(runtime, ticket_id)
                with lock:
                    outcomes[outcome] += 1

        threads = [threading.Thread(target=router, args=(tickets[i::8],)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert outcomes[Outcome.ASSIGNED] == 20
        with runtime.db.unit_of_work() as uow:
            loads = {a.name: a.load for a in uow.agents.all() if a.name.startswith("agent")}
            assigned = uow.session.execute(
                select(Ticket.assignee_id, func.count())
                .where(Ticket.assignee_id.is_not(None))
                .group_by(Ticket.assignee_id)
            ).all()
            events = uow.session.execute(
                select(AuditEvent.ticket_id, func.count())
                .where(AuditEvent.action == "ticket.assigned")
                .group_by(AuditEvent.ticket_id)
            ).all()
        assert loads == {f"agent{i}": 5 for i in range(4)}
        assert sorted(n for _, n in assigned) == [5, 5, 5, 5]
        assert len(events) == 20 and all(n == 1 for _, n in events)  # assigned once each
        with runtime.db.unit_of_work() as uow:
            support = uow.agents.team_id("support")
        assert drain_backlog(runtime, support) == 0  # no slot is left free while tickets wait
    finally:
        runtime.close()
