"""``connectors.version_ports.VersionDesk`` over ``workers.desk.report_comparison``."""

from __future__ import annotations

from router.report_comparison import Comparison, ReportVersions
from router.report_figures import ReportFilters
from router.report_period import Period
from store.errors import store_errors
from workers.desk.report_comparison import compare_versions, report_versions
from workers.runtime.context import Runtime


class VersionPorts:
    runtime: Runtime

    def report_versions(self) -> ReportVersions:
        with store_errors("report versions"):
            return report_versions(self.runtime)

    def compare_versions(
        self, period: Period, filters: ReportFilters, *, first: str | None, second: str | None
    ) -> Comparison:
        with store_errors("compare versions"):
            return compare_versions(self.runtime, period, filters, first=first, second=second)
