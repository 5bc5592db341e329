"""Forms made for one scenario each: ``[[web.forms]]`` with their typed fields."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from config.base import Frozen

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
    label: str = Field(min_length=1, max_length=200)
    type: FieldKind = "text"
    required: bool = False
    help: str = Field("", max_length=500)
    choices: tuple[str, ...] = ()  # choice, multiple_choice
    min: float | None = None  # number
    max: float | None = None
    max_length: int = Field(1_000, gt=0, le=100_000)

    @model_validator(mode="after")
    def _choices_for_choice_fields(self) -> FormFieldSettings:
        if self.type in ("choice", "multiple_choice") and not self.choices:
            raise ValueError(f"field {self.name!r}: a {self.type} field needs choices")
        return self


class WebFormSettings(Frozen):
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")  # /forms/<slug>, and its template
    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2_000)
    category: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")  # implied
    fields: tuple[FormFieldSettings, ...] = ()

    @model_validator(mode="after")
    def _unique_field_names(self) -> WebFormSettings:
        names = [f.name for f in self.fields]
        if len(names) != len(set(names)):
            raise ValueError(f"form {self.slug!r}: two fields have one name")
        return self
