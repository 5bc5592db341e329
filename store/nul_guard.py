"""The store's last guard: no NUL (U+0000) reaches the database, whatever the path.

The edges apply the rule first (``router.storable``: the web refuses a NUL with
the field named, email and Telegram remove it and say so among the message's
problems); this removes any that still arrives, from every statement's values
and from every JSON document, so SQLite and PostgreSQL keep the same text (and
PostgreSQL never refuses a whole message over one character).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from router.storable import without_nul

log = logging.getLogger(__name__)


def json_dumps(value: Any) -> str:
    """The engine's JSON serializer: ``json.dumps`` of ``value`` without NUL in its texts."""
    text = json.dumps(value)
    if "\\u0000" not in text:  # the only way json.dumps writes a NUL
        return text
    cleaned, count = without_nul(value)
    if count:
        log.warning("removed %d NUL characters from a JSON value on its way to the store", count)
    return json.dumps(cleaned)


def install(engine: Engine) -> None:
    """Remove NUL from the text values of every statement ``engine`` executes.

    Listens on the engine's dialect (``do_execute``, ``do_executemany``), not on the
    engine: any listener on an engine makes each of its connections join the engine's
    events and look each one up as it passes, a fifth to a third more instructions for a
    one-statement transaction (see docs/performance.md, "A transaction's fixed cost").
    Values without NUL, nearly all, go on to the driver as they are; values with one are
    sent cleaned here, and the driver's own call is skipped."""
    event.listen(engine, "do_execute", _execute)
    event.listen(engine, "do_executemany", _executemany)


def _execute(cursor: Any, statement: str, parameters: Any, context: Any) -> bool:
    cleaned = cleaned_values(statement, parameters)
    if cleaned is None:
        return False
    context.dialect.do_execute(cursor, statement, cleaned, context)
    return True


def _executemany(cursor: Any, statement: str, parameters: Any, context: Any) -> bool:
    cleaned = cleaned_values(statement, parameters)
    if cleaned is None:
        return False
    context.dialect.do_executemany(cursor, statement, cleaned, context)
    return True


def cleaned_values(statement: str, parameters: Any) -> Any:
    """``parameters`` without NUL, or None when they hold none (also for a statement run
    on the driver's cursor, ``store.driver_statements``, which no listener sees)."""
    cleaned, count = without_nul(parameters)
    if not count:
        return None
    verb = statement.split(None, 1)[0] if statement else "?"
    log.warning("removed %d NUL characters from the values of an %s", count, verb)
    return cleaned
