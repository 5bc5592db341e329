"""The second half of the staff operations fuzzed (test_staff_openapi_fuzz.py says how):
a file of its own, so that xdist runs it beside the first half."""

from __future__ import annotations

import pytest

from tests.integration.test_staff_openapi_fuzz import desk, fuzz_staff_operations
from tests.support.staff import StaffDesk

pytestmark = [pytest.mark.integration, pytest.mark.slow]

__all__ = ["desk"]  # the fixture, shared with the first half


def test_the_second_half_of_the_staff_operations_answers_an_admins_program_as_documented(
    desk: StaffDesk,
) -> None:
    fuzz_staff_operations(desk, half=1)
