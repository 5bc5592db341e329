"""Values a test expects to be there: ``None`` fails the test where it is met, and the
type checker then knows the values are there."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

T = TypeVar("T")


def present(values: Iterable[T | None]) -> list[T]:
    """Each of ``values``, asserting that none is ``None``."""
    found = list(values)
    assert None not in found, f"missing: {found}"
    return [value for value in found if value is not None]
