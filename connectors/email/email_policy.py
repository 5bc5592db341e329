"""The stdlib's ``policy.default``, with its header classes built once.

``HeaderRegistry.__getitem__`` creates a new class (``type(...)``) for every
header it parses; profiling the ingest worker showed that as the largest single
cost of reading headers. This registry builds one class per base class, as the
stdlib would, and re-uses it. Everything else is ``policy.default``.
"""

from __future__ import annotations

from email import policy
from email.headerregistry import BaseHeader, HeaderRegistry
from typing import Any


class _BuiltOnceRegistry(HeaderRegistry):
    def __init__(self) -> None:
        super().__init__()
        self._built: dict[type, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> Any:
        base = self.registry.get(name.lower(), self.default_class)
        built = self._built.get(base)
        if built is None:  # a race builds it twice: harmless, both are equal
            built = type("_" + base.__name__, (base, self.base_class), {})
            self._built[base] = built
        return built


POLICY = policy.default.clone(header_factory=_BuiltOnceRegistry())
