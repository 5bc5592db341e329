"""``connectors.ports.MacroDesk`` over the macro use cases (part of ``StaffPorts``)."""

from __future__ import annotations

from router.macros import MacroApplied, MacroDefinition
from router.staff_views import Caller
from router.vocabulary import Status
from store.errors import store_errors
from workers.desk.macro_book import all_macros, create_macro, remove_macro, replace_macro
from workers.desk.macros import apply_macro
from workers.desk.reply_files import kept_file
from workers.runtime.context import Runtime


class MacroPorts:
    """Implements ``connectors.ports.MacroDesk``; an outage of the store is a
    ``TransientError`` (503)."""

    runtime: Runtime

    def macros(self) -> list[MacroDefinition]:
        with store_errors("list macros"):
            return all_macros(self.runtime)

    def apply_macro(
        self,
        caller: Caller,
        number: int,
        name: str,
        *,
        text: str | None = None,
        files: tuple[tuple[str, str], ...] = (),
        status: Status | None = None,
        if_match: str | None = None,
    ) -> MacroApplied:
        with store_errors("apply macro"):
            return apply_macro(
                self.runtime,
                number,
                name,
                caller.principal.name,
                actor=caller.origin,
                text=text,
                files=tuple(kept_file(self.runtime, sha256, n) for sha256, n in files),
                status=status,
                if_match=if_match,
            )

    def create_macro(self, caller: Caller, macro: MacroDefinition) -> None:
        with store_errors("make macro"):
            create_macro(self.runtime, macro, by=caller.principal.name)

    def replace_macro(self, caller: Caller, macro: MacroDefinition) -> None:
        with store_errors("change macro"):
            replace_macro(self.runtime, macro, by=caller.principal.name)

    def remove_macro(self, caller: Caller, name: str) -> None:
        with store_errors("remove macro"):
            remove_macro(self.runtime, name, by=caller.principal.name)
