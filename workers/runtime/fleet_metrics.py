"""The fleet's gauges for Prometheus, read at scrape time from the store and the broker
(``store/fleet_status.py``, ``queue_depth.py``): the rows still to do or failed by state
(the finished ones are history: how fast they finish is in the actors' counters) and the
oldest unfinished one's age, queue depth, routing backlog, SLA warnings and breaches of the
last hour, processes beating and quiet, each IMAP mailbox's health. Beside them, this process's own
counters (``message_metrics.py``), or every process's in multiprocess mode."""

from __future__ import annotations

import os
from collections.abc import Iterator

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from store.fleet_status import FleetStatus, read_status
from workers.runtime.context import Runtime
from workers.runtime.queue_depth import queue_depths
from workers.runtime.queues import all_queues


class FleetCollector(Collector):
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        runtime = self.runtime
        with runtime.db.unit_of_work() as uow:
            fleet = read_status(
                uow.session, now=runtime.now(), dead_after=runtime.dead_after, finished=False
            )
        yield from _rows(fleet)
        yield from _backlog_and_sla(fleet)
        yield from _processes(fleet)
        depth = GaugeMetricFamily(
            "relaydesk_queue_depth", "Messages waiting on a broker queue", labels=["queue", "kind"]
        )
        for q in queue_depths(runtime.broker, all_queues(runtime.channels)):
            depth.add_metric([q.queue, "ready"], q.ready)
            if q.delayed is not None:
                depth.add_metric([q.queue, "delayed"], q.delayed)
        yield depth


def _rows(fleet: FleetStatus) -> Iterator[Metric]:
    for name, rows in (("inbox", fleet.inbox), ("outbox", fleet.outbox)):
        by_state = GaugeMetricFamily(
            f"relaydesk_{name}_rows",
            f"{name.capitalize()} rows still to do or failed, by state",
            labels=["state"],
        )
        for state, n in rows.counts.items():
            by_state.add_metric([state], n)
        yield by_state
        age = (fleet.now - rows.oldest_pending).total_seconds() if rows.oldest_pending else 0.0
        yield GaugeMetricFamily(
            f"relaydesk_{name}_oldest_unfinished_seconds",
            f"Age of the oldest {name} row still to do (0: none)",
            value=age,
        )


def _backlog_and_sla(fleet: FleetStatus) -> Iterator[Metric]:
    backlog = GaugeMetricFamily(
        "relaydesk_routing_backlog",
        "Tickets waiting for an agent",
        labels=["team", "priority"],
    )
    for team, priority, n in fleet.backlog:
        backlog.add_metric([team, priority], n)
    yield backlog
    yield GaugeMetricFamily(
        "relaydesk_sla_breaches_last_hour",
        "SLA clocks breached in the last hour",
        value=fleet.breaches_last_hour,
    )
    yield GaugeMetricFamily(
        "relaydesk_sla_warnings_last_hour",
        "SLA clocks that reached their warning share in the last hour",
        value=fleet.warnings_last_hour,
    )
    imap = GaugeMetricFamily(
        "relaydesk_imap_mailbox_ok",
        "1 when the mailbox's last poll succeeded, 0 when it ended in an error",
        labels=["mailbox"],
    )
    ok: dict[str, int] = {}
    for c in sorted(fleet.connectors, key=lambda c: not c.quiet):  # a running one's word last
        if c.name.startswith("imap "):
            failing = c.error_at is not None and (
                c.last_success is None or c.error_at >= c.last_success
            )
            ok[c.name.removeprefix("imap ")] = 0 if failing else 1
    for mailbox, value in sorted(ok.items()):
        imap.add_metric([mailbox], value)
    yield imap


def _processes(fleet: FleetStatus) -> Iterator[Metric]:
    procs = GaugeMetricFamily(
        "relaydesk_processes", "Processes by their heartbeat", labels=["kind", "state"]
    )
    counts: dict[tuple[str, str], int] = {}
    for p in fleet.processes:
        key = (p.kind, "quiet" if p.quiet else "running")
        counts[key] = counts.get(key, 0) + 1
    for (kind, state), n in sorted(counts.items()):
        procs.add_metric([kind, state], n)
    yield procs


def exposition(runtime: Runtime) -> bytes:
    """The text a scrape of /metrics gets: the counters, then the fleet's gauges."""
    fleet = CollectorRegistry(auto_describe=False)
    fleet.register(FleetCollector(runtime))
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counters = CollectorRegistry()
        MultiProcessCollector(counters)
    else:
        counters = REGISTRY
    return generate_latest(counters) + generate_latest(fleet)
