"""Every benchmark runs as its docstring says, at a tiny size: what people read.

Figures are not checked (timing never goes in a test): only that each benchmark
finishes and ends with its line of key=value figures, so a change that breaks one
is seen here, not by the next person who measures. The runs are in three files
(tests/support/benchmark_runs.py) so that three test processes take them side by side.
"""

from __future__ import annotations

import pytest

from tests.support.benchmark_runs import READERS, run_tiny

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.benchmarks]


@pytest.mark.parametrize("name", sorted(READERS))
def test_the_benchmark_runs_to_its_figures_at_a_tiny_size(name: str) -> None:
    run_tiny(name, READERS[name])
