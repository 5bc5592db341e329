"""Webhooks in distributed mode: `relaydesk worker` and `relaydesk scheduler` processes on
Redis and PostgreSQL deliver to a receiver of our own, retried by the scheduler's sweep."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import Settings
from tests.integration.test_distributed import deployment, settings_of, submit  # noqa: F401
from tests.support.processes import Background
from tests.support.smtp_sink import SmtpSink
from tests.support.webhook_receiver import webhook_receiver
from workers.desk.webhooks import add_webhook, deliveries
from workers.runtime.build import build_runtime

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WEBHOOK_ENV = {
    "RELAYDESK_WEBHOOKS__ALLOW_PRIVATE_NETWORKS": "true",
    "RELAYDESK_WEBHOOKS__RETRY_SCHEDULE_S": "[0.5, 0.5]",
}


def _subscribe(settings: Settings, url: str) -> tuple[int, str]:
    runtime = build_runtime(settings, pool_size=1)
    try:
        made = add_webhook(runtime, url, ["ticket.created", "ticket.assigned"])
        return made.webhook.id, made.secret
    finally:
        runtime.close()


def test_worker_processes_deliver_each_event_once_and_the_scheduler_retries(
    deployment: tuple[Path, dict[str, str]],  # noqa: F811
    smtp_sink: SmtpSink,
) -> None:
    config, env = deployment
    env = {**env, **WEBHOOK_ENV}
    settings = settings_of(config, env)
    with webhook_receiver("whsec_" + "A" * 32) as receiver:
        webhook_id, receiver.secret = _subscribe(settings, receiver.url)
        receiver.answers = [500, 503]  # the first two attempts fail: retried by the sweep
        worker = Background(["worker", "--processes", "1", "--threads", "2"], env)
        scheduler = Background(["scheduler"], env)
        try:
            worker.wait_for_output("1 processes x 2 threads")
            scheduler.wait_for_output("relaydesk scheduler")
            submit(settings, 5, "hooked")
            got = receiver.wait_for(10, timeout=60)  # 5 created, 5 assigned
        finally:
            scheduler.stop()
            assert worker.stop() == 0, worker.output()
    assert all(r.verified for r in receiver.received)
    assert (
        sorted(r.payload["type"] for r in got) == ["ticket.assigned"] * 5 + ["ticket.created"] * 5
    )
    assert len(receiver.accepted()) == 10  # each accepted once: no duplicate webhook-id
    assert sorted(r.status for r in receiver.received if r.status >= 300) == [500, 503]
    runtime = build_runtime(settings, pool_size=1)
    try:
        rows = deliveries(runtime, webhook_id, limit=100)
    finally:
        runtime.close()
    assert {d.state for d in rows} == {"done"} and sum(d.attempts for d in rows) == 12
