"""Reports at scale: every dashboard query and the export on a year of a large desk.

    python -m benchmarks.reports [--tickets 1000000] [--rounds 10]

From a fresh clone (``pip install -e '.[dev]'``, PostgreSQL on 127.0.0.1:5432 as
the README's tests use it): the benchmark creates a database of its own, drops
it at the end, and takes a few minutes for a million tickets (``--tickets
20000`` is a smoke run of seconds).

1. Seeding, in bulk (``benchmarks.desk_seed``: ``INSERT ... SELECT generate_series``,
   seeded ``random()``; the use cases would take hours): 5 teams of 12 agents, 200,000 customers
   (30 % in one of 2,000 organisations), N tickets spread over the year before
   "now" (channel 60 % email, 25 % web, 15 % Telegram; 3 categories per team;
   priorities 60/20/15/5 % normal/high/low/urgent; tags on a third), each with
   three messages (the customer's, the agent's reply, the customer's thanks),
   its assignment, first response (1 min to 7 h), resolution (1 h to 6 days;
   5 % reopened once; the last two weeks mostly still open or pending), two SLA
   clocks (10 % breached, escalation steps 0-2) and a year of agents' load
   samples and a rating for a third of the resolved tickets. Then ``VACUUM ANALYZE``.
2. The rollups: the first refresh (every day counted) timed, and how many
   rollup rows a year makes against the tickets it sums (the measure that chose
   rollups for the volume, where counting raw rows took about a second a year),
   and the bins (``report_bins``: speed and people per day and month); beside
   them, once each, the year's volume, speed and people counted from the tickets
   themselves (the baselines the rollups replace).
3. Every query of the report (``make_report``: each figure's queries, as the
   dashboard and ``relaydesk report`` run them: rollups, bins and tallies where they
   keep the filter, the raw rows for the backlog and requesters) for
   the last 30 days and for the year, for the whole desk and for one team:
   ``--rounds`` runs each, p50 and p99 per query; then the whole report.
4. The export (``workers.desk.export.Export``, CSV, every ticket; on PostgreSQL
   written by the database, ``store.ticket_copy``): tickets per second beside the
   baseline of the row query alone read through a streamed cursor into Python rows
   (what the export did before), and the process's resident memory through it (flat:
   a page at a time).

On a machine shared with other work the absolute times say more about the load
than about the queries: read them beside the baselines of the same run (the
year's volume counted from the tickets, the export's query alone).

``--database NAME`` keeps the seeded desk for the next run (as ``benchmarks.api``): the
database NAME is made and seeded when missing, and reused when it holds ``--tickets``
tickets; the rollups are then built again from nothing (timed) unless ``--keep-rollups``;
drop it yourself when done (``dropdb -h 127.0.0.1 -U postgres NAME``). ``--no-export``
leaves the export out, ``--export-only`` runs nothing else after the seed.

The last line is key=value pairs.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, text

from benchmarks.desk_seed import NOW, desk_config, kept_database, seed_or_reuse
from config import load_settings
from router.export_format import ExportFilters, ticket_cells
from router.report_figures import ReportFilters
from router.report_period import Period, period_named
from store.models import ReportBin, ReportDay, ReportMark, Ticket
from store.report_bins import ReportBins
from store.report_load import load_days, load_facts
from store.report_queries import ReportQueries, prepare_report_transaction
from store.report_rollups import ReportRollups
from store.report_tallies import ReportTallies
from store.ticket_export import TicketExport
from tests.support.services import fresh_postgres_database
from workers.desk.export import Export
from workers.desk.reports import make_report
from workers.runtime.build import build_runtime
from workers.runtime.context import Runtime
from workers.runtime.processes import prepare_database
from workers.steps.report_refresh import refresh_reports

TARGET_MS = 300.0


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(round(q * (len(ordered) - 1)), len(ordered) - 1)]


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _queries(session: Any, period: Period, filters: ReportFilters) -> dict[str, Callable[[], Any]]:
    """Every query ``make_report`` runs, by figure."""
    raw, rollups, bins = ReportQueries(session), ReportRollups(session), ReportBins(session)
    tallies = ReportTallies(session)
    now = NOW
    return {
        "volume": lambda: (
            rollups.day_counts(period, filters),
            rollups.day_counts(period.previous(), filters),
        ),
        "backlog": lambda: raw.backlog_rows(now, filters),
        "speed": lambda: bins.speed_facts(period, filters),
        "promises": lambda: tallies.clock_counts(period, filters),
        "agents": lambda: (
            bins.person_facts(period, filters, by="agent"),
            load_facts(session, period),
            load_days(session, period, filters),
            tallies.ratings(period, filters, by="agent"),
        ),
        "teams": lambda: (
            bins.person_facts(period, filters, by="team"),
            tallies.ratings(period, filters, by="team"),
        ),
        "top_category": lambda: rollups.created_by_category(period, filters),
        "top_tag": lambda: tallies.volume_by(period, filters, key="tag"),
        "top_form": lambda: tallies.volume_by(period, filters, key="form"),
        "top_organisation": lambda: tallies.volume_by(period, filters, key="organisation"),
        "top_requester": lambda: raw.top_requesters(period, filters),
    }


def _raw_queries(session: Any, period: Period, filters: ReportFilters) -> dict[str, Any]:
    """The raw-row queries the tallies replace (the baselines: what the report ran)."""
    raw = ReportQueries(session)
    return {
        "promises": lambda: raw.clock_counts(period, filters),
        "ratings": lambda: (
            raw.ratings(period, filters, by="agent"),
            raw.ratings(period, filters, by="team"),
        ),
        "top_tag": lambda: raw.volume_by(period, filters, key="tag"),
        "top_form": lambda: raw.volume_by(period, filters, key="form"),
        "top_organisation": lambda: raw.volume_by(period, filters, key="organisation"),
        "top_requester": lambda: raw.volume_by(period, filters, key="requester"),
    }


def _timed(
    runtime: Runtime, rounds: int, queries: Callable[..., dict[str, Any]], label: str = ""
) -> dict[str, dict[str, float]]:
    found: dict[str, dict[str, float]] = {}
    for span in ("30d", "365d"):
        period = period_named(span, now=NOW, timezone=runtime.settings.reports.timezone)
        for scope, filters in (("desk", ReportFilters()), ("team", ReportFilters(team=("tech",)))):
            times: dict[str, list[float]] = {}
            for _ in range(rounds):
                with runtime.db.unit_of_work() as uow:
                    prepare_report_transaction(uow.session)
                    for name, query in queries(uow.session, period, filters).items():
                        began = time.perf_counter()
                        query()
                        times.setdefault(name, []).append((time.perf_counter() - began) * 1000)
            for name, samples in times.items():
                key = f"{span}/{scope}/{name}{label}"
                found[key] = {"p50": statistics.median(samples), "p99": _pct(samples, 0.99)}
                mark = "" if found[key]["p99"] <= TARGET_MS else "  OVER"
                print(
                    f"  {key:<38} p50 {found[key]['p50']:7.1f} ms  "
                    f"p99 {found[key]['p99']:7.1f} ms{mark}",
                    flush=True,
                )
    return found


def _raw_year(runtime: Runtime, year: Period) -> dict[str, float]:
    """The year's volume, speed and people counted from the tickets, once each (ms)."""
    found = {}
    with runtime.db.unit_of_work() as uow:
        prepare_report_transaction(uow.session)
        raw = ReportQueries(uow.session)
        for name, query in (
            ("volume", lambda: raw.day_counts(year, ReportFilters())),
            ("speed", lambda: raw.speed_facts(year, ReportFilters())),
            ("agents", lambda: raw.person_facts(year, ReportFilters(), by="agent")),
        ):
            began = time.perf_counter()
            query()
            found[name] = (time.perf_counter() - began) * 1000
            print(f"  the year's {name} from the tickets themselves: {found[name]:.0f} ms")
    return found


def _whole_reports(runtime: Runtime) -> dict[str, float]:
    out = {}
    for span in ("30d", "365d"):
        period = period_named(span, now=NOW, timezone=runtime.settings.reports.timezone)
        began = time.perf_counter()
        make_report(runtime, period)
        out[span] = (time.perf_counter() - began) * 1000
        print(f"  the whole report, {span}: {out[span]:.0f} ms", flush=True)
    return out


def _python_rows(runtime: Runtime, limit: int, *, write: bool) -> float:
    """A baseline over the first ``limit`` tickets (tickets per second): the export's
    rows read through a streamed cursor into Python rows, and (``write``) made into CSV
    by ``ticket_cells`` and the ``csv`` writer, as the export did on every database
    before PostgreSQL wrote its CSV itself (and still does on SQLite)."""
    began = time.perf_counter()
    count = 0
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    with runtime.db.unit_of_work() as uow:
        for page in TicketExport(uow.session).pages(ExportFilters(), after=0, size=2000):
            if write:
                writer.writerows(map(ticket_cells, page))
                buffer.seek(0)
                buffer.truncate()
            count += len(page)
            if count >= limit:
                break
    return count / (time.perf_counter() - began)


def _export(runtime: Runtime, limit: int) -> dict[str, float]:
    alone = _python_rows(runtime, limit, write=False)
    before = _python_rows(runtime, limit, write=True)
    print(
        f"  baselines over the first {limit} tickets: their rows read into Python "
        f"{alone:,.0f}/s, written as CSV from Python {before:,.0f}/s",
        flush=True,
    )
    rss = [_rss_mb()]
    size = 0
    job = Export(runtime, ExportFilters(), fmt="csv")
    began = time.perf_counter()
    for n, chunk in enumerate(job):
        size += len(chunk.encode("utf-8"))
        if n % 25 == 0:
            rss.append(_rss_mb())
    seconds = time.perf_counter() - began
    rss.append(_rss_mb())
    rate = job.count / seconds
    growth = max(rss) - rss[1] if len(rss) > 2 else 0.0
    print(
        f"  {job.count} tickets, {size / 2**20:.0f} MiB of CSV in {seconds:.1f} s: "
        f"{rate:,.0f} tickets/s ({rate / before:.1f} x the CSV from Python rows, "
        f"{rate / alone:.1f} x the rows alone); resident memory {rss[0]:.0f} MiB before, "
        f"{max(rss):.0f} MiB at most, grew {growth:.1f} MiB after the first pages",
        flush=True,
    )
    return {"rate": rate, "growth": growth, "rss": max(rss), "baseline": alone, "before": before}


def _run(args: argparse.Namespace, tmp: Path, url: str) -> None:
    config = desk_config(tmp / "reports.toml", tmp / "outbox")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAYDESK_")}
    env.update(RELAYDESK_DATABASE_URL=url, RELAYDESK_BROKER_URL="stub://")
    runtime = build_runtime(load_settings(config, environ=env), pool_size=2)
    runtime.clock = lambda: NOW
    try:
        prepare_database(runtime)
        seed_s = seed_or_reuse(runtime, args.tickets)
        with runtime.db.unit_of_work() as uow:
            messages = uow.session.scalar(text("SELECT count(*) FROM messages"))
            timers = uow.session.scalar(text("SELECT count(*) FROM sla_timers"))
            tickets = uow.session.scalar(select(func.count()).select_from(Ticket)) or 0
        print(f"  {messages} messages, {timers} SLA clocks; {seed_s:.0f} s", flush=True)
        if args.export_only:
            print("export: every ticket as CSV", flush=True)
            exported = _export(runtime, args.baseline_tickets)
            print(
                f"tickets={tickets} export_tickets_per_s={exported['rate']:.0f} "
                f"export_query_alone_per_s={exported['baseline']:.0f} "
                f"export_python_csv_per_s={exported['before']:.0f} "
                f"export_rss_growth_mb={exported['growth']:.1f}"
            )
            return
        if not args.keep_rollups:
            with runtime.db.unit_of_work() as uow:  # counted again from nothing, timed
                uow.session.execute(delete(ReportMark))
        print("rollups: the first refresh counts every day", flush=True)
        began = time.perf_counter()
        days = refresh_reports(runtime, sample_load=False)
        refresh_s = time.perf_counter() - began
        with runtime.db.unit_of_work() as uow:
            rows = uow.session.scalar(select(func.count()).select_from(ReportDay)) or 0
            bin_rows = uow.session.scalar(select(func.count()).select_from(ReportBin)) or 0
        print(
            f"  {days} days in {refresh_s:.1f} s: {rows} rollup rows for {tickets} tickets "
            f"({tickets / max(rows, 1):.1f} tickets a row); {bin_rows} bin rows "
            f"({bin_rows / max(tickets, 1):.2f} a ticket)",
            flush=True,
        )
        runtime.clock = lambda: NOW + timedelta(hours=1)  # past the look-back
        began = time.perf_counter()
        again = refresh_reports(runtime, sample_load=False)
        print(
            f"  a refresh with nothing changed: {again} days, "
            f"{(time.perf_counter() - began) * 1000:.1f} ms",
            flush=True,
        )
        runtime.clock = lambda: NOW
        year = period_named("365d", now=NOW, timezone=runtime.settings.reports.timezone)
        raw = _raw_year(runtime, year)
        raw_ms = raw["volume"]
        print(f"queries: {args.rounds} rounds each (target p99 <= {TARGET_MS:.0f} ms)", flush=True)
        found = _timed(runtime, args.rounds, _queries)
        if args.baseline_rounds > 0:
            print(
                f"baselines: the raw-row queries the tallies replaced, {args.baseline_rounds} "
                "rounds each",
                flush=True,
            )
            _timed(runtime, args.baseline_rounds, _raw_queries, " (raw)")
        whole = _whole_reports(runtime)
        exported = {"rate": 0.0, "baseline": 0.0, "growth": 0.0, "before": 0.0}
        if not args.no_export:
            print("export: every ticket as CSV", flush=True)
            exported = _export(runtime, args.baseline_tickets)
    finally:
        runtime.close()
    worst = {
        span: max((v["p99"], k) for k, v in found.items() if k.startswith(span))
        for span in ("30d", "365d")
    }
    over = sorted(k for k, v in found.items() if v["p99"] > TARGET_MS)
    print(
        f"tickets={tickets} rollup_rows={rows} rollup_build_s={refresh_s:.1f} "
        f"bin_rows={bin_rows} raw_year_volume_ms={raw_ms:.0f} "
        f"raw_year_speed_ms={raw['speed']:.0f} raw_year_agents_ms={raw['agents']:.0f} "
        f"worst_30d_p99_ms={worst['30d'][0]:.1f} worst_30d_query={worst['30d'][1]} "
        f"worst_year_p99_ms={worst['365d'][0]:.1f} worst_year_query={worst['365d'][1]} "
        f"queries_over_{TARGET_MS:.0f}ms={len(over)} report_30d_ms={whole['30d']:.0f} "
        f"report_year_ms={whole['365d']:.0f} export_tickets_per_s={exported['rate']:.0f} "
        f"export_query_alone_per_s={exported['baseline']:.0f} "
        f"export_python_csv_per_s={exported['before']:.0f} "
        f"export_rss_growth_mb={exported['growth']:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--database", help="A database to keep the seeded desk in and reuse.")
    parser.add_argument("--keep-rollups", action="store_true", help="Of a kept database.")
    parser.add_argument("--no-export", action="store_true")
    parser.add_argument("--export-only", action="store_true")
    parser.add_argument("--baseline-tickets", type=int, default=200_000)
    parser.add_argument("--baseline-rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.database:
            _run(args, Path(tmp), kept_database(args.database))
            return
        with fresh_postgres_database(durable=True) as url:
            _run(args, Path(tmp), url)


if __name__ == "__main__":
    main()
