"""Keep the reports' rollups and load samples current (a scheduled step).

The scheduler calls ``refresh_reports`` every ``reports.refresh_s``; a report
calls it too before it reads, so what it shows is never older than its own
start, even when no scheduler runs (the command line on an embedded desk).
"""

from __future__ import annotations

from datetime import timedelta

from store.report_rollups import ReportRollups
from workers.runtime.context import Runtime


def refresh_reports(runtime: Runtime, *, sample_load: bool = True) -> int:
    """Count again the days that changed; sample agents' load. The days counted."""
    settings = runtime.settings.reports
    now = runtime.now()
    with runtime.db.unit_of_work() as uow:
        rollups = ReportRollups(uow.session)
        days = rollups.refresh(now, settings.timezone)
        if sample_load:
            rollups.sample_load(now, settings.timezone, timedelta(seconds=settings.load_sample_s))
    return days
