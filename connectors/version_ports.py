"""What the reports need to narrow figures to a configuration version and to set two
versions side by side (a pilot against the rest)."""

from __future__ import annotations

from typing import Protocol

from router.report_comparison import Comparison, ReportVersions
from router.report_figures import ReportFilters
from router.report_period import Period


class VersionDesk(Protocol):
    """The caller's teams already decided (``router.report.report_teams``)."""

    def report_versions(self) -> ReportVersions:
        """The versions a report may be narrowed to (newest first), and the last pilot."""
        ...

    def compare_versions(
        self, period: Period, filters: ReportFilters, *, first: str | None, second: str | None
    ) -> Comparison:
        """``first`` beside ``second`` (the last pilot's candidate and rest for a side not
        named); ``NoSides`` when a side is missing."""
        ...
