"""A log line as ``configure`` sets it up: the stdlib's text, its time made once a second,
and the record made without a walk of the stack (neither format names the caller)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from workers.runtime.json_logs import TextFormatter, configure

STDLIB = logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``configure``'s changes to the logging module, undone after the test."""
    root = logging.getLogger()
    monkeypatch.setattr(logging, "_srcfile", logging._srcfile)
    monkeypatch.setattr(logging, "logMultiprocessing", logging.logMultiprocessing)
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    level = root.level
    yield
    root.setLevel(level)


@pytest.mark.parametrize(
    "created",
    # within one second, across a second, a minute, a day, and back again
    [1.5e9, 1.5e9 + 0.999, 1.5e9 + 1.0005, 1.5e9 + 59.9996, 1.5e9 + 86_400.25, 1.5e9 + 0.5],
)
def test_a_text_line_is_the_stdlib_formatters(created: float) -> None:
    formatter = TextFormatter()
    for at in (1.4e9, created, created):  # a second made before, and this one kept
        record = logging.LogRecord("workers.x", logging.INFO, "p.py", 1, "a %s", ("b",), None)
        record.created, record.msecs = at, (at - int(at)) * 1000
        assert formatter.format(record) == STDLIB.format(record)


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_line_is_written_without_finding_its_caller(
    log_format: str, configured: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(log_format, logging.INFO)
    stream = io.StringIO()
    logging.getLogger().handlers[0].setStream(stream)  # type: ignore[attr-defined]

    def walked(*args: object, **kwargs: object) -> None:
        raise AssertionError("the stack was walked for the caller")

    monkeypatch.setattr(logging.Logger, "findCaller", walked)
    logging.getLogger("workers.steps.deliver_record").info(
        "outbox %s delivered to %s", 3, "jo@example.org", extra={"outbox_id": 3}
    )
    line = stream.getvalue()
    if log_format == "json":
        event = json.loads(line)
        assert event["message"] == "outbox 3 delivered to jo@example.org"
        assert event["outbox_id"] == 3 and event["thread"]
    else:
        assert line.endswith(
            " INFO workers.steps.deliver_record: outbox 3 delivered to jo@example.org\n"
        )
