"""The message catalogs: every marked text is in the catalog beside its code, and every
language translates every text of every catalog, keeping its placeholders."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from config.settings import LANGUAGES as CONFIG_LANGUAGES
from router.catalogs import LANGUAGES, SOURCE_LANGUAGE, Catalog

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("router", "config", "store", "connectors", "workers")
TRANSLATED = tuple(lang for lang in LANGUAGES if lang != SOURCE_LANGUAGE)
_PLACEHOLDER = re.compile(r"%(?:\((?P<name>[^)]*)\))?[-#0 +]*\d*(?:\.\d+)?(?P<kind>[a-zA-Z%])")


def areas() -> list[Path]:
    """Every package directory with a catalog beside its code."""
    return sorted(p.parent.parent for pkg in PACKAGES for p in (ROOT / pkg).rglob("locale/*.pot"))


def area_of(path: Path) -> Path | None:
    """The catalog a source file's texts belong to: the nearest one above it."""
    for parent in path.parents:
        if (parent / "locale" / "messages.pot").exists():
            return parent
        if parent == ROOT:
            return None
    return None


def marked_texts() -> Iterator[tuple[Path, object]]:
    """(file, msgid) of every text marked in the code and the templates, as pybabel finds it."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config, "babel.cfg")
    for package in PACKAGES:
        found = extract_from_dir(ROOT / package, method_map, options_map)
        for filename, _lineno, message, _comments, context in found:
            key = message if context is None else (context, message)
            yield ROOT / package / filename, key


def ids(messages: object) -> set[object]:
    return {m.id if not m.context else (m.context, m.id) for m in messages if m.id}  # type: ignore[attr-defined]


def read(path: Path, language: str | None = None) -> object:
    with path.open("rb") as source:
        return read_po(source, locale=language)


def placeholders(text: str) -> list[tuple[str, str]]:
    return sorted((m.group("name") or "", m.group("kind")) for m in _PLACEHOLDER.finditer(text))


def test_the_config_and_the_catalogs_name_the_same_languages() -> None:
    assert CONFIG_LANGUAGES == LANGUAGES


def test_there_is_a_catalog_for_the_web_pages_the_chat_and_the_notices() -> None:
    assert ROOT / "connectors" / "web" in areas()
    assert ROOT / "router" in areas()


_MARKERS = {"_": 0, "N_": 0, "gettext": 0, "ngettext": 0, "pgettext": 1, "npgettext": 1}


def texts_in_calls(path: Path) -> Iterator[tuple[int, object]]:
    """(line, msgid) of every call of a marker with literal texts, read from the syntax
    tree: also those pybabel's tokenizer misses (inside an f-string, inside another
    marker's arguments)."""
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if name not in _MARKERS or not node.args:
            continue
        literal = [a.value for a in node.args if isinstance(a, ast.Constant)]
        wanted = _MARKERS[name] + (2 if name.startswith(("n", "np")) else 1)
        if len(literal) < wanted or not all(isinstance(v, str) for v in literal[:wanted]):
            continue
        text = tuple(literal[_MARKERS[name] : wanted])
        message = text[0] if len(text) == 1 else text
        yield node.lineno, (literal[0], message) if _MARKERS[name] else message


def test_every_text_marked_anywhere_in_the_code_is_in_its_catalog() -> None:
    catalogs = {area: ids(read(Catalog(area / "locale").template)) for area in areas()}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            area = area_of(path)
            for line, key in texts_in_calls(path):
                where = f"{path.relative_to(ROOT)}:{line}"
                assert area is not None, f"{where} marks {key!r} but has no catalog"
                assert key in catalogs[area], f"{where}: {key!r} is not in the catalog (an "
                "f-string or a marker inside another marker's arguments hides it from pybabel)"


def test_every_text_marked_in_the_code_is_in_the_catalog_beside_it() -> None:
    expected: dict[Path, set[object]] = {area: set() for area in areas()}
    for path, key in marked_texts():
        area = area_of(path)
        assert area is not None, f"{path.relative_to(ROOT)} marks {key!r} but has no catalog"
        expected[area].add(key)
    for area, keys in expected.items():
        template = ids(read(Catalog(area / "locale").template))
        name = area.relative_to(ROOT)
        assert keys - template == set(), f"{name}: run pybabel extract (README), texts missing"
        assert template - keys == set(), f"{name}: run pybabel extract (README), stale texts"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_language_translates_every_text_of_every_catalog(language: str) -> None:
    for area in areas():
        catalog = Catalog(area / "locale")
        template = ids(read(catalog.template))
        po = read(catalog.po_file(language), language)
        name = area.relative_to(ROOT)
        assert ids(po) == template, f"{name} {language}: run pybabel update (README)"
        for message in po:  # type: ignore[attr-defined]
            if not message.id:
                continue
            assert not message.fuzzy, f"{name} {language}: fuzzy, check it: {message.id!r}"
            forms = message.string if message.pluralizable else (message.string,)
            assert all(forms), f"{name} {language}: untranslated: {message.id!r}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_the_placeholders_of_their_source(language: str) -> None:
    for area in areas():
        po = read(Catalog(area / "locale").po_file(language), language)
        for message in po:  # type: ignore[attr-defined]
            if not message.id:
                continue
            assert_same_placeholders(message, f"{area.relative_to(ROOT)} {language}")


def assert_same_placeholders(message: Message, where: str) -> None:
    if isinstance(message.id, str):
        assert isinstance(message.string, str), f"{where}: {message.id!r} has plural forms"
        wanted = placeholders(message.id)
        assert placeholders(message.string) == wanted, f"{where}: {message.string!r} vs {wanted}"
    else:
        singular, plural = message.id
        wanted = placeholders(plural)
        assert set(placeholders(singular)) <= set(wanted), f"{where}: {singular!r} vs {plural!r}"
        assert isinstance(message.string, list | tuple), f"{where}: {plural!r} has one form"
        for form in message.string:
            assert placeholders(form) == wanted, f"{where}: {form!r} does not fill {plural!r}"


def test_every_text_names_its_placeholders_so_a_translation_may_reorder_them() -> None:
    for path, key in marked_texts():
        texts = key if isinstance(key, tuple) else (key,)
        for text in texts:
            for name, kind in placeholders(text):
                assert name or kind == "%", f"{path.relative_to(ROOT)}: {text!r}: use %(name)s"


def test_the_source_language_needs_no_catalog_and_every_other_loads() -> None:
    for area in areas():
        catalog = Catalog(area / "locale")
        assert not catalog.po_file(SOURCE_LANGUAGE).exists()
        for language in TRANSLATED:
            assert catalog.texts(language).language == language
