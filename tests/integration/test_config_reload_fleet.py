"""Reload under load on the distributed fleet: `relaydesk worker` processes on a private
Redis and a fresh PostgreSQL database take a steady stream of web requests while the
configuration changes three ways: `relaydesk config reload` with a valid file, with an
invalid one (refused, nothing changes), and SIGHUP to the worker supervisor after the
file changed. Every ticket's classification and SLA plan come from one version, the one
its audit events name; a request accepted after a change was applied is decided by it
or a later one (each row in a broker message of its own here: rows a batch takes along
ride with the version its message began with); nothing is half-applied."""

from __future__ import annotations

import signal
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from config import load_settings
from router.envelopes import InboundMessage
from router.vocabulary import AuditAction, Channel
from store.models import AuditEvent, InboxItem, Ticket
from tests.support.processes import Background, migrated_env, run, wait_until
from tests.support.services import fresh_postgres_database
from tests.support.smtp_sink import SmtpSink
from workers.channels.intake import StoreIntake
from workers.runtime.build import build_runtime
from workers.runtime.desk_config import shared_file

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CONFIG = """
[helpdesk]
address = "support@desk.test"
default_team = "support"
default_priority = "{priority}"

[smtp]
host = "127.0.0.1"
port = {port}

# one row per broker message: a batch may take waiting rows along into its transaction,
# and those ride with the version its message began with; with one row per message, a
# row accepted after a change is in a message begun after it
[worker]
batch_max = 1

[broker]
namespace = "{namespace}"
heartbeat_timeout_ms = 5000

[sla]
default_calendar = "24x7"

[[sla.policies]]
name = "urgent-plan"
when = {{ priority = "urgent" }}
first_response = "30m"
resolution = "4h"

[[sla.policies]]
name = "low-plan"
when = {{ priority = "low" }}
first_response = "2d"
resolution = "10d"

[[sla.policies]]
name = "standard-plan"
first_response = "4h"
resolution = "3d"

[[teams]]
name = "support"

[[agents]]
name = "ana"
email = "ana@desk.test"
teams = ["support"]
capacity = 10000
status = "online"

[[agents]]
name = "ben"
email = "ben@desk.test"
teams = ["support"]
capacity = 10000
status = "online"
"""

PLAN = {"normal": "standard-plan", "urgent": "urgent-plan", "low": "low-plan"}


class Stream:
    """Web requests submitted in a steady stream from a thread, each with the phase of
    configuration changes it was accepted in."""

    def __init__(self, env: dict[str, str], config: Path) -> None:
        self.runtime = build_runtime(load_settings(config, environ=env), pool_size=2)
        self.intake = StoreIntake(self.runtime)
        self.phase = 0
        self.accepted: dict[int, int] = {}  # inbox id -> phase
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        i = 0
        while not self._stop.is_set():
            phase = self.phase  # read before the accept: the change was applied by then
            receipt = self.intake.accept(
                InboundMessage(
                    channel=Channel.WEB,
                    idempotency_key=f"load-{i}",
                    sender_address=f"customer{i}@example.org",
                    subject=f"request {i}",
                    body_text="please help",
                )
            )
            self.accepted[receipt.inbox_id] = phase
            i += 1
            time.sleep(0.2)  # a steady trickle the loaded test machine keeps up with

    def __enter__(self) -> Stream:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
        self.runtime.close()

    def reach(self, count: int) -> None:
        wait_until(lambda: len(self.accepted) >= count, 60)


@pytest.fixture
def fleet(
    redis_url: str, tmp_path: Path, smtp_sink: SmtpSink
) -> Iterator[tuple[Path, dict[str, str]]]:
    namespace = f"t{uuid.uuid4().hex[:8]}"
    config = tmp_path / "relaydesk.toml"
    for priority in PLAN:
        (tmp_path / f"{priority}.toml").write_text(
            CONFIG.format(priority=priority, port=smtp_sink.port, namespace=namespace)
        )
    config.write_text((tmp_path / "normal.toml").read_text())
    with fresh_postgres_database() as pg_url:
        env, _ = migrated_env(config, pg_url, redis_url)
        yield config, env


def version_of(path: Path, env: dict[str, str]) -> str:
    return shared_file(load_settings(path, environ=env)).version


def current_version(env: dict[str, str], config: Path) -> str:
    runtime = build_runtime(load_settings(config, environ=env), pool_size=1)
    try:
        with runtime.db.unit_of_work() as uow:
            current = uow.config_versions.current()
            return current.version if current else ""
    finally:
        runtime.close()


def test_reload_under_load_switches_every_worker_whole_and_an_invalid_file_changes_nothing(
    fleet: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    config, env = fleet
    versions = [version_of(tmp_path / f"{p}.toml", env) for p in ("normal", "urgent", "low")]
    priority_of = dict(zip(versions, ("normal", "urgent", "low"), strict=True))
    assert current_version(env, config) == versions[0]  # migrate applied the file
    workers = Background(["worker", "--processes", "2", "--threads", "4"], env)
    try:
        workers.wait_for_output("2 processes x 4 threads")
        with Stream(env, config) as stream:
            stream.reach(15)
            caught_up(env, config, stream)  # each version decides some tickets
            reloaded = run(["config", "reload", str(tmp_path / "urgent.toml")], env)
            assert reloaded.returncode == 0, reloaded.stderr
            stream.phase = 1
            stream.reach(len(stream.accepted) + 15)

            bad = tmp_path / "bad.toml"
            bad.write_text(
                (tmp_path / "low.toml").read_text().replace('"low"', '"whenever"', 1)
                + '\n[[agents]]\nname = "kim"\nemail = "kim"\n'
            )
            refused = run(["config", "reload", str(bad)], env)
            assert refused.returncode == 2
            assert "2 problems; nothing changed" in refused.stderr, refused.stderr
            assert "helpdesk.default_priority" in refused.stderr
            assert "agents.2.email" in refused.stderr
            assert current_version(env, config) == versions[1]
            stream.reach(len(stream.accepted) + 15)

            caught_up(env, config, stream)
            config.write_text((tmp_path / "low.toml").read_text())
            workers.proc.send_signal(signal.SIGHUP)  # the supervisor reads its file again
            wait_until(lambda: current_version(env, config) == versions[2], 30, workers.output)
            stream.phase = 2
            stream.reach(len(stream.accepted) + 15)
        accepted = dict(stream.accepted)
        wait_until(
            lambda: done(env, config) >= len(accepted),
            120,
            lambda: f"{len(accepted)} accepted, {inbox_states(env, config)}\n{workers.output()}",
        )
    finally:
        assert workers.stop() == 0, workers.output()

    runtime = build_runtime(load_settings(config, environ=env), pool_size=1)
    try:
        with runtime.db.unit_of_work() as uow:
            s = uow.session
            tickets = dict(s.execute(select(InboxItem.id, InboxItem.ticket_id)).all())
            priority = dict(s.execute(select(Ticket.id, Ticket.priority)).all())
            events = s.execute(
                select(
                    AuditEvent.ticket_id,
                    AuditEvent.action,
                    AuditEvent.config_version,
                    AuditEvent.data,
                ).where(
                    AuditEvent.action.in_(
                        [
                            AuditAction.TICKET_CREATED,
                            AuditAction.SLA_POLICY,
                            AuditAction.TICKET_ASSIGNED,
                        ]
                    )
                )
            ).all()
            history = uow.config_versions.history()
    finally:
        runtime.close()
    assert [c.version for c in history] == [versions[2], versions[1], versions[0]]
    assert history[0].applied_by.startswith("SIGHUP to worker ")
    made: dict[int, dict[str, tuple[str | None, dict[str, object]]]] = {}
    for ticket_id, action, version, data in events:
        made.setdefault(ticket_id, {})[action] = (version, data)
    seen = set()
    for inbox_id, phase in accepted.items():
        ticket = tickets[inbox_id]
        assert ticket is not None, inbox_id  # every accepted message made its ticket
        version, _ = made[ticket][AuditAction.TICKET_CREATED]
        assert version is not None, ticket
        sla_version, sla = made[ticket][AuditAction.SLA_POLICY]
        assigned_version, _ = made[ticket][AuditAction.TICKET_ASSIGNED]
        # one version classified it and planned its clocks, and its words are that version's
        assert version == sla_version, (ticket, version, sla_version)
        assert priority[ticket] == priority_of[version]
        assert sla["policy"] == PLAN[priority_of[version]]
        # accepted after a change was applied: decided by that version or a later one
        assert versions.index(version) >= phase, (ticket, phase, version)
        assert assigned_version in versions
        seen.add(version)
    assert seen == set(versions)


def caught_up(env: dict[str, str], config: Path, stream: Stream) -> None:
    """Wait until the workers have assigned as many tickets as were accepted so far."""
    accepted = len(stream.accepted)
    wait_until(lambda: done(env, config) >= accepted, 120)


def done(env: dict[str, str], config: Path) -> int:
    runtime = build_runtime(load_settings(config, environ=env), pool_size=1)
    try:
        with runtime.db.unit_of_work() as uow:
            return (
                uow.session.scalar(
                    select(func.count()).select_from(Ticket).where(Ticket.assignee_id.is_not(None))
                )
                or 0
            )
    finally:
        runtime.close()


def inbox_states(env: dict[str, str], config: Path) -> str:
    runtime = build_runtime(load_settings(config, environ=env), pool_size=1)
    try:
        with runtime.db.unit_of_work() as uow:
            rows = uow.session.execute(
                select(InboxItem.state, InboxItem.error, func.count()).group_by(
                    InboxItem.state, InboxItem.error
                )
            ).all()
            return f"inbox {[tuple(r) for r in rows]}; {done(env, config)} assigned"
    finally:
        runtime.close()
