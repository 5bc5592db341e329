"""A candidate configuration simulated on a year of a large desk (``rules simulate``).

    python -m benchmarks.simulation [--tickets 100000]

From a fresh clone (``pip install -e '.[dev]'``, PostgreSQL on 127.0.0.1:5432 as the
README's tests use it): a database of its own, dropped at the end.

1. Seeding, in bulk (``benchmarks.desk_seed``): 5 teams of 12 agents, N tickets over
   the year before "now", each with its first response and resolution; the agents are
   then set online (the seed leaves them offline, where nobody could take anything).
   Their status changes as the audit log keeps them, for the SLA replay: each
   resolution, a pending period in one resolved ticket of ten, a resolution and a
   reopening before the last resolution in one of twenty, and the move to pending of
   those still pending.
2. The current configuration: a rule sending subjects ending in 1 to billing with
   billing >= 2 (which nobody has), one making those ending in 7 urgent, seniors first
   for urgent work, an office calendar (Europe/Berlin, German holidays) and two SLA
   policies. The candidate: subjects ending in 2 go to tech as well, two billing agents
   with the skill join, the standard first response goes from 4 h to 2 h.
3. The baseline: the period's arrivals read alone (``TicketArrivals.between``, pages
   of Core rows), then the whole simulation (classification, both routing replays,
   both SLA clocks) over the same arrivals, as ``relaydesk rules simulate`` runs it.
   The figures: seconds, tickets per second, the ratio to the baseline, and the
   process's peak resident memory after the baseline and after the simulation.

The last line is key=value pairs.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from benchmarks.desk_seed import NOW, desk_config, seed_desk
from config import load_settings
from router.desk_simulation import simulate
from store.roster_snapshot import agents_now
from store.ticket_arrivals import TicketArrivals
from tests.support.services import PG_ADMIN_URL, fresh_postgres_database
from workers.runtime.build import build_runtime
from workers.runtime.desk_setup import desk_setup
from workers.runtime.processes import prepare_database

SETTINGS = """
[routing]
prefer_senior_for = ["urgent"]
[sla]
default_calendar = "office"
[[sla.calendars]]
name = "office"
timezone = "Europe/Berlin"
country = "DE"
[sla.calendars.hours]
mon = "09:00-17:00"
tue = "09:00-17:00"
wed = "09:00-17:00"
thu = "09:00-17:00"
fri = "09:00-15:00"
[[sla.policies]]
name = "urgent"
when = {{ priority = "urgent" }}
calendar = "24x7"
first_response = "30m"
resolution = "4h"
[[sla.policies]]
name = "standard"
first_response = "{first}"
resolution = "3d"
[[rules.first_match]]
name = "billing"
when = {{ subject_regex = "1$" }}
set = {{ category = "billing", team = "billing", required_skills = {{ billing = 2 }} }}
{more_rules}
[[rules.all_match]]
name = "urgent"
when = {{ subject_regex = "7$" }}
set = {{ priority = "urgent" }}
"""
TECH = """
[[rules.first_match]]
name = "tech"
when = { subject_regex = "2$" }
set = { category = "tech", team = "tech" }
"""
# the seeded tickets' status changes (``store.ticket_arrivals`` reads them for the SLA
# replay), placed inside each ticket's life: d is the time from its arrival to its end
STATUS_CHANGES = """
INSERT INTO audit_events (ticket_id, actor, action, detail, data, created_at)
SELECT t.id, 'agent:bench', e.action, '', CAST(e.data AS jsonb), e.at
FROM (SELECT id, status, created_at, resolved_at, resolved_at - created_at AS d FROM tickets) t
CROSS JOIN LATERAL (VALUES
    (t.id % 10 = 3 AND t.resolved_at IS NOT NULL, 'ticket.status',
     '{"from": "open", "to": "pending"}', t.created_at + t.d / 4),
    (t.id % 10 = 3 AND t.resolved_at IS NOT NULL, 'ticket.status',
     '{"from": "pending", "to": "open"}', t.created_at + t.d / 2),
    (t.id % 20 = 9 AND t.resolved_at IS NOT NULL, 'ticket.status',
     '{"from": "open", "to": "resolved"}', t.created_at + t.d / 3),
    (t.id % 20 = 9 AND t.resolved_at IS NOT NULL, 'ticket.reopened',
     '{"from": "resolved", "to": "open"}', t.created_at + 2 * t.d / 3),
    (t.resolved_at IS NOT NULL, 'ticket.status',
     '{"from": "open", "to": "resolved"}', t.resolved_at),
    (t.status = 'pending', 'ticket.status',
     '{"from": "open", "to": "pending"}', t.created_at + interval '1 hour')
) AS e(applies, action, data, at)
WHERE e.applies
"""
BILLING_AGENTS = "".join(
    f'[[agents]]\nname = "ledger-{i}"\nemail = "ledger{i}@bench.test"\nteams = ["billing"]\n'
    f'skills = {{ billing = 3 }}\nseniority = 4\ncapacity = 20\nstatus = "online"\n'
    for i in (1, 2)
)


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run(tickets: int, tmp: Path, url: str, *, seeded: bool = False) -> None:
    current = desk_config(
        tmp / "current.toml", tmp / "outbox", extra=SETTINGS.format(first="4h", more_rules="")
    )
    candidate = desk_config(
        tmp / "candidate.toml",
        tmp / "outbox",
        extra=SETTINGS.format(first="2h", more_rules=TECH),
        more_agents=BILLING_AGENTS,
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAYDESK_")}
    env.update(RELAYDESK_DATABASE_URL=url, RELAYDESK_BROKER_URL="stub://")
    settings = load_settings(current, environ=env)
    proposed = load_settings(candidate, environ=env)
    runtime = build_runtime(settings, pool_size=2)
    runtime.clock = lambda: NOW
    try:
        if not seeded:
            prepare_database(runtime)
            print(f"seeding {tickets} tickets over a year ...", flush=True)
            seed_s = seed_desk(runtime, tickets)
            with runtime.db.unit_of_work() as uow:
                uow.session.execute(text("UPDATE agents SET status = 'online'"))
                moved = uow.session.connection().execute(text(STATUS_CHANGES)).rowcount
            with runtime.db.engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                    text("ANALYZE audit_events")
                )
            print(f"  {seed_s:.0f} s, then {moved} status changes", flush=True)
        start, end = NOW.replace(year=NOW.year - 1), NOW
        with runtime.db.unit_of_work() as uow:
            began = time.perf_counter()
            read = sum(1 for _ in TicketArrivals(uow.session).between(start, end))
            baseline_s = time.perf_counter() - began
        baseline_mib = _peak_mib()
        print(f"arrivals read alone: {read} in {baseline_s:.1f} s", flush=True)
        with runtime.db.unit_of_work() as uow:
            began = time.perf_counter()
            known = agents_now(uow.session)
            result = simulate(
                TicketArrivals(uow.session).between(start, end),
                desk_setup(settings, known),
                desk_setup(proposed, known),
                as_of=NOW,
            )
            simulation_s = time.perf_counter() - began
        peak_mib = _peak_mib()
        routing, first = result.routing, result.sla.clocks["first_response"]
        print(
            f"simulation: {result.classification.tickets} tickets in {simulation_s:.1f} s; "
            f"{result.classification.changed} classified differently; assigned "
            f"{routing.assigned.current} -> {routing.assigned.candidate}; first response "
            f"met -> breached {first.met_to_breached}, breached -> met {first.breached_to_met}",
            flush=True,
        )
        print(
            f"tickets={read} baseline_s={baseline_s:.2f} simulation_s={simulation_s:.2f} "
            f"rate={read / simulation_s:.0f} ratio={simulation_s / baseline_s:.2f} "
            f"baseline_peak_mib={baseline_mib:.0f} peak_mib={peak_mib:.0f}",
            flush=True,
        )
    finally:
        runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument(
        "--database",
        help="a database of this name, seeded by an earlier run of this benchmark "
        "(seeded now when it has no tickets) and kept",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.database is None:
            with fresh_postgres_database(durable=True) as url:
                _run(args.tickets, Path(tmp), url)
            return
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            found = conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": args.database}
            )
            if not found:
                conn.execute(text(f'CREATE DATABASE "{args.database}"'))
        admin.dispose()
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{args.database}"
        engine = create_engine(url)
        with engine.connect() as conn:
            tables = conn.scalar(text("SELECT to_regclass('tickets') IS NOT NULL"))
            seeded = bool(tables and conn.scalar(text("SELECT EXISTS (SELECT 1 FROM tickets)")))
        engine.dispose()
        _run(args.tickets, Path(tmp), url, seeded=seeded)


if __name__ == "__main__":
    main()
