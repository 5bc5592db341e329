"""Forms made for one scenario each: ``[[web.forms]]`` with their typed fields.

Every text a requester reads (a form's ``title`` and ``description``, a field's
``label`` and ``help``, the labels of its choices) is either one text for every
language or one per language: ``title = { en = "IT fault", zh_CN = "IT 故障" }``.
Which one a reader gets is ``router.form_texts.text_in``'s choice.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from config.base import Frozen

_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})?$")
MAX_TEXT_CHARS = 2_000


def _texts(value: Any) -> tuple[tuple[str, str], ...]:
    """One text (for every language: the key "") or a table of language -> text."""
    if isinstance(value, str):
        pairs: list[tuple[Any, Any]] = [("", value)]
    elif isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, tuple | list) and all(isinstance(p, tuple | list) for p in value):
        pairs = [tuple(p) for p in value]  # already read (a copy of the settings)
    else:
        raise ValueError("a text, or a table of texts by language: { en = ..., zh_CN = ... }")
    for language, text in pairs:
        if not isinstance(language, str) or (language and not _LANGUAGE.match(language)):
            raise ValueError(f"{language!r} is not a language, such as en or zh_CN")
        if not isinstance(text, str) or len(text) > MAX_TEXT_CHARS:
            raise ValueError(f"a text of at most {MAX_TEXT_CHARS} characters, for {language!r}")
    return tuple((str(k), str(v)) for k, v in pairs)


LocalText = Annotated[tuple[tuple[str, str], ...], BeforeValidator(_texts)]
"""A text as (language, text) pairs; the language "" is any."""


def _choice_labels(value: Any) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    if isinstance(value, Mapping):
        return tuple((str(k), _texts(v)) for k, v in value.items())
    return tuple((str(k), _texts(v)) for k, v in value)


ChoiceLabels = Annotated[
    tuple[tuple[str, tuple[tuple[str, str], ...]], ...], BeforeValidator(_choice_labels)
]

FieldKind = Literal[
    "text",
    "long_text",
    "choice",
    "multiple_choice",
    "number",
    "date",
    "email",
    "phone",
    "file",
]


class FormFieldSettings(Frozen):
    name: str = Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")  # the custom field's key
    label: LocalText
    type: FieldKind = "text"
    required: bool = False
    help: LocalText = ()
    choices: tuple[str, ...] = ()  # choice, multiple_choice: the values kept
    choice_labels: ChoiceLabels = ()  # { laptop = { zh_CN = "笔记本电脑" } }: as shown
    min: float | None = None  # number
    max: float | None = None
    max_length: int = Field(1_000, gt=0, le=100_000)

    @model_validator(mode="after")
    def _choices_for_choice_fields(self) -> FormFieldSettings:
        if self.type in ("choice", "multiple_choice") and not self.choices:
            raise ValueError(f"field {self.name!r}: a {self.type} field needs choices")
        if unknown := {v for v, _ in self.choice_labels} - set(self.choices):
            raise ValueError(f"field {self.name!r}: labels of no choice: {sorted(unknown)}")
        if not any(text.strip() for _, text in self.label):
            raise ValueError(f"field {self.name!r}: a label is needed")
        return self


class WebFormSettings(Frozen):
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")  # /forms/<slug>, and its template
    title: LocalText
    description: LocalText = ()
    category: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")  # implied
    fields: tuple[FormFieldSettings, ...] = ()

    @model_validator(mode="after")
    def _unique_field_names(self) -> WebFormSettings:
        names = [f.name for f in self.fields]
        if len(names) != len(set(names)):
            raise ValueError(f"form {self.slug!r}: two fields have one name")
        if not any(text.strip() for _, text in self.title):
            raise ValueError(f"form {self.slug!r}: a title is needed")
        return self
