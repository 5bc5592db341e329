"""The shape of the code, checked from its syntax trees (docs/architecture.md says why).

Every import counts, those inside functions too; only ``if TYPE_CHECKING:`` blocks
are left out, since they never run.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from router.vocabulary import AuditAction, ChatAction, OutboxKind, SystemActor

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("router", "store", "connectors", "workers", "config")

# what each package may import of ours besides itself (workers: everything)
ALLOWED: dict[str, frozenset[str]] = {
    "router": frozenset(),
    "config": frozenset(),
    "store": frozenset({"router", "config"}),
    "connectors": frozenset({"router", "config"}),
    "workers": frozenset(PACKAGES),
}

MAX_LINES = 400
# modules allowed past the limit while a change that splits them is under way (none now)
KNOWN_LONG: frozenset[str] = frozenset()
# Imports that close a cycle, known and being removed (each with its change); none now.
KNOWN_CYCLE_EDGES: frozenset[tuple[str, str]] = frozenset()


def _source_files() -> Iterator[Path]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.relative_to(ROOT).parts:
                yield path


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES: dict[str, Path] = {_module_name(p): p for p in _source_files()}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import under ``node``, however deep, except in ``if TYPE_CHECKING:`` bodies."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield from _imports_of_statement(other)
            continue
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        yield from _imports(child)


def _imports_of_statement(statement: ast.stmt) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(statement, ast.Import | ast.ImportFrom):
        yield statement
    yield from _imports(statement)


def _resolve(module: str, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """The modules of ours an import statement loads (a package counts as its __init__)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module.split(".")
            if MODULES[module].name != "__init__.py":
                package = package[:-1]
            package = package[: len(package) - (node.level - 1)]
            base = ".".join([*package, base] if base else package)
        names = [f"{base}.{alias.name}" for alias in node.names]
        names = [n if n in MODULES else base for n in names]
    for name in names:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name and name.split(".")[0] in PACKAGES:
            yield name


@cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


@cache
def _graph() -> dict[str, frozenset[str]]:
    return {
        module: frozenset(
            target
            for node in _imports(_tree(path))
            for target in _resolve(module, node)
            if target != module
        )
        for module, path in MODULES.items()
    }


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of ours it imports (a fresh copy: callers may change it)."""
    return {module: set(targets) for module, targets in _graph().items()}


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_no_module_imports_another_that_imports_it_back() -> None:
    graph = import_graph()
    for module, target in KNOWN_CYCLE_EDGES:
        graph[module].discard(target)
    assert import_cycles(graph) == []


def test_the_known_cycle_edges_are_still_there() -> None:
    graph = import_graph()
    gone = sorted(f"{m} -> {t}" for m, t in KNOWN_CYCLE_EDGES if t not in graph.get(m, ()))
    assert gone == []


def test_imports_point_one_way_between_packages() -> None:
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in import_graph().items()
        for target in targets
        if (home := module.split(".")[0]) != (other := target.split(".")[0])
        and other not in ALLOWED[home]
    )
    assert wrong == []


def test_only_the_store_talks_to_the_database_library() -> None:
    """SQL is built, and SQLAlchemy's errors are caught, in store/ only (store/errors.py
    converts them); the rest gets repositories and the project's own errors."""
    database_libraries = ("sqlalchemy", "alembic", "psycopg")
    found = sorted(
        f"{module} imports {name}"
        for module, path in MODULES.items()
        if not module.startswith("store")
        for node in _imports(_tree(path))
        for name in _external_names(node)
        if name.split(".")[0] in database_libraries
    )
    assert found == []


def _external_names(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    return [node.module] if node.module and not node.level else []


def test_the_router_stays_pure() -> None:
    """router/ decides: the standard library (no sockets, threads, processes or clock
    module) and small pure libraries; IO and time come in as values."""
    pure_libraries = {"babel", "holidays"}
    io_modules = {"socket", "smtplib", "imaplib", "http", "threading", "subprocess", "asyncio"}
    io_modules |= {"sqlite3", "time", "multiprocessing", "ssl", "select", "selectors"}
    found = sorted(
        f"{module} imports {name}"
        for module, path in MODULES.items()
        if module.startswith("router")
        for node in _imports(_tree(path))
        for name in _external_names(node)
        if (top := name.split(".")[0]) not in PACKAGES
        and (
            top in io_modules or (top not in sys.stdlib_module_names and top not in pure_libraries)
        )
    )
    assert found == []


CLOSED_SETS: dict[str, frozenset[str]] = {
    "action": frozenset(a.value for a in AuditAction) | {a.value for a in ChatAction},
    "kind": frozenset(k.value for k in OutboxKind),
    "actor": frozenset(a.value for a in SystemActor),
}


def _words_of_closed_sets(tree: ast.AST) -> Iterator[tuple[int, str, str]]:
    """(line, name, word): a closed set's word given as a string, as a call's keyword
    argument or a parameter's default."""
    for node in ast.walk(tree):
        pairs: list[tuple[str | None, ast.expr | None]] = []
        if isinstance(node, ast.Call):
            pairs = [(k.arg, k.value) for k in node.keywords]
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            positional = node.args.posonlyargs + node.args.args
            defaulted = positional[len(positional) - len(node.args.defaults) :]
            pairs = [(a.arg, d) for a, d in zip(defaulted, node.args.defaults, strict=True)]
            kw_defaults = node.args.kw_defaults
            pairs += [(a.arg, d) for a, d in zip(node.args.kwonlyargs, kw_defaults, strict=True)]
        for name, value in pairs:
            if (
                name in CLOSED_SETS
                and isinstance(value, ast.Constant)
                and value.value in CLOSED_SETS[name]
            ):
                yield value.lineno, name, value.value


def test_closed_sets_are_named_by_their_enums() -> None:
    """``action``, ``kind`` and ``actor`` take AuditAction (or ChatAction), OutboxKind and
    SystemActor members, never the words they stand for (the store checks them)."""
    found = sorted(
        f"{module}:{line} {name}={word!r}"
        for module, path in MODULES.items()
        for line, name, word in _words_of_closed_sets(_tree(path))
    )
    assert found == []


def test_reading_mail_borrows_nothing_from_writing_it() -> None:
    """Inbound parsing shares helpers with the composer through neutral modules
    (``one_line``, ``email_policy``), never by importing the composer or the SMTP sender."""
    writing = {"connectors.email.compose", "connectors.email.outbound"}
    borrowed = sorted(
        f"{module} imports {target}"
        for module, targets in import_graph().items()
        if module.startswith("connectors.email.") and module not in writing
        for target in targets & writing
    )
    assert borrowed == []


def test_no_module_is_longer_than_the_limit() -> None:
    long = sorted(
        f"{path.relative_to(ROOT).as_posix()}: {lines} lines"
        for path in MODULES.values()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
        and path.relative_to(ROOT).as_posix() not in KNOWN_LONG
    )
    assert long == []


def test_the_checks_see_a_cycle_a_function_level_import_and_skip_type_checking() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from store.db import UnitOfWork\n"
        "def f():\n    from workers.runtime import context\n"
    )
    found = {t for n in _imports(ast.parse(source)) for t in _resolve("router.vocabulary", n)}
    assert found == {"workers.runtime.context"}
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    words = 'def f(actor="cli", *, kind="offer"): pass\nf(action="ticket.created", kind="email")\n'
    assert sorted(_words_of_closed_sets(ast.parse(words))) == [
        (1, "actor", "cli"),
        (1, "kind", "offer"),
        (2, "action", "ticket.created"),
    ]


def test_the_known_long_modules_are_still_long() -> None:
    """A module split under the limit leaves KNOWN_LONG, so the exception cannot outlive it."""
    short = sorted(
        name
        for name in KNOWN_LONG
        if not (ROOT / name).exists()
        or len((ROOT / name).read_text(encoding="utf-8").splitlines()) <= MAX_LINES
    )
    assert short == []
