"""Query parameters the staff API's lists share: names, and instants within the store's years."""

# no `from __future__ import annotations`: FastAPI reads these types at run time

import re
from datetime import UTC, datetime
from typing import Annotated

from fastapi import HTTPException, Query
from pydantic import StringConstraints

from router.report_period import YEARS

WORD = r"^[^\u0000-\u001f\u007f]{1,200}$"  # a name or a value: no control characters
# the API's names, each documented with its pattern (an empty one is refused, as the
# document says); the workspace's forms take Words, and leave out the fields left empty
Name = Annotated[str, StringConstraints(pattern=WORD)]
Names = Annotated[list[Name], Query(max_length=50)]
Words = Annotated[list[str], Query(max_length=50)]
EARLIEST, LATEST = datetime(YEARS.start, 1, 1, tzinfo=UTC), datetime(YEARS.stop, 1, 1, tzinfo=UTC)


def checked(
    values: list[str], name: str, pattern: str = WORD, kind: str = "a name (1-200 characters)"
) -> tuple[str, ...]:
    """``values`` as names (each matching ``pattern``), or 422 naming the first that is not
    ``kind``."""
    for value in values:
        if not re.fullmatch(pattern, value):
            raise HTTPException(422, detail=f"{name}: {value!r} is not {kind}")
    return tuple(values)


def instant(value: datetime | None, name: str) -> datetime | None:
    """An aware instant (UTC when it gives no zone) the store can keep, or 422."""
    if value is None:
        return None
    value = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if not EARLIEST <= value < LATEST:
        raise HTTPException(
            422, detail=f"{name}: an instant from {YEARS.start} to {YEARS.stop - 1}"
        )
    return value


VERSION = r"^[0-9a-f]{1,16}$"  # config/versions.py: hex digits of a SHA-256
# what a value refused by one of these patterns should have been, said in words (a 422's msg)
PATTERN_WORDS = {
    WORD: "a name: 1-200 characters, none of them a control character",
    VERSION: "a configuration version: 1-16 lowercase hexadecimal digits",
}
Versions = Annotated[
    list[Annotated[str, StringConstraints(pattern=VERSION)]],
    Query(max_length=10, description="The configuration version that classified the ticket."),
]


def versions(values: list[str], name: str = "config_version") -> tuple[str, ...]:
    """``values`` as configuration versions, or 422 naming the first that is not one."""
    return checked(values, name, VERSION, "a configuration version")
