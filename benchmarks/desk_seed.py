"""A year of a large desk, seeded in bulk on PostgreSQL for the benchmarks that read it.

``INSERT ... SELECT generate_series`` with a seeded ``random()`` (the use cases would
take hours): 5 teams of 12 agents (the configuration ``desk_config`` writes), 200,000
customers (30 % in one of 2,000 organisations), N tickets spread over the year before
``NOW`` (channel 60 % email, 25 % web, 15 % Telegram; 3 categories per team;
priorities 60/20/15/5 % normal/high/low/urgent; tags on a third), each with three
messages (the customer's, the agent's reply, the customer's thanks), its assignment,
first response (1 min to 7 h), resolution (1 h to 6 days; 5 % reopened once; the last
two weeks mostly still open or pending), two SLA clocks (10 % breached, escalation steps
0-2; a running one past its target breached, one before it due), a rating for a third of
the resolved tickets (four in five good) and a year of agents' load samples; with the
triggers off (``session_replication_role = replica``), then each ticket's search document
in one pass (``store.ticket_search.build_missing_documents``) and every requester's
tickets (``store.report_requester_bounds.count_totals``). Then ``VACUUM ANALYZE``.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from store.report_requester_bounds import count_totals
from store.ticket_search import build_missing_documents
from tests.support.services import PG_ADMIN_URL
from workers.runtime.context import Runtime

TEAMS = ("support", "billing", "tech", "sales", "accounts")
AGENTS_PER_TEAM = 12
CUSTOMERS = 200_000
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

CONFIG = """
[helpdesk]
name = "relaydesk benchmark"
address = "support@bench.test"
default_team = "support"
[smtp]
transport = "file"
file_dir = "{outbox}"
[reports]
timezone = "Europe/Berlin"
{extra}
{teams}{agents}"""


def desk_config(path: Path, outbox: Path, *, extra: str = "", more_agents: str = "") -> Path:
    """The seeded desk's configuration (its teams and agents), with ``extra`` settings."""
    teams = "".join(f'[[teams]]\nname = "{t}"\n' for t in TEAMS)
    agents = "".join(
        f'[[agents]]\nname = "{t}-{i}"\nemail = "{t}{i}@bench.test"\nteams = ["{t}"]\n'
        for t in TEAMS
        for i in range(1, AGENTS_PER_TEAM + 1)
    )
    path.write_text(
        CONFIG.format(outbox=outbox, extra=extra, teams=teams, agents=agents + more_agents)
    )
    return path


SEED = [
    "SELECT setseed(0.42)",
    """INSERT INTO organisations (id, name, attributes, created_at, updated_at)
    SELECT g, 'Org ' || g, '{}', :start, :start FROM generate_series(1, 2000) AS g""",
    """INSERT INTO customers (name, tier, organisation_id, attributes, created_at)
    SELECT 'Customer ' || g, NULL,
        CASE WHEN random() < 0.3 THEN 1 + floor(random() * 2000)::int END, '{}', :start
    FROM generate_series(1, :customers) AS g""",
    # one row per ticket with its random draws, then the tickets from it
    """CREATE TEMPORARY TABLE draws AS
    SELECT g AS id,
        :start + make_interval(secs => (g - 1 + random()) * :span_s / :n) AS created_at,
        random() AS r_channel, random() AS r_team, random() AS r_cat, random() AS r_prio,
        random() AS r_agent, random() AS r_first, random() AS r_done, random() AS r_state,
        random() AS r_tag, random() AS r_cust
    FROM generate_series(1, :n) AS g""",
    """INSERT INTO tickets (id, subject, status, priority, priority_rank, category, channel,
        requester_id, requester_address, assignee_id, team_id, custom_fields, required_skills,
        optional_skills, tags, access_key, created_at, updated_at, assigned_at,
        first_response_at, first_responder_id, first_response_business_s, resolved_at,
        closed_at, done_at, resolution_business_s, reopen_count, reply_count, queued_at)
    SELECT d.id, 'Problem number ' || d.id, s.status, p.priority, p.rank,
        t.name || '-' || (1 + floor(d.r_cat * 3)::int),
        CASE WHEN d.r_channel < 0.6 THEN 'email' WHEN d.r_channel < 0.85 THEN 'web'
            ELSE 'telegram' END,
        1 + floor(d.r_cust * :customers)::int, 'customer' || d.id || '@example.org',
        a.id, t.id, '{}'::jsonb, '{}'::jsonb, '{}'::jsonb,
        CASE WHEN d.r_tag < 0.15 THEN '["vpn"]'::jsonb WHEN d.r_tag < 0.25
            THEN '["billing", "refund"]'::jsonb WHEN d.r_tag < 0.33 THEN '["login"]'::jsonb
            ELSE '[]'::jsonb END,
        md5(d.id::text), d.created_at, coalesce(f.done_at, f.first_at, d.created_at),
        d.created_at + interval '30 seconds', f.first_at, a.id,
        extract(epoch FROM f.first_at - d.created_at) * 0.6,
        CASE WHEN s.status IN ('resolved', 'closed') THEN f.done_at END,
        CASE WHEN s.status = 'closed' THEN f.done_at + interval '3 days' END,
        CASE WHEN s.status IN ('resolved', 'closed') THEN f.done_at END,
        CASE WHEN s.status IN ('resolved', 'closed')
            THEN extract(epoch FROM f.done_at - d.created_at) * 0.5 END,
        CASE WHEN d.r_state < 0.05 THEN 1 ELSE 0 END, 1 + floor(d.r_first * 3)::int,
        d.created_at
    FROM draws AS d
    CROSS JOIN LATERAL (SELECT CASE WHEN d.r_team < 0.4 THEN 1 WHEN d.r_team < 0.6 THEN 2
        WHEN d.r_team < 0.8 THEN 3 WHEN d.r_team < 0.9 THEN 4 ELSE 5 END AS k) AS tk
    JOIN teams AS t ON t.name = (ARRAY['support', 'billing', 'tech', 'sales', 'accounts'])[tk.k]
    JOIN agents AS a ON a.name = t.name || '-' || (1 + floor(d.r_agent * :per_team)::int)
    CROSS JOIN LATERAL (SELECT CASE WHEN d.r_prio < 0.6 THEN 'normal' WHEN d.r_prio < 0.8
        THEN 'high' WHEN d.r_prio < 0.95 THEN 'low' ELSE 'urgent' END AS priority) AS pp
    CROSS JOIN LATERAL (SELECT pp.priority, CASE pp.priority WHEN 'urgent' THEN 0
        WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END AS rank) AS p
    CROSS JOIN LATERAL (SELECT
        d.created_at + make_interval(secs => 60 * exp(d.r_first * 6)) AS first_at,
        d.created_at + make_interval(secs => 3600 * exp(d.r_done * 5)) AS done_at) AS f0
    CROSS JOIN LATERAL (SELECT
        CASE WHEN f0.first_at < :now THEN f0.first_at END AS first_at,
        CASE WHEN f0.done_at < :now THEN f0.done_at END AS done_at) AS f
    CROSS JOIN LATERAL (SELECT CASE
        WHEN f.done_at IS NULL OR (d.created_at > :now - interval '14 days' AND d.r_state > 0.7)
            THEN (CASE WHEN d.r_state > 0.85 THEN 'pending' ELSE 'open' END)
        WHEN d.r_state < 0.02 THEN 'open'
        WHEN f.done_at < :now - interval '7 days' THEN 'closed'
        ELSE 'resolved' END AS status) AS s""",
    "SELECT setval(pg_get_serial_sequence('tickets', 'id'), (SELECT max(id) FROM tickets))",
    "SELECT setval(pg_get_serial_sequence('organisations', 'id'), 2000)",
    """INSERT INTO messages (ticket_id, direction, channel, author, customer_id, agent_id,
        body_text, headers, created_at)
    SELECT t.id, m.direction, t.channel, m.author, t.requester_id, m.agent,
        m.body, '{}'::jsonb, m.at
    FROM tickets AS t
    CROSS JOIN LATERAL (VALUES
        ('inbound', 'customer', NULL::int,
            'Since this morning it refuses my login; I tried twice and reset the password.',
            t.created_at),
        ('outbound', 'agent', t.first_responder_id,
            'Thanks for writing: I reset your account, please try again now and tell me.',
            t.first_response_at),
        ('inbound', 'customer', NULL::int, 'It works again, thank you for the quick help!',
            t.done_at)
    ) AS m(direction, author, agent, body, at)
    WHERE m.at IS NOT NULL""",
    # a running clock past its target is breached (and due no more), one before it is due
    """INSERT INTO sla_timers (ticket_id, kind, policy, calendar, target_s, warn_share,
        consumed_s, started_at, running_since, stopped_at, paused, due_at, breached_at,
        escalation_step)
    SELECT t.id, k.kind, 'standard-' || t.priority, 'office', k.target, 0.75,
        coalesce(k.used, 0), t.created_at,
        CASE WHEN k.stop IS NULL AND t.status <> 'pending' THEN t.created_at END,
        k.stop, t.status = 'pending',
        CASE WHEN k.stop IS NULL AND t.status <> 'pending' AND k.due >= :now THEN k.due END,
        CASE WHEN k.used > k.target OR (k.stop IS NULL AND k.due < :now) THEN k.due END,
        CASE WHEN k.used > k.target OR (k.stop IS NULL AND k.due < :now) THEN (t.id % 3)
            ELSE 0 END
    FROM tickets AS t
    CROSS JOIN LATERAL (VALUES
        ('first_response', 14400.0, t.first_response_business_s, t.first_response_at),
        ('resolution', 172800.0, t.resolution_business_s, t.done_at)
    ) AS k0(kind, target, used, stop)
    CROSS JOIN LATERAL (SELECT k0.*, t.created_at + make_interval(secs => k0.target) AS due)
        AS k""",
    """INSERT INTO agent_load_days (day, agent_id, samples, load_sum, capacity_sum, peak,
        last_sample_at)
    SELECT d::date, a.id, 96, 96 * (1 + (a.id + extract(doy FROM d)::int) % 5),
        96 * a.capacity, 2 + (a.id + extract(doy FROM d)::int) % 4, d + interval '23 hours'
    FROM generate_series(:start, :now, interval '1 day') AS d CROSS JOIN agents AS a""",
    # a rating for about a third of the resolved tickets, four in five good
    """INSERT INTO ratings (ticket_id, resolution, agent_id, team_id, good, comment, via,
        created_at, updated_at)
    SELECT t.id, t.reopen_count, t.assignee_id, t.team_id, random() < 0.8, '', 'page',
        t.done_at + interval '1 hour', t.done_at + interval '1 hour'
    FROM tickets AS t
    WHERE t.done_at IS NOT NULL AND t.done_at < :now - interval '1 hour'
        AND t.id % 3 = 0""",
    "DROP TABLE draws",
]


def seed_desk(runtime: Runtime, tickets: int) -> float:
    """Seed ``tickets`` tickets (and the rest) into the migrated, empty store; seconds."""
    began = time.perf_counter()
    start = NOW - timedelta(days=365)
    params = {
        "start": start,
        "now": NOW,
        "n": tickets,
        "span_s": 365 * 86400.0,
        "customers": CUSTOMERS,
        "per_team": AGENTS_PER_TEAM,
    }
    with runtime.db.engine.begin() as conn:
        # triggers off while loading (each message would update its ticket's search
        # document: millions of updates); the documents are then built in one pass
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for statement in SEED:
            used = {k: v for k, v in params.items() if f":{k}" in statement}
            conn.execute(text(statement), used)
        conn.execute(text("SET LOCAL session_replication_role = origin"))
        build_missing_documents(conn)
        count_totals(conn)  # the top requesters' bounds, which the triggers keep
    with runtime.db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    return time.perf_counter() - began


def kept_database(name: str) -> str:
    """The URL of PostgreSQL database ``name``, made when missing; never dropped."""
    if not name.replace("_", "").isalnum():
        sys.exit(f"--database: letters, digits and _ only, not {name!r}")
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if found.first() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def seed_or_reuse(runtime: Runtime, tickets: int) -> float:
    """Seed an empty store; reuse one that holds ``tickets`` tickets already (a kept
    ``--database``); seconds spent seeding."""
    with runtime.db.engine.connect() as conn:
        present = conn.execute(text("SELECT count(*) FROM tickets")).scalar_one()
    if present == 0:
        print(f"seeding {tickets} tickets over a year ...", flush=True)
        return seed_desk(runtime, tickets)
    if present >= tickets:
        print(f"the database holds {present} tickets: not seeded again", flush=True)
        return 0.0
    sys.exit(f"the database holds {present} tickets, not {tickets}: drop it")
