"""A desk with staff accounts for the staff API's tests: real store, the real app, a clock
the test moves."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient

from router.staff_views import AgentLoad
from router.vocabulary import Channel, Priority, Role
from tests.conftest import make_settings
from workers.desk.api_tokens import create_token
from workers.desk.sign_in import set_password
from workers.desk.workload import agent_loads
from workers.runtime.build import build_runtime
from workers.runtime.context import Runtime
from workers.runtime.processes import make_web_app, prepare_database

PASSWORD = "correct horse battery"
START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)

# support (supervised by sam, who is in no team), billing (kim supervises by role), sales
DIRECTORY = {
    "relaydesk_teams": '[{"name": "support", "supervisor": "sam"}, {"name": "billing"},'
    ' {"name": "sales"}]',
    "relaydesk_agents": '[{"name": "ana", "email": "ana@x.test", "teams": ["support"],'
    ' "status": "online", "channel_capacity": {"email": 2}},'
    ' {"name": "ben", "email": "ben@x.test", "teams": ["support"], "status": "online"},'
    ' {"name": "sam", "email": "sam@x.test", "display_name": "Sam Novak"},'
    ' {"name": "kim", "email": "kim@x.test", "teams": ["billing"], "role": "supervisor"},'
    ' {"name": "root", "email": "root@x.test", "role": "admin", "capacity": 0}]',
    "relaydesk_helpdesk__default_team": "support",
    "relaydesk_macros": '[{"name": "thanks", "title": "Thanks", "body": "Hello {requester_name},'
    ' thanks for writing about #{ticket_number}. {agent_name}"}, {"name": "reset",'
    ' "title": "Password reset", "body": "Reset done, {requester_name}.", "status": "pending",'
    ' "team": "billing"}, {"name": "on-it", "title": "On it", "body": "Hello {requester_name},'
    ' I am on it. {agent_name}", "status": "pending"}]',
    "relaydesk_staff__argon2_time_cost": "1",  # cheap hashes: the tests sign in often
    "relaydesk_staff__argon2_memory_kib": "1024",
    "relaydesk_staff__failures_per_account": "3",
    "relaydesk_staff__failures_per_address": "5",
    "relaydesk_staff__failure_window_s": "600",
    "relaydesk_staff__session_idle_s": "3600",
    "relaydesk_staff__session_max_age_s": "86400",
}


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class StaffDesk:
    runtime: Runtime
    app: FastAPI
    clock: Clock
    clients: list[TestClient] = field(default_factory=list)

    def client(
        self, address: str = "203.0.113.9", *, https: bool = False, app: FastAPI | None = None
    ) -> TestClient:
        scheme = "https" if https else "http"
        client = TestClient(app or self.app, base_url=f"{scheme}://desk.test", client=(address, 1))
        self.clients.append(client)
        return client

    def signed_in(self, name: str, address: str = "203.0.113.9") -> TestClient:
        client = self.client(address)
        answer = client.post("/api/v1/session", json={"name": name, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
        return client

    def token(self, name: str, role: Role | None = None, **kw: object) -> str:
        return create_token(self.runtime, name, role=role, **kw).secret  # type: ignore[arg-type]

    def with_token(self, name: str, role: Role | None = None, address: str = "198.51.100.7"):  # type: ignore[no-untyped-def]
        client = self.client(address)
        client.headers["Authorization"] = f"Bearer {self.token(name, role)}"
        return client

    def runtime_agents(self) -> list[AgentLoad]:
        """Every agent as the staff API lists them (status, load)."""
        return agent_loads(self.runtime)

    def ids(self) -> tuple[dict[str, int], dict[str, int]]:
        """Agents' and teams' ids by name."""
        with self.runtime.db.unit_of_work() as uow:
            agents = {a.name: a.id for a in uow.agents.all()}
            teams = {name: i for i, name in uow.staff.team_names().items()}
        return agents, teams

    def ticket(
        self, team: str | None, assignee: str | None, channel: Channel = Channel.EMAIL
    ) -> int:
        agents, teams = self.ids()
        with self.runtime.db.unit_of_work() as uow:
            requester = uow.customers.identify(channel, "jo@x.test", "Jo", self.clock())
            number = uow.tickets.create(
                subject="printer on fire",
                channel=channel,
                requester_id=requester.id,
                requester_address="jo@x.test",
                priority=Priority.NORMAL,
                category="general",
                team_id=teams[team] if team else None,
                now=self.clock(),
            )
            ticket = uow.tickets.get(number)
            assert ticket is not None
            if assignee is not None:
                ticket.assignee_id = agents[assignee]
                ticket.status = "open"
        return number


@contextmanager
def staff_desk(database_url: str, **env: str) -> Iterator[StaffDesk]:
    clock = Clock()
    runtime = build_runtime(make_settings(database_url, **{**DIRECTORY, **env}), clock=clock)
    prepare_database(runtime)
    for name in ("ana", "ben", "sam", "kim", "root"):
        set_password(runtime, name, PASSWORD)
    desk = StaffDesk(runtime=runtime, app=make_web_app(runtime), clock=clock)
    try:
        yield desk
    finally:
        for client in desk.clients:
            client.close()
        runtime.close()
