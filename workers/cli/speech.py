"""The command line's messages to the person at the terminal, in their language: the one
their locale names (LC_ALL, LC_MESSAGES, LANG, as gettext reads them), else
``helpdesk.language``. Tables, listings and JSON are data and stay as they are; the
words are in ``workers/cli/locale``."""

from __future__ import annotations

import os

from config.settings import Settings
from router.catalogs import Catalog, Texts
from router.language_choice import stated_language

CATALOG = Catalog.beside(__file__)


def operator_language(settings: Settings) -> str:
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable, "")
        if value and value not in ("C", "POSIX") and not value.startswith(("C.", "POSIX.")):
            return stated_language(value) or settings.helpdesk.language
    return settings.helpdesk.language


def cli_texts(settings: Settings) -> Texts:
    """What the command line says, in the operator's language."""
    return CATALOG.texts(operator_language(settings))
