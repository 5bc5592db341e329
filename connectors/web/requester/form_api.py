"""The JSON API's side of the forms per scenario: ``template`` names a form, whose fields
are then checked in ``custom_fields`` as the form's page checks them (and kept as read:
a number as a number, a date as YYYY-MM-DD); each form's fields have their own schema in
the OpenAPI document (``FormFields_<slug>``)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import FastAPI
from pydantic import Field, create_model, model_validator

from config.form_settings import WebFormSettings
from connectors.web.requester.forms_page import FormTexts, field_specs, form_texts
from connectors.web.schemas import TicketRequest
from router.form_fields import FieldSpec, FieldType, read_field

_JSON_TYPES: dict[FieldType, dict[str, Any]] = {
    FieldType.NUMBER: {"type": "number"},
    FieldType.DATE: {"type": "string", "format": "date"},
    FieldType.EMAIL: {"type": "string", "format": "email"},
}


def form_request_model(
    base: type[TicketRequest], forms: tuple[WebFormSettings, ...], language: str = "en"
) -> type[TicketRequest]:
    """``base`` with ``template``: one of the forms' slugs, checking their fields."""
    if not forms:
        return base
    specs = {f.slug: field_specs(f, language) for f in forms}
    categories = {f.slug: f.category for f in forms}
    slugs = tuple(specs)

    def check_fields(ticket: Any) -> Any:
        template = ticket.template
        if template is None:
            return ticket
        kept = dict(ticket.custom_fields)
        for spec in specs[template]:
            if spec.type is FieldType.FILE:
                continue
            value, problem = read_field(spec, _texts(kept.get(spec.name), spec))
            if problem is not None:
                limit = f" ({problem.limit})" if problem.limit is not None else ""
                raise ValueError(f"custom_fields.{spec.name}: {problem.code}{limit}")
            if value is None:
                kept.pop(spec.name, None)
            else:
                kept[spec.name] = value
        ticket.custom_fields = kept
        if ticket.category is None:
            ticket.category = categories[template]
        return ticket

    template_type: Any = Literal[slugs] | None
    validator: Any = model_validator(mode="after")(check_fields)
    return create_model(
        "TicketRequest",
        __base__=base,
        __doc__=base.__doc__,
        __module__=base.__module__,
        __validators__={"_form_fields": validator},
        template=(
            template_type,
            Field(
                None,
                description="The form (scenario) this request is made with: its fields are "
                "then checked in `custom_fields` as the schema `FormFields_<template>` says.",
            ),
        ),
    )


def _texts(value: object, spec: FieldSpec) -> list[str]:
    """A JSON value as the texts a form would send: a multiple choice's choices are
    written comma-separated (custom field values are single values)."""
    if value is None:
        return []
    if isinstance(value, str) and spec.type is FieldType.MULTIPLE_CHOICE:
        return value.split(",")
    if isinstance(value, bool):
        return [str(value).lower()]
    return [str(value)]


def form_schemas(
    forms: tuple[WebFormSettings, ...], language: str = "en"
) -> dict[str, dict[str, Any]]:
    """A JSON schema of each form's fields, named ``FormFields_<slug>``, its titles and
    descriptions in ``language`` (the desk's)."""
    return {
        f"FormFields_{f.slug}": _schema(form_texts(f, language), field_specs(f, language))
        for f in forms
    }


def _schema(form: FormTexts, specs: tuple[FieldSpec, ...]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for spec in specs:
        if spec.type is FieldType.FILE:
            continue
        schema = dict(_JSON_TYPES.get(spec.type, {"type": "string", "maxLength": spec.max_length}))
        if spec.type is FieldType.CHOICE:
            schema["enum"] = list(spec.choices)
        if spec.type is FieldType.MULTIPLE_CHOICE:
            schema["description"] = "Any of, comma-separated: " + ", ".join(spec.choices)
        if spec.type in (FieldType.CHOICE, FieldType.MULTIPLE_CHOICE):
            shown = [spec.choice_label(i) for i in range(len(spec.choices))]
            if shown != list(spec.choices):  # what each value is called on the form
                schema["x-choice-labels"] = dict(zip(spec.choices, shown, strict=True))
        if spec.minimum is not None:
            schema["minimum"] = spec.minimum
        if spec.maximum is not None:
            schema["maximum"] = spec.maximum
        schema["title"] = spec.label
        if spec.help:
            schema["description"] = spec.help
        properties[spec.name] = schema
    return {
        "title": form.title,
        "description": f"`custom_fields` of a request with `template` = `{form.slug}`.",
        "type": "object",
        "properties": properties,
        "required": [s.name for s in specs if s.required and s.type is not FieldType.FILE],
    }


def document_forms(app: FastAPI, forms: tuple[WebFormSettings, ...], language: str = "en") -> None:
    """Add each form's fields schema to the app's OpenAPI document."""
    if not forms:
        return
    schemas = form_schemas(forms, language)
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            document.setdefault("components", {}).setdefault("schemas", {}).update(schemas)
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]
