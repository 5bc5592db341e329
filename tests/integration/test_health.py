"""``/readyz`` on the web app and ``relaydesk health --kind``, on both databases: ready
when the store answers, its schema is current and the broker answers; a broker that
does not answer, or a schema behind the code, is named and makes it not ready."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from fastapi.testclient import TestClient

from store.db import Database
from store.process_beats import Beating
from tests.conftest import make_settings
from tests.support.services import free_port
from workers.cli import main
from workers.runtime.build import build_runtime
from workers.runtime.processes import make_web_app


def _readyz(url: str, broker_url: str = "stub://") -> tuple[int, dict[str, object]]:
    runtime = build_runtime(make_settings(url, relaydesk_broker_url=broker_url), pool_size=2)
    try:
        with TestClient(make_web_app(runtime)) as client:
            answer = client.get("/readyz")
            assert client.get("/healthz").status_code == 200  # alive, whatever readiness says
        return answer.status_code, answer.json()
    finally:
        runtime.close()


def test_readyz_is_ready_with_the_store_migrated_and_the_broker_answering(
    database_url: str,
) -> None:
    status, body = _readyz(database_url)
    assert status == 200
    assert body == {
        "status": "ready",
        "checks": {"store": "ok", "migrations": "ok", "broker": "ok"},
    }


def test_readyz_names_a_broker_that_does_not_answer(database_url: str) -> None:
    status, body = _readyz(database_url, f"redis://127.0.0.1:{free_port()}/0")
    assert status == 503 and body["status"] == "not ready"
    checks = body["checks"]
    assert isinstance(checks, dict)
    assert checks["store"] == "ok" and "Connection" in str(checks["broker"])


def test_readyz_says_the_schema_is_behind_the_code(tmp_path: Path) -> None:
    status, body = _readyz(f"sqlite:///{tmp_path / 'empty.db'}")
    assert status == 503
    assert str(body["checks"]["migrations"]).startswith("at nothing, code needs ")  # type: ignore[index]


def _health(url: str, kind: str) -> tuple[int, str]:
    env = {"RELAYDESK_DATABASE_URL": url, "RELAYDESK_BROKER_URL": "stub://"}
    result = CliRunner(env=env).invoke(main, ["health", "--kind", kind, "--json"])
    return result.exit_code, result.output


def test_health_passes_only_while_a_process_of_the_kind_beats_on_this_host(
    database_url: str,
) -> None:
    code, output = _health(database_url, "worker")
    assert code == 1 and "no worker process on" in json.loads(output)["worker process"]
    db = Database(database_url)
    with db.unit_of_work() as uow:
        me = Beating(holder="x:1:a", kind="worker", host=socket.gethostname(), pid=1)
        now = datetime.now(UTC)
        uow.process_beats.beat(me, started_at=now, now=now)
    db.dispose()
    code, output = _health(database_url, "worker")
    assert code == 0, output
    assert set(json.loads(output).values()) == {"ok"}
    assert _health(database_url, "scheduler")[0] == 1
