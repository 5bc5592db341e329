"""The workspace's pages at scale: the queue page and a ticket page of 200 messages.

    python -m benchmarks.pages [--tickets 1000000] [--rounds 50]

From a fresh clone (``pip install -e '.[dev]'``, PostgreSQL on 127.0.0.1:5432 as the
README's tests use it): the benchmark creates a database of its own, drops it at the
end. Seeding is in bulk (``INSERT ... SELECT generate_series``, seeded ``random()``):
5 teams of 12 agents (a supervisor for the first), 20,000 customers, N tickets over a
year (2 % still open: new, open or pending; the rest resolved), each with the
customer's message and, while open, a running SLA clock (a tenth of them breached),
then one ticket of 200 messages (customer, reply, internal note in turn) held by the
agent measured; with the triggers off, then the tickets' search documents in one pass
(``store.ticket_search.build_missing_documents``) and the top requesters' bounds the
triggers keep (``store.report_requester_bounds.count_totals``). Then ``VACUUM ANALYZE``.

Timed through the real app in process, made as ``relaydesk web`` makes it
(``make_served_app``: its start-up heap frozen for the garbage collector), with a
signed-in session cookie, as the browser calls it; no sockets, so the figures are the
server's:

- ``queue``: ``GET /desk/`` as an agent (their views with counts and the first 50 of
  "mine"), and ``GET /desk/?view=all`` as the team's supervisor;
- ``ticket``: ``GET /desk/tickets/N``, the ticket of 200 messages;
- beside them, the staff API's JSON of the same (``GET /api/v1/desk/tickets?...``
  and ``GET /api/v1/desk/tickets/N``): what the page adds is rendering.

p50 and p99 of ``--rounds`` requests each (after two warm-up requests), and the CPU
milliseconds a request of this process (the app and the test client); the target is
p99 <= 100 ms. ``--database NAME`` keeps the seeded desk in database NAME and reuses it
(drop it yourself when done). The last line is key=value pairs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import text

from benchmarks.desk_seed import kept_database
from config import load_settings
from store.report_requester_bounds import count_totals
from store.ticket_search import build_missing_documents
from tests.support.services import fresh_postgres_database
from workers.desk.sign_in import set_password
from workers.runtime.build import build_runtime
from workers.runtime.context import Runtime
from workers.runtime.processes import prepare_database
from workers.runtime.web_processes import make_served_app

TEAMS = ("support", "billing", "tech", "sales", "accounts")
AGENTS_PER_TEAM = 12
CUSTOMERS = 20_000
BIG_MESSAGES = 200
TARGET_MS = 100.0
PASSWORD = "bench password 1"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

SEED = [
    "SELECT setseed(0.16)",
    """INSERT INTO customers (name, attributes, created_at)
    SELECT 'Customer ' || g, '{}', :start FROM generate_series(1, :customers) AS g""",
    """CREATE TEMPORARY TABLE draws AS
    SELECT g AS id, :start + make_interval(secs => (g - 1 + random()) * :span_s / :n) AS at,
        random() AS r_team, random() AS r_agent, random() AS r_state, random() AS r_prio,
        random() AS r_cust, random() AS r_due
    FROM generate_series(1, :n) AS g""",
    """INSERT INTO tickets (id, subject, status, priority, priority_rank, category, channel,
        requester_id, requester_address, assignee_id, team_id, custom_fields,
        required_skills, optional_skills, tags, access_key, created_at, updated_at,
        reopen_count, reply_count)
    SELECT d.id, 'Problem number ' || d.id,
        CASE WHEN d.at < :now - interval '14 days' OR d.r_state < 0.98 THEN 'resolved'
            WHEN d.r_state < 0.985 THEN 'new' WHEN d.r_state < 0.993 THEN 'open'
            ELSE 'pending' END,
        p.priority, p.rank, 'general', 'email',
        1 + floor(d.r_cust * :customers)::int, 'customer' || d.id || '@example.org',
        a.id, t.id, '{}', '{}', '{}', '[]', md5(d.id::text), d.at, d.at, 0, 1
    FROM draws AS d
    JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS i FROM teams) AS t
        ON t.i = floor(d.r_team * 5)::int
    JOIN (SELECT a.id, at.team_id, row_number() OVER (PARTITION BY at.team_id ORDER BY a.id)
            - 1 AS i FROM agents AS a JOIN agent_teams AS at ON at.agent_id = a.id) AS a
        ON a.team_id = t.id AND a.i = floor(d.r_agent * :per_team)::int
    JOIN (VALUES (0, 'normal', 2), (1, 'high', 1), (2, 'low', 3), (3, 'urgent', 0))
        AS p(k, priority, rank)
        ON p.k = CASE WHEN d.r_prio < 0.6 THEN 0 WHEN d.r_prio < 0.8 THEN 1
            WHEN d.r_prio < 0.95 THEN 2 ELSE 3 END""",
    """INSERT INTO messages (ticket_id, direction, channel, author, body_text, headers,
        created_at)
    SELECT id, 'inbound', 'email', 'Customer <customer' || id || '@example.org>',
        'My problem number ' || id || ' started this morning, please help.', '{}', created_at
    FROM tickets""",
    """INSERT INTO sla_timers (ticket_id, kind, policy, calendar, target_s, warn_share,
        consumed_s, started_at, running_since, paused, due_at, breached_at, escalation_step)
    SELECT t.id, 'resolution', 'default', '24x7', 86400, 0.8, 0, t.created_at,
        t.created_at, t.status = 'pending',
        CASE WHEN d.r_due >= 0.1 THEN :now + make_interval(mins => (d.r_due * 2000)::int) END,
        CASE WHEN d.r_due < 0.1 THEN :now - interval '1 hour' END, 0
    FROM tickets AS t JOIN draws AS d ON d.id = t.id WHERE t.status <> 'resolved'""",
    "DROP TABLE draws",
]
BIG = [
    """INSERT INTO tickets (id, subject, status, priority, priority_rank, category, channel,
        requester_id, requester_address, assignee_id, team_id, custom_fields,
        required_skills, optional_skills, tags, access_key, created_at, updated_at,
        reopen_count, reply_count)
    SELECT :big, 'A long conversation', 'open', 'high', 1, 'general', 'email', 1,
        'customer1@example.org', a.id, t.id, '{"plan": "gold"}', '{}', '{}', '["vpn"]',
        'big', :now - interval '30 days', :now, 0, 66
    FROM agents AS a, teams AS t WHERE a.name = 'support-1' AND t.name = 'support'""",
    """INSERT INTO messages (ticket_id, direction, channel, author, body_text, headers,
        created_at)
    SELECT :big, CASE g % 3 WHEN 0 THEN 'inbound' WHEN 1 THEN 'outbound' ELSE 'internal' END,
        'email', CASE g % 3 WHEN 0 THEN 'Customer <customer1@example.org>'
            ELSE 'agent:support-1' END,
        repeat('Line ' || g || ' of a message that goes on for a while. ', 8), '{}',
        :now - interval '30 days' + make_interval(mins => g * 10)
    FROM generate_series(0, :messages - 1) AS g""",
]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(round(q * (len(ordered) - 1)), len(ordered) - 1)]


def _settings_env(url: str) -> dict[str, str]:
    teams = [{"name": t, **({"supervisor": "sam"} if t == "support" else {})} for t in TEAMS]
    agents: list[dict[str, object]] = [
        {"name": f"{t}-{i}", "email": f"{t}{i}@bench.test", "teams": [t], "status": "online"}
        for t in TEAMS
        for i in range(1, AGENTS_PER_TEAM + 1)
    ]
    agents.append({"name": "sam", "email": "sam@bench.test", "capacity": 0})
    return {
        "RELAYDESK_DATABASE_URL": url,
        "RELAYDESK_BROKER_URL": "stub://",
        "RELAYDESK_TEAMS": json.dumps(teams),
        "RELAYDESK_AGENTS": json.dumps(agents),
        "RELAYDESK_HELPDESK__DEFAULT_TEAM": "support",
        "RELAYDESK_SMTP__TRANSPORT": "file",
        "RELAYDESK_STAFF__ARGON2_TIME_COST": "1",
        "RELAYDESK_STAFF__ARGON2_MEMORY_KIB": "1024",
    }


def _signed_in(app: object, name: str) -> TestClient:
    client = TestClient(app, base_url="http://desk.test")  # type: ignore[arg-type]
    answer = client.post("/desk/sign-in", data={"name": name, "password": PASSWORD})
    assert answer.status_code == 200, answer.text[:300]
    return client


def _time(client: TestClient, path: str, rounds: int) -> dict[str, float]:
    for _ in range(2):
        assert client.get(path).status_code == 200, path
    samples = []
    cpu = time.process_time()
    for _ in range(rounds):
        began = time.perf_counter()
        answer = client.get(path)
        samples.append((time.perf_counter() - began) * 1000)
        assert answer.status_code == 200, path
    cpu_ms = (time.process_time() - cpu) * 1000 / rounds
    return {"p50": statistics.median(samples), "p99": _pct(samples, 0.99), "cpu": cpu_ms}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument(
        "--database",
        help="A database to keep the seeded desk in and reuse: made and seeded when missing, "
        "reused when it holds --tickets tickets (drop it yourself when done).",
    )
    args = parser.parse_args()
    if args.database:
        _run(args, kept_database(args.database))
        return
    with fresh_postgres_database(durable=True) as url:
        _run(args, url)


def _seed(runtime: Runtime, tickets: int) -> None:
    began = time.perf_counter()
    params = {
        "start": NOW - timedelta(days=365),
        "now": NOW,
        "n": tickets,
        "span_s": 365 * 86400.0,
        "customers": CUSTOMERS,
        "per_team": AGENTS_PER_TEAM,
        "big": tickets + 1,
        "messages": BIG_MESSAGES,
    }
    with runtime.db.engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for statement in SEED + BIG:
            used = {k: v for k, v in params.items() if f":{k}" in statement}
            conn.execute(text(statement), used)
        conn.execute(text("SELECT setval('tickets_id_seq', :n)"), {"n": tickets + 1})
        conn.execute(text("SET LOCAL session_replication_role = origin"))
        build_missing_documents(conn)
        count_totals(conn)
    with runtime.db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    seeded = time.perf_counter() - began
    print(f"seeded {tickets:,} tickets in {seeded:.0f} s", flush=True)


def _run(args: argparse.Namespace, url: str) -> None:
    runtime = build_runtime(load_settings(environ=_settings_env(url)), pool_size=4)
    runtime.clock = lambda: NOW
    try:
        prepare_database(runtime)
        with runtime.db.engine.connect() as conn:
            present = conn.execute(text("SELECT count(*) FROM tickets")).scalar_one()
        if present == 0:
            _seed(runtime, args.tickets)
        elif present == args.tickets + 1:
            print(f"the database holds {present:,} tickets: not seeded again", flush=True)
        else:
            sys.exit(f"the database holds {present} tickets, not {args.tickets + 1}: drop it")
        for name in ("support-1", "sam"):
            set_password(runtime, name, PASSWORD)
        app = make_served_app(runtime)
        agent, boss = _signed_in(app, "support-1"), _signed_in(app, "sam")
        big = args.tickets + 1
        timed = {
            "queue": _time(agent, "/desk/", args.rounds),
            "queue_all": _time(boss, "/desk/?view=all", args.rounds),
            "ticket": _time(agent, f"/desk/tickets/{big}", args.rounds),
            "api_list": _time(
                agent, "/api/v1/desk/tickets?assignee=support-1&status=open", args.rounds
            ),
            "api_ticket": _time(agent, f"/api/v1/desk/tickets/{big}", args.rounds),
        }
        for name, figures in timed.items():
            over = "  OVER" if figures["p99"] > TARGET_MS and "api" not in name else ""
            print(
                f"  {name:<11} p50 {figures['p50']:7.1f} ms  p99 {figures['p99']:7.1f} ms  "
                f"CPU {figures['cpu']:5.1f} ms a request" + over,
                flush=True,
            )
    finally:
        runtime.close()
    line = " ".join(
        f"{name}_p99_ms={f['p99']:.1f} {name}_p50_ms={f['p50']:.1f} {name}_cpu_ms={f['cpu']:.1f}"
        for name, f in timed.items()
    )
    print(
        f"tickets={args.tickets} rounds={args.rounds} {line} load_average={os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
