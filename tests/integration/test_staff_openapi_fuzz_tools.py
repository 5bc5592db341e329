"""The staff OpenAPI fuzz (tests/support/staff_fuzz.py), its third group: tools and admin
(webhooks, macros, saved searches, the admin's simulations)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.staff_fuzz import TOOLS, fuzz_operations

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_every_tool_and_admin_operation_answers_an_admins_program_as_documented(
    sqlite_url: str, empty_postgres_url: str, tmp_path: Path
) -> None:
    # the webhooks' 9, the macros' 4, the saved searches' 3, the simulation's 3
    fuzz_operations(TOOLS, 19, sqlite_url, empty_postgres_url, tmp_path)
