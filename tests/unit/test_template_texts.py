"""No page's template says a word a reader sees that bypasses the catalogs: every text
node and every visible attribute (title, placeholder, alt, aria-label, label) is
either marked (``{{ _("...") }}``, ``{% trans %}``) or a value the page is given."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "connectors").rglob("templates/*.html"))

_TRANS = re.compile(r"\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}", re.S)
# a macro that writes only attributes (no element) is not text: aria("name") and the like
_ATTRIBUTE_MACRO = re.compile(r"\{%-?\s*macro\b[^%]*%\}[^<]*?\{%-?\s*endmacro\s*-?%\}", re.S)
_JINJA = re.compile(r"\{#.*?#\}|\{\{.*?\}\}|\{%.*?%\}", re.S)
_WORD = re.compile(r"[A-Za-z]")
VISIBLE = {"title", "placeholder", "alt", "aria-label", "label"}
# names that are the same in every language: file formats
NAMES = {"CSV", "JSON Lines"}


class _Texts(HTMLParser):
    """The words a reader sees in a page's own markup (not its styles or scripts, and
    not the keys of the keyboard, which are written on the keys)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.hidden: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script", "kbd"):
            self.hidden.append(tag)
        for name, value in attrs:
            if name in VISIBLE and value and _WORD.search(value):
                self.found.append(f"{tag} {name}={value!r}")

    def handle_endtag(self, tag: str) -> None:
        if self.hidden and self.hidden[-1] == tag:
            self.hidden.pop()

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if not self.hidden and _WORD.search(text) and text not in NAMES:
            self.found.append(text)


def bare_texts(source: str) -> list[str]:
    """What ``source`` shows its reader without going through a catalog."""
    for pattern in (_TRANS, _ATTRIBUTE_MACRO, _JINJA):
        source = pattern.sub(" ", source)
    parser = _Texts()
    parser.feed(source)
    parser.close()
    return parser.found


def test_the_check_finds_a_bare_text_and_passes_a_marked_one() -> None:
    marked = '<p>{{ _("Hello") }}</p><p>{% trans n=n %}{{ n }} tickets{% endtrans %}</p>'
    assert bare_texts(marked) == []
    assert bare_texts('<label for="w">Website</label>') == ["Website"]
    assert bare_texts('<input placeholder="Your name">') == ["input placeholder='Your name'"]
    assert bare_texts("<kbd>Esc</kbd> <style>p{color:red}</style>") == []


def test_there_are_templates_to_check() -> None:
    assert len(TEMPLATES) > 20


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_template_says_nothing_outside_the_catalogs(template: Path) -> None:
    assert bare_texts(template.read_text(encoding="utf-8")) == []
