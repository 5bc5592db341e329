"""``relaydesk status [--json]``: the fleet on one screen.

Each process by its heartbeat (one quiet for ``scheduler.dead_after_s`` is shown as
quiet), each queue's depth and oldest message, inbox and outbox rows by state with
the oldest unfinished one's age, the routing backlog, the connectors' last success
and last error (the inbound SMTP server's last accepted message and sessions open, the
Telegram poller's last update, each IMAP mailbox's last poll), and the SLA breaches of
the last hour. A table is data: it is
not translated.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from config.settings import Settings
from store.fleet_status import FleetStatus, RowsByState, read_status
from workers.cli.context import echo_json, pass_settings, runtime_for
from workers.runtime.queue_depth import QueueDepth, queue_depths
from workers.runtime.queues import all_queues


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of tables.")
@pass_settings
def status(settings: Settings, as_json: bool) -> None:
    """Show the fleet: processes, queues, inbox/outbox, backlog, connectors, breaches."""
    with runtime_for(settings) as runtime:
        with runtime.db.unit_of_work() as uow:
            fleet = read_status(uow.session, now=runtime.now(), dead_after=runtime.dead_after)
        try:
            queues: list[QueueDepth] | str = queue_depths(
                runtime.broker, all_queues(runtime.channels)
            )
        except Exception as exc:  # the broker is down: say so, show the rest
            queues = f"{type(exc).__name__}: {exc}"
    if as_json:
        echo_json(_as_data(fleet, queues))
        return
    _print(fleet, queues)


def _age(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else round((now - then).total_seconds(), 1)


def _as_data(fleet: FleetStatus, queues: list[QueueDepth] | str) -> dict[str, Any]:
    now = fleet.now

    def rows(r: RowsByState) -> dict[str, Any]:
        return {"by_state": r.counts, "oldest_unfinished_age_s": _age(now, r.oldest_pending)}

    return {
        "now": now,
        "processes": [
            {**p.__dict__, "last_beat_age_s": _age(now, p.beat_at)} for p in fleet.processes
        ],
        "queues": queues
        if isinstance(queues, str)
        else [{**q.__dict__, "oldest_age_s": _age(now, q.oldest)} for q in queues],
        "inbox": rows(fleet.inbox),
        "outbox": rows(fleet.outbox),
        "backlog": [{"team": t, "priority": p, "tickets": n} for t, p, n in fleet.backlog],
        "connectors": [c.__dict__ for c in fleet.connectors],
        "breaches_last_hour": fleet.breaches_last_hour,
    }


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}s"


def _stamp(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}" if moment else "-"


def _print(fleet: FleetStatus, queues: list[QueueDepth] | str) -> None:
    console, now = Console(), fleet.now
    procs = Table(
        "kind", "host", "pid", "queues", "started", "last beat", "state", title="processes"
    )
    for p in fleet.processes:
        procs.add_row(
            p.kind,
            p.host,
            str(p.pid),
            p.queues or "-",
            f"{p.started_at:%Y-%m-%d %H:%M:%S}",
            f"{_seconds(_age(now, p.beat_at))} ago",
            "[red]quiet[/red]" if p.quiet else "running",
        )
    console.print(procs)
    if isinstance(queues, str):
        console.print(f"queues: broker unreachable: {queues}")
    else:
        table = Table("queue", "ready", "delayed", "oldest", title="queues")
        for q in queues:
            delayed = "-" if q.delayed is None else str(q.delayed)
            table.add_row(q.queue, str(q.ready), delayed, _seconds(_age(now, q.oldest)))
        console.print(table)
    work = Table("rows", "by state", "oldest unfinished", title="inbox and outbox")
    for name, r in (("inbox", fleet.inbox), ("outbox", fleet.outbox)):
        states = ", ".join(f"{s} {n}" for s, n in r.counts.items()) or "-"
        work.add_row(name, states, _seconds(_age(now, r.oldest_pending)))
    console.print(work)
    backlog = Table("team", "priority", "waiting", title="routing backlog")
    for team, priority, n in fleet.backlog:
        backlog.add_row(team, priority, str(n))
    console.print(backlog)
    conns = Table(
        "connector", "process", "last success", "last error", "sessions open", title="connectors"
    )
    for c in fleet.connectors:
        process = (c.process or "-") + (" [red]quiet[/red]" if c.quiet else "")
        error = f"{_stamp(c.error_at)} {c.last_error}" if c.last_error else "-"
        sessions = "-" if c.sessions_open is None else str(c.sessions_open)
        conns.add_row(c.name, process, _stamp(c.last_success), error, sessions)
    console.print(conns)
    console.print(f"SLA breaches in the last hour: {fleet.breaches_last_hour}")
