"""The stdlib's ``policy.default``, with its header classes built once and its headers
parsed once.

``HeaderRegistry.__getitem__`` creates a new class (``type(...)``) for every
header it parses; profiling the ingest worker showed that as the largest single
cost of reading headers. This registry builds one class per base class, as the
stdlib would, and re-uses it.

``policy.default`` also parses a header again on every access: reading one
email asked for its parts' Content-Type about ten times (the parser asks, and
so does every ``get_content_type()``), and parsing structured headers was a
third of the ingest worker's CPU. Parsed headers are immutable (a ``str`` with
its parse tree and defects), so this registry keeps the last 256 short ones by
``(name, value)`` and hands the same object out again: a few MiB per process,
at most ~35 MiB (a parse tree is big: 10-20 KiB for a usual header, ~130 KiB for
256 characters of addresses). A header also keeps what it folded into, per policy:
folding walks the parse tree again each time, and writing an outbound email folded the
same constant headers (From, MIME-Version, Content-Type, ...) for every message.
Everything else is ``policy.default``.
"""

from __future__ import annotations

from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.policy import EmailPolicy, Policy
from functools import lru_cache
from typing import TYPE_CHECKING, Any

_CACHED = 256  # parsed headers kept: a parse tree is 10-20 KiB for a usual header
_LONGEST_CACHED = 256  # characters: a longer value is parsed on each access


class _FoldedOnce:
    """A header's folding, kept: the same for the same line length, line separator and
    ``utf8`` (all that the stdlib's folder reads of a policy, ``_refold_parse_tree``).
    Keyed by those, not by the policy: the generator clones its policy for each part.
    Its bytes are kept beside it, as ``EmailPolicy.fold_binary`` encodes a header's
    folding (``utf8`` says how)."""

    def fold(self, *, policy: Policy) -> str:
        folds: dict[tuple[object, ...], str] = self.__dict__.setdefault("_folds", {})
        key = (policy.max_line_length, policy.linesep, getattr(policy, "utf8", False))
        folded = folds.get(key)
        if folded is None:  # a race folds it twice: harmless, both are equal
            folded = folds[key] = super().fold(policy=policy)  # type: ignore[misc]
        return folded

    def fold_binary(self, *, policy: _EmailPolicy) -> bytes:
        folds: dict[tuple[object, ...], bytes] = self.__dict__.setdefault("_binary_folds", {})
        key = (policy.max_line_length, policy.linesep, policy.utf8)
        folded = folds.get(key)
        if folded is None:
            text = self.fold(policy=policy)
            folded = folds[key] = text.encode("utf8" if policy.utf8 else "ascii", "surrogateescape")
        return folded


class _BuiltOnceRegistry(HeaderRegistry):
    def __init__(self) -> None:
        super().__init__()
        self._built: dict[type, type[BaseHeader]] = {}
        self._parsed = lru_cache(maxsize=_CACHED)(self._parse)

    def __getitem__(self, name: str) -> Any:
        base = self.registry.get(name.lower(), self.default_class)
        built = self._built.get(base)
        if built is None:  # a race builds it twice: harmless, both are equal
            built = type("_" + base.__name__, (_FoldedOnce, base, self.base_class), {})
            self._built[base] = built
        return built

    def __call__(self, name: str, value: str) -> Any:
        if type(value) is str and len(value) <= _LONGEST_CACHED:
            return self._parsed(name, value)
        return self._parse(name, value)

    def _parse(self, name: str, value: str) -> Any:
        return self[name](name, value)


if TYPE_CHECKING:  # generic only in the stubs
    _EmailPolicy = EmailPolicy[EmailMessage]
else:
    _EmailPolicy = EmailPolicy


class _FoldedOncePolicy(_EmailPolicy):
    """``policy.default``, whose ``fold_binary`` (what the generator writes each header
    with) hands out a header's kept bytes: for a header object it encodes the header's
    own ``fold``, whatever ``cte_type`` and the name it is given."""

    def fold_binary(self, name: str, value: Any) -> bytes:
        if isinstance(value, _FoldedOnce):
            return value.fold_binary(policy=self)
        return super().fold_binary(name, value)


FoldedOncePolicy = _FoldedOncePolicy  # (``reading_policy`` builds on it)

# policy.default's settings (it is ``EmailPolicy()``), with the registry above
POLICY = _FoldedOncePolicy(header_factory=_BuiltOnceRegistry())
