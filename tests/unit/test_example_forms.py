"""The example scenario forms (config/example-forms.toml) and the README's: valid TOML
and valid settings; the file adds forms and their rule to any configuration and
nothing else, every word a requester reads in both languages."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from config import EXAMPLE_PATH, load_settings
from router.catalogs import LANGUAGES

FORMS_EXAMPLE = EXAMPLE_PATH.with_name("example-forms.toml")
README = EXAMPLE_PATH.parents[1] / "README.md"


def test_the_example_forms_add_an_it_fault_and_a_refund_form_and_nothing_else(
    tmp_path: Path,
) -> None:
    fragment = tomllib.loads(FORMS_EXAMPLE.read_text(encoding="utf-8"))
    assert set(fragment) == {"web", "rules"} and set(fragment["web"]) == {"forms"}
    assert set(fragment["rules"]) == {"all_match"}
    config = tmp_path / "relaydesk.toml"
    config.write_text(
        EXAMPLE_PATH.read_text(encoding="utf-8") + "\n" + FORMS_EXAMPLE.read_text("utf-8"),
        encoding="utf-8",
    )

    shipped = load_settings(EXAMPLE_PATH, environ={})
    settings = load_settings(config, environ={})

    assert shipped.web.forms == ()  # the shipped example keeps "/" the plain form
    assert [f.slug for f in settings.web.forms] == ["it-fault", "refund"]
    refund = settings.web.forms[1]
    assert refund.category in settings.categories
    assert {f.type for f in settings.web.forms[0].fields} >= {"choice", "long_text", "file"}
    rule = settings.rules.all_match[-1]
    assert rule.name == "it-fault-form" and "it-fault" in str(rule.when)
    for form in settings.web.forms:
        texts = [form.title, form.description]
        for field in form.fields:
            texts += [field.label, *(labels for _, labels in field.choice_labels)]
            texts += [field.help] if field.help else []
            assert {c for c, _ in field.choice_labels} in (set(), set(field.choices))
        for text in texts:
            assert {language for language, _ in text} == set(LANGUAGES), (form.slug, text)


def test_the_readmes_form_example_is_valid_settings(tmp_path: Path) -> None:
    found = re.search(r"```toml\n(\[\[web\.forms\]\].*?)```", README.read_text("utf-8"), re.S)
    assert found is not None
    config = tmp_path / "relaydesk.toml"
    config.write_text(found.group(1), encoding="utf-8")

    (form,) = load_settings(config, environ={}).web.forms

    assert form.slug == "it-fault" and [f.name for f in form.fields] == [
        "device",
        "symptom",
        "photo",
    ]
