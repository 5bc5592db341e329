"""Each benchmark's tiny run, and how the suite runs one from the repository.

The runs are spread over three test files (``test_benchmarks*.py``) so that, with
``--dist loadfile``, three processes take them side by side; ``test_benchmarks.py``
checks that together they name every benchmark.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# the desk's own paths: intake, pipeline, routing, SLA
DESK = {
    "idle_backlog": "--tickets 10 --settle 0.5 --window 1",
    "pipeline": "--tickets 20 --processes 1 --threads 2 --agents 3 --noop-messages 100 "
    "--rates 50 --paced-tickets 20",
    "routing": "--agents 30 --skills 8 --tickets 50 --warmup 5 --e2e-tickets 10 "
    "--e2e-agents 3 --processes 1 --threads 2",
    "sla": "--tickets 2000 --due 20 --interval 0.2",
    "worker_memory": "--tickets 20 --samples 2 --warm-tickets 5 --processes 1 --threads 2 "
    "--agents 3",
}
# what people read: the staff API, pages, reports, simulations
READERS = {
    "api": "--tickets 2000 --clients 2 --rounds 2",
    "pages": "--tickets 2000 --rounds 3",
    "reports": "--tickets 1000 --rounds 1",
    "report_versions": "--tickets 1000 --rounds 1",
    "simulation": "--tickets 2000",
}
# the channels' edges and faults
EDGES = {
    "email_intake": "--messages 20 --processes 1 --threads 2 --smtp-clients 1 --skip-desk",
    "faults": "--rate 2 --faults kill --kills 1 --settle 3 --warmup 2 --no-together",
    "web_intake": "--submissions 10 --rate 50 --load 3 --clients 2",
}
HELPERS = {
    "__init__",
    "bench_redis",
    "desk_seed",
    "fault_fleet",
    "fault_ledger",
    "fault_load",
    "mail_corpus",
    "pipeline_desk",
    "routing_e2e",
    "web_load_users",
}  # parts of the above


def run_tiny(name: str, arguments: str) -> None:
    """Runs ``python -m benchmarks.NAME`` as its docstring says and checks its last line."""
    env = {k: v for k, v in os.environ.items() if k != "RELAYDESK_BENCH_REDIS"}
    result = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{name}", *arguments.split()],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    last = result.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"(\S+=\S+ )*\S+=\S+", last), last
