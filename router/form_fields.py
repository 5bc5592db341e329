"""Typed fields of a form made for one scenario, and how a value given for each is read.

Pure: a field's spec (what the config says) and the text a browser sent (or a JSON
value) in, the value to keep or why it cannot be kept out. The problems are codes
with their figures; a page says them in the reader's language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
PHONE = re.compile(r"^\+?[0-9 ()./-]{5,30}$")


class FieldType(StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    CHOICE = "choice"
    MULTIPLE_CHOICE = "multiple_choice"
    NUMBER = "number"
    DATE = "date"
    EMAIL = "email"
    PHONE = "phone"
    FILE = "file"


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    type: FieldType = FieldType.TEXT
    required: bool = False
    help: str = ""
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    max_length: int = 1_000
    choice_labels: tuple[str, ...] = ()  # as shown, one per choice; () : the choices

    def choice_label(self, index: int) -> str:
        """How choice ``index`` is shown: its label, else its value."""
        if index < len(self.choice_labels) and self.choice_labels[index]:
            return self.choice_labels[index]
        return self.choices[index]


@dataclass(frozen=True)
class FieldProblem:
    """``required``, ``too_long`` (``limit``), ``choice``, ``number``, ``too_small`` /
    ``too_large`` (``limit``), ``date``, ``email``, ``phone``, ``nul``."""

    code: str
    limit: float | int | None = None


Value = str | int | float | list[str] | None


def read_field(spec: FieldSpec, given: list[str]) -> tuple[Value, FieldProblem | None]:
    """The value of ``spec`` from what was sent for it (one text, or several for a
    multiple choice), or why not. A file field is read elsewhere (its bytes)."""
    texts = [t.strip() for t in given if t.strip()]
    if any("\x00" in t for t in texts):
        return None, FieldProblem("nul")
    if not texts:
        return None, FieldProblem("required") if spec.required else None
    if spec.type is FieldType.MULTIPLE_CHOICE:
        unknown = [t for t in texts if t not in spec.choices]
        if unknown:
            return None, FieldProblem("choice")
        return [c for c in spec.choices if c in texts], None
    text = texts[0]
    if len(text) > spec.max_length:
        return None, FieldProblem("too_long", spec.max_length)
    if spec.type is FieldType.CHOICE:
        return (text, None) if text in spec.choices else (None, FieldProblem("choice"))
    if spec.type is FieldType.NUMBER:
        return _number(spec, text)
    if spec.type is FieldType.DATE:
        try:
            return date.fromisoformat(text).isoformat(), None
        except ValueError:
            return None, FieldProblem("date")
    if spec.type is FieldType.EMAIL:
        return (text, None) if EMAIL.fullmatch(text) else (None, FieldProblem("email"))
    if spec.type is FieldType.PHONE:
        return (text, None) if PHONE.fullmatch(text) else (None, FieldProblem("phone"))
    return text, None


def _number(spec: FieldSpec, text: str) -> tuple[Value, FieldProblem | None]:
    try:
        number = float(text.replace(",", "."))
    except ValueError:
        return None, FieldProblem("number")
    if number != number or number in (float("inf"), float("-inf")):
        return None, FieldProblem("number")
    if spec.minimum is not None and number < spec.minimum:
        return None, FieldProblem("too_small", spec.minimum)
    if spec.maximum is not None and number > spec.maximum:
        return None, FieldProblem("too_large", spec.maximum)
    return (int(number) if number.is_integer() else number), None


def shown(value: Value) -> str:
    """A kept value as a line of the ticket shows it."""
    if isinstance(value, list):
        return ", ".join(value)
    return "" if value is None else str(value)


def fields_text(specs: tuple[FieldSpec, ...], values: Mapping[str, Value]) -> str:
    """The fields as the ticket's first message lists them ("Device: laptop"), in the
    form's order; files are listed as the message's attachments instead."""
    lines = [
        f"{s.label}: {shown(values[s.name])}"
        for s in specs
        if s.type is not FieldType.FILE and values.get(s.name) not in (None, "", [])
    ]
    return "\n".join(lines)
