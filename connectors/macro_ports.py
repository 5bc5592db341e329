"""The staff's macro seam (``MacroDesk``): the list, applying one, an admin's changes. Part
of ``connectors.ports.Staff``, implemented by ``workers.desk.macro_ports``."""

from __future__ import annotations

from typing import Protocol

from router.macros import MacroApplied, MacroDefinition
from router.staff_views import Caller
from router.vocabulary import Status


class MacroDesk(Protocol):
    """Macros (``[[macros]]`` and those admins keep through the API): the list, applying one
    (the caller may reply: checked), and an admin's changes (the caller is an admin:
    checked)."""

    def macros(self) -> list[MacroDefinition]: ...

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
        """``NotFound`` for no such macro (or kept file); ``StaleVersion``;
        ``PermanentError`` (``InvalidTransition``) or ``ValueError`` for a reply or change
        the ticket cannot take: nothing was sent. ``files``: (sha256, filename) kept."""
        ...

    def create_macro(self, caller: Caller, macro: MacroDefinition) -> None:
        """``PermanentError`` for a name taken, ``ValueError`` for an unknown team."""
        ...

    def replace_macro(self, caller: Caller, macro: MacroDefinition) -> None:
        """``NotFound`` for no kept macro of that name; ``PermanentError`` for the config's."""
        ...

    def remove_macro(self, caller: Caller, name: str) -> None:
        """``NotFound`` for no kept macro of that name; ``PermanentError`` for the config's."""
        ...
