"""``relaydesk health --kind KIND``: the readiness checks of ``/readyz`` for any process
kind, and that a process of that kind on this host is beating; exit 0 when all pass,
1 otherwise (for a container's or systemd's health check). One line per check: data,
not translated."""

from __future__ import annotations

import socket

import click

from config.settings import Settings
from store.models import ProcessBeat
from workers.cli.context import echo_json, pass_settings
from workers.runtime.build import build_runtime
from workers.runtime.context import Runtime
from workers.runtime.health import readiness

KINDS = ["worker", "scheduler", "connector", "web", "serve"]


@click.command()
@click.option("--kind", type=click.Choice(KINDS), required=True, help="The process kind.")
@click.option("--json", "as_json", is_flag=True, help="The checks as JSON.")
@pass_settings
def health(settings: Settings, kind: str, as_json: bool) -> None:
    """Check the store, the schema, the broker and this host's KIND process; exit 1 if not."""
    runtime = build_runtime(settings, pool_size=1)
    try:
        checks = dict(readiness(runtime))
        schema_ok = checks["store"] is None and checks["migrations"] is None
        checks[f"{kind} process"] = _beating(runtime, kind) if schema_ok else "unknown"
    finally:
        runtime.close()
    if as_json:
        echo_json({name: problem or "ok" for name, problem in checks.items()})
    else:
        for name, problem in checks.items():
            click.echo(f"{name}: {problem or 'ok'}")
    if any(checks.values()):
        raise SystemExit(1)


def _beating(runtime: Runtime, kind: str) -> str | None:
    """None when a ``kind`` process on this host beat within ``dead_after``."""
    host, cutoff = socket.gethostname(), runtime.now() - runtime.dead_after
    try:
        with runtime.db.unit_of_work() as uow:
            alive = uow.session.query(ProcessBeat).filter(
                ProcessBeat.kind == kind, ProcessBeat.host == host, ProcessBeat.beat_at >= cutoff
            )
            if alive.first() is not None:
                return None
    except Exception as exc:  # no heartbeat table yet: the schema check says why
        return f"{type(exc).__name__}: {exc}"[:300]
    return f"no {kind} process on {host} beat in the last {runtime.dead_after.total_seconds():g}s"
