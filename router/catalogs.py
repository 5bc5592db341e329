"""Message catalogs: the words of one package in every language the desk speaks.

Each package that renders texts keeps its catalog beside its code, as gettext
lays it out: ``<package>/locale/messages.pot`` (the template ``pybabel extract``
writes) and ``<package>/locale/<language>/LC_MESSAGES/messages.po`` (one per
language but English: the texts in the code are the English ones). A module
that renders texts declares its catalog once and speaks through ``Texts``::

    CATALOG = Catalog.beside(__file__)

    def greeting(name: str, language: str) -> str:
        _ = CATALOG.texts(language).gettext
        return _("Hello %(name)s,", name=name)

The ``.po`` files are read with Babel at first use and kept for the life of the
process (no compiled ``.mo`` files: nothing to build, nothing to get out of
step with the source); reading them is like ZoneInfo reading its zone files, a
read of data shipped with the code, so this module stays pure for its callers.

Placeholders are Python's named ``%(name)s``, the form Jinja2's ``trans`` blocks
and Babel's checks use too; like Jinja2's "newstyle" gettext, every text goes
through ``%`` formatting, so a literal percent sign is always written ``%%``.
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.core import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES = ("en", "zh_CN")
"""The languages relaydesk speaks, as catalogs name them; English is the texts' own."""
SOURCE_LANGUAGE = "en"
DOMAIN = "messages"


def N_(message: str) -> str:
    """Marks a text for the catalog where it is defined (a table of texts); it is
    translated where it is used, with ``Texts.gettext``."""
    return message


class Texts:
    """One catalog's texts in one language, and that language's ways with numbers
    and plurals. ``translations`` is the gettext object Jinja2's i18n extension takes."""

    def __init__(self, language: str, translations: gettext.NullTranslations) -> None:
        self.language = language
        self.translations = translations
        self.locale = Locale.parse(language)

    def gettext(self, message: str, **params: object) -> str:
        """``message`` in this language, its ``%(name)s`` placeholders filled in."""
        return self.translations.gettext(message) % params

    def ngettext(self, singular: str, plural: str, num: int, **params: object) -> str:
        """The form of ``singular``/``plural`` this language uses for ``num``; ``%(num)d``
        is ``num`` (as in Jinja2's ``pluralize``)."""
        return self.translations.ngettext(singular, plural, num) % {"num": num, **params}

    def pgettext(self, context: str, message: str, **params: object) -> str:
        """``message`` as meant in ``context`` ("button", "status"): one English word
        may need two translations."""
        return self.translations.pgettext(context, message) % params

    def npgettext(
        self, context: str, singular: str, plural: str, num: int, **params: object
    ) -> str:
        found = self.translations.npgettext(context, singular, plural, num)
        return found % {"num": num, **params}

    def __repr__(self) -> str:
        return f"Texts({self.language!r})"


@dataclass(frozen=True)
class Catalog:
    """The ``locale`` directory of one package."""

    directory: Path

    @classmethod
    def beside(cls, module_file: str) -> Catalog:
        """The catalog in the ``locale`` directory next to ``module_file``."""
        return cls(Path(module_file).resolve().parent / "locale")

    def texts(self, language: str) -> Texts:
        """The texts in ``language`` (one of LANGUAGES; anything else is a mistake of
        the caller, who chose the language with ``language_choice``)."""
        if language not in LANGUAGES:
            raise ValueError(f"no texts in {language!r}; relaydesk speaks {', '.join(LANGUAGES)}")
        return _texts(self.directory, language)

    def po_file(self, language: str) -> Path:
        return self.directory / language / "LC_MESSAGES" / f"{DOMAIN}.po"

    @property
    def template(self) -> Path:
        return self.directory / f"{DOMAIN}.pot"


@cache
def _texts(directory: Path, language: str) -> Texts:
    if language == SOURCE_LANGUAGE:
        return Texts(language, gettext.NullTranslations())
    return Texts(language, read_translations(Catalog(directory).po_file(language), language))


def read_translations(po_file: Path, language: str) -> gettext.GNUTranslations:
    """A ``.po`` file as a gettext translations object (fuzzy entries left out, as
    ``msgfmt`` does); a missing file is an error, never English in disguise."""
    with po_file.open("rb") as source:
        catalog = read_po(source, locale=language)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)
