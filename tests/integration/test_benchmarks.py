"""Every benchmark runs as its docstring says, from the repository, at a tiny size.

Figures are not checked (timing never goes in a test): only that each benchmark
finishes and ends with its line of key=value figures, so a change that breaks one
is seen here, not by the next person who measures.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.benchmarks]

ROOT = Path(__file__).resolve().parents[2]
TINY = {
    "api": "--tickets 2000 --clients 2 --rounds 2",
    "faults": "--rate 2 --faults kill --kills 1 --settle 3 --warmup 2 --no-together",
    "email_intake": "--messages 20 --processes 1 --threads 2 --smtp-clients 1 --skip-desk",
    "idle_backlog": "--tickets 10 --settle 0.5 --window 1",
    "pages": "--tickets 2000 --rounds 3",
    "pipeline": "--tickets 20 --processes 1 --threads 2 --agents 3 --noop-messages 100 "
    "--rates 50 --paced-tickets 20",
    "reports": "--tickets 1000 --rounds 1",
    "routing": "--agents 30 --skills 8 --tickets 50 --warmup 5 --e2e-tickets 10 "
    "--e2e-agents 3 --processes 1 --threads 2",
    "sla": "--tickets 2000 --due 20 --interval 0.2",
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
    "routing_e2e",
    "web_load_users",
}  # parts of the above


def test_every_benchmark_has_a_tiny_run_here() -> None:
    modules = {p.stem for p in (ROOT / "benchmarks").glob("*.py")} - HELPERS
    assert modules == set(TINY)


@pytest.mark.parametrize("name", sorted(TINY))
def test_the_benchmark_runs_to_its_figures_at_a_tiny_size(name: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "RELAYDESK_BENCH_REDIS"}
    result = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{name}", *TINY[name].split()],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    last = result.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"(\S+=\S+ )*\S+=\S+", last), last
