"""What a catalog says, read from its .po file here (not through the code under test):
the words a conversation is checked against, never a second copy of them."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog as PoCatalog
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


@cache
def _po(area: str, language: str) -> PoCatalog:
    path = ROOT / area / "locale" / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as source:
        return read_po(source, locale=language)


def said(area: str, language: str, msgid: str, context: str | None = None, **params: object) -> str:
    """``msgid`` of the catalog in ``area`` (``router``, ``connectors/telegram``) as
    ``language`` says it, placeholders filled in. English is the source text itself, once
    it is known to be in the catalog."""
    entry = _po(area, "zh_CN").get(msgid, context=context)
    assert entry is not None, f"{area} has no {msgid!r} ({context})"
    if language == "en":
        text = msgid
    else:
        entry = _po(area, language).get(msgid, context=context)
        assert entry is not None and entry.string and not entry.fuzzy, (area, msgid)
        text = entry.string if isinstance(entry.string, str) else entry.string[0]
    return text % params
