"""The staff's saved searches seam (``SavedSearchDesk``). Part of ``connectors.ports.Staff``,
implemented by ``workers.desk.saved_search_ports``."""

from __future__ import annotations

from typing import Any, Protocol

from router.saved_searches import SavedSearch
from router.staff_views import Caller


class SavedSearchDesk(Protocol):
    def saved_searches(self, caller: Caller) -> list[tuple[SavedSearch, int]]:
        """The caller's own and their teams' shared searches, each with its count."""
        ...

    def saved_search(self, caller: Caller, search_id: int) -> SavedSearch:
        """``NotFound`` for one the caller does not see."""
        ...

    def save_search(
        self, caller: Caller, name: str, filters: dict[str, Any], team: str | None
    ) -> SavedSearch:
        """``ValueError`` for filters or a team that are not; ``PermissionError`` for a team
        the caller may not share with; ``PermanentError`` for a name taken."""
        ...

    def remove_search(self, caller: Caller, search_id: int) -> None:
        """``NotFound``; ``PermissionError`` for a shared one the caller may not remove."""
        ...
