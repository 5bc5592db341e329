"""The staff OpenAPI fuzz (tests/support/staff_fuzz.py), its fourth group: the supervisor's
reads (the board, the reports, their versions and comparison, the tickets' export)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.staff_fuzz import READS, fuzz_operations

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_every_board_and_report_operation_answers_an_admins_program_as_documented(
    sqlite_url: str, empty_postgres_url: str, tmp_path: Path
) -> None:
    # the board, the report, its versions and comparison, the tickets' export
    fuzz_operations(READS, 5, sqlite_url, empty_postgres_url, tmp_path)
