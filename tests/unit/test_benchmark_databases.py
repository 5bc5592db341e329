"""Every benchmark measures on a database whose commits wait for the WAL flush, as a
deployment's do: the tests' databases do not (tests/support/services.py), and a benchmark
on one would leave that cost out of its figures."""

from __future__ import annotations

import re
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
CALL = re.compile(r"fresh_postgres_database\(([^)]*)\)")


def test_every_benchmark_database_is_durable() -> None:
    calls = {
        f"{path.name}: fresh_postgres_database({args})"
        for path in sorted(BENCHMARKS.glob("*.py"))
        for args in CALL.findall(path.read_text(encoding="utf-8"))
    }
    assert calls, "no benchmark makes a database: the pattern is stale"
    assert {call for call in calls if "durable=True" not in call} == set()


def test_no_benchmark_makes_a_database_another_way() -> None:
    # create_database is the tests' (synchronous_commit off unless durable)
    found = [
        path.name
        for path in sorted(BENCHMARKS.glob("*.py"))
        if re.search(r"\bcreate_database\(", path.read_text(encoding="utf-8"))
    ]
    assert found == []
