"""How a ticket's form is named to a staff reader: its configured title in the reader's
language (the agent's configured ``language``, else Accept-Language, else the desk's),
else its slug (``router.form_texts.form_title``)."""

from __future__ import annotations

from config.settings import Settings
from router.form_texts import form_title
from router.language_choice import stated_language


class FormTitles:
    def __init__(self, settings: Settings) -> None:
        self.titles = {f.slug: f.title for f in settings.web.forms}
        self.languages = {a.name: a.language for a in settings.agents}
        self.default = settings.helpdesk.language

    def title(self, slug: str | None, reader: str, accept_language: str) -> str | None:
        language = self.languages.get(reader) or stated_language(accept_language) or self.default
        return form_title(self.titles, slug, language, self.default)
