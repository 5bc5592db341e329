"""``connectors.ports.SavedSearchDesk`` over the saved searches (part of ``StaffPorts``)."""

from __future__ import annotations

from typing import Any

from router.saved_searches import SavedSearch
from router.staff_views import Caller
from store.errors import store_errors
from workers.desk import saved_searches
from workers.runtime.context import Runtime


class SavedSearchPorts:
    """Implements ``connectors.ports.SavedSearchDesk``; an outage of the store is a
    ``TransientError`` (503)."""

    runtime: Runtime

    def saved_searches(self, caller: Caller) -> list[tuple[SavedSearch, int]]:
        with store_errors("list saved searches"):
            return saved_searches.saved_searches(self.runtime, caller)

    def saved_search(self, caller: Caller, search_id: int) -> SavedSearch:
        with store_errors("read saved search"):
            return saved_searches.saved_search(self.runtime, caller, search_id)

    def save_search(
        self, caller: Caller, name: str, filters: dict[str, Any], team: str | None
    ) -> SavedSearch:
        with store_errors("save search"):
            return saved_searches.save_search(self.runtime, caller, name, filters, team)

    def remove_search(self, caller: Caller, search_id: int) -> None:
        with store_errors("remove saved search"):
            saved_searches.remove_search(self.runtime, caller, search_id)
