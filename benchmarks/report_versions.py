"""Reports narrowed to a configuration version, and a pilot beside the rest, on a large desk.

    python -m benchmarks.report_versions [--tickets 1000000] [--rounds 3] [--database NAME]

From a fresh clone (``pip install -e '.[dev]'``, PostgreSQL on 127.0.0.1:5432 as the
README's tests use it): the desk is seeded as ``benchmarks.reports`` seeds it
(``benchmarks.desk_seed``; ``--database NAME`` keeps it, and reuses a kept one), then
each ticket gets the creation event a pilot leaves (``ticket.created`` with its
``config_version``, one ``INSERT ... SELECT``; the bulk seed writes no audit events):
billing's tickets of the last 60 days under a candidate version, every other ticket
under the desk's. Then, for the last 30 days and for the year, whole desk, each
``--rounds`` times:

1. the report without a version filter (``make_report``: rollups, bins and tallies;
   the baseline of the same run);
2. the report narrowed to the desk's version, and to the candidate (no rollup keeps
   versions: every figure from the raw rows, ``store.report_versions.decided_by``);
3. the comparison of the candidate with the desk's version
   (``workers.desk.report_comparison.compare_versions``: both sides, raw rows).

Median and slowest of each, and the ratio of the medians to the baseline: on a machine
shared with other work, read the ratios. The last line is key=value pairs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

from benchmarks.desk_seed import NOW, desk_config, kept_database, seed_or_reuse
from config import load_settings
from router.report_figures import ReportFilters
from router.report_period import Period, period_named
from tests.support.services import fresh_postgres_database
from workers.desk.report_comparison import compare_versions
from workers.desk.reports import make_report
from workers.runtime.build import build_runtime
from workers.runtime.context import Runtime
from workers.runtime.processes import prepare_database

DESK, CANDIDATE = "d35c0000d35c", "c4dd00000001"  # two versions, as config/versions.py spells them
PILOT_TEAM, PILOT_DAYS = "billing", 60

EVENTS = """
INSERT INTO audit_events (ticket_id, actor, action, detail, data, created_at, config_version)
SELECT t.id, 'customer:' || t.requester_id, 'ticket.created', '', '{}', t.created_at,
       CASE WHEN t.team_id = (SELECT id FROM teams WHERE name = :team)
                 AND t.created_at >= :pilot_from THEN :candidate ELSE :desk END
FROM tickets t
WHERE NOT EXISTS (SELECT 1 FROM audit_events e
                  WHERE e.ticket_id = t.id AND e.action = 'ticket.created')
"""


def _created_events(runtime: Runtime) -> float:
    """Each ticket's creation event with its version (once: a kept database has them)."""
    began = time.perf_counter()
    with runtime.db.unit_of_work() as uow:
        uow.session.execute(
            text(EVENTS),
            {
                "team": PILOT_TEAM,
                "pilot_from": NOW - timedelta(days=PILOT_DAYS),
                "candidate": CANDIDATE,
                "desk": DESK,
            },
        )
    with runtime.db.engine.connect() as conn:
        conn.execute(text("ANALYZE audit_events"))
        conn.commit()
    return time.perf_counter() - began


def _timed(rounds: int, run: Callable[[], object]) -> list[float]:
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        run()
        times.append((time.perf_counter() - began) * 1000)
    return times


def _runs(runtime: Runtime, period: Period) -> dict[str, Callable[[], object]]:
    every = ReportFilters()
    return {
        "report": lambda: make_report(runtime, period, every),
        "report_desk_version": lambda: make_report(
            runtime, period, replace(every, config_version=(DESK,))
        ),
        "report_candidate": lambda: make_report(
            runtime, period, replace(every, config_version=(CANDIDATE,))
        ),
        "comparison": lambda: compare_versions(
            runtime, period, every, first=CANDIDATE, second=DESK
        ),
    }


def _run(args: argparse.Namespace, tmp: Path, url: str) -> None:
    config = desk_config(tmp / "reports.toml", tmp / "outbox")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAYDESK_")}
    env.update(RELAYDESK_DATABASE_URL=url, RELAYDESK_BROKER_URL="stub://")
    runtime = build_runtime(load_settings(config, environ=env), pool_size=2)
    runtime.clock = lambda: NOW
    try:
        prepare_database(runtime)
        seed_or_reuse(runtime, args.tickets)
        print(f"creation events with versions: {_created_events(runtime):.1f} s", flush=True)
        make_report(runtime, period_named("7d", now=NOW))  # the rollups, built once
        figures: dict[str, float] = {}
        for name, spec in (("30d", "30d"), ("year", "365d")):
            period = period_named(spec, now=NOW, timezone=runtime.settings.reports.timezone)
            runs = _runs(runtime, period)
            base = 0.0
            for label, run in runs.items():
                times = _timed(args.rounds, run)
                median = statistics.median(times)
                base = base or median
                figures[f"{name}_{label}_ms"] = median
                print(
                    f"  {name:>4} {label:<20} median {median:9.1f} ms  max {max(times):9.1f} ms"
                    f"  x{median / base:.1f} the report without a version",
                    flush=True,
                )
        load = os.getloadavg()[0]
        pairs = " ".join(f"{k}={v:.0f}" for k, v in figures.items())
        print(f"tickets={args.tickets} {pairs} load_average={load:.1f}")
    finally:
        runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", help="A database to keep the seeded desk in and reuse.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.database:
            _run(args, Path(tmp), kept_database(args.database))
            return
        with fresh_postgres_database(durable=True) as url:
            _run(args, Path(tmp), url)


if __name__ == "__main__":
    main()
