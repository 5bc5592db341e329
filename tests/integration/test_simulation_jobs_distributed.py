"""Simulations through the staff API on the distributed fleet: a `relaydesk web` process
on a fresh PostgreSQL database and a private Redis namespace queues the job (202, its
status at Location); the job outlives a restart of the web process while no worker
runs; then a `relaydesk worker --queues simulate` process runs it, and its kept report is
the command line's (`rules simulate --format json`), for a whole change and for a pilot.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from config import EXAMPLE_PATH, load_settings
from tests.integration.test_simulation_matches_live import END, FIRST, LAST, candidate_text
from tests.support.processes import Background, migrated_env, run, wait_until
from tests.support.services import free_port, fresh_postgres_database
from workers.desk.api_tokens import create_token
from workers.desk.demo_seed import seed_demo
from workers.runtime.build import build_runtime

pytestmark = [pytest.mark.integration, pytest.mark.slow]

URL = "/api/v1/admin/simulations"


@pytest.fixture
def deployment(redis_url: str, tmp_path: Path) -> Iterator[tuple[dict[str, str], str, str]]:
    """The environment of a migrated, seeded deployment, its web address and an admin's
    token."""
    config = tmp_path / "relaydesk.toml"
    config.write_text(EXAMPLE_PATH.read_text())
    port = free_port()
    with fresh_postgres_database() as pg_url:
        env, _ = migrated_env(
            config,
            pg_url,
            redis_url,
            RELAYDESK_WEB__PORT=str(port),
            RELAYDESK_BROKER__NAMESPACE=f"t{uuid.uuid4().hex[:8]}",
        )
        settings = load_settings(config, environ=env)
        seed_demo(settings, end=END, tickets=30, days=4, languages=("en", "zh"), seed=20)
        runtime = build_runtime(settings, pool_size=1)
        try:
            secret = create_token(runtime, "sam").secret  # sam is the example's admin
        finally:
            runtime.close()
        yield env, f"http://127.0.0.1:{port}", secret


def web(env: dict[str, str], base: str) -> Background:
    process = Background(["web"], env)
    process.wait_for_output("relaydesk web on", 60)
    wait_until(lambda: _answers(f"{base}/healthz"), 60, process.output)
    return process


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.TransportError:  # not listening yet
        return False


def cli_report(env: dict[str, str], candidate: Path, *extra: str) -> dict[str, Any]:
    period = ["--from", str(FIRST), "--to", str(LAST)]
    done = run(["rules", "simulate", str(candidate), *period, *extra, "--format=json"], env, 120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_job_outlives_a_web_restart_and_runs_on_a_worker_process(
    deployment: tuple[dict[str, str], str, str], tmp_path: Path
) -> None:
    env, base, secret = deployment
    candidate = tmp_path / "candidate.toml"
    candidate.write_text(candidate_text())
    asked = {"candidate": candidate.read_text(), "from": str(FIRST), "to": str(LAST)}
    client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {secret}"})
    front = web(env, base)
    try:
        whole = client.post(URL, json=asked)
        assert whole.status_code == 202, whole.text
        pilot = client.post(URL, json={**asked, "pilot_teams": ["billing"]})
        assert pilot.status_code == 202, pilot.text
        locations = [whole.headers["Location"], pilot.headers["Location"]]
        assert [client.get(at).json()["state"] for at in locations] == ["queued", "queued"]
    finally:
        assert front.stop() == 0, front.output()  # stopped while it serves: exits cleanly
    front = web(env, base)  # a new web process: the jobs are the store's, their messages Redis's
    worker = Background(
        ["worker", "--queues", "simulate", "--processes", "1", "--threads", "1"], env
    )
    try:
        assert [client.get(at).json()["state"] for at in locations] == ["queued", "queued"]
        worker.wait_for_output("1 processes x 1 threads", 60)

        def finished() -> list[dict[str, Any]] | None:
            jobs = [client.get(at).json() for at in locations]
            return jobs if all(j["state"] in ("done", "failed") for j in jobs) else None

        jobs = wait_until(finished, 180, worker.output)
        assert isinstance(jobs, list)
        assert [j["state"] for j in jobs] == ["done", "done"], jobs
        assert all(j["tickets_done"] == j["tickets_total"] == 30 for j in jobs), jobs
        results = [client.get(j["result_url"]) for j in jobs]
        assert [r.status_code for r in results] == [200, 200]
    finally:
        client.close()
        assert worker.stop() == 0, worker.output()
        assert front.stop() == 0, front.output()
    # the job's report is the command line's, for the whole change and for the pilot
    kept = [timeless(r.json()) for r in results]
    assert kept[0] == timeless(cli_report(env, candidate))
    assert kept[1] == timeless(cli_report(env, candidate, "--pilot-teams", "billing"))
    assert kept[0] != kept[1]


def timeless(report: dict[str, Any]) -> dict[str, Any]:
    """The report without the instant it was made (``sla.as_of``: each run's now)."""
    sla = {k: v for k, v in report["sla"].items() if k != "as_of"}
    return {**report, "sla": sla}
