"""The one text policy (clinic/core/text.py), pages and API alike (issue 13, defect 5).

Three parts: the characters refused (table-driven); proof that every form CharField of the
clinic and every str field of every API request body carries the policy, by introspection, so
a field added later cannot forget it; and a page and an API call per app that takes free text.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import types
import typing
from enum import Enum

import pytest
from django import forms
from pydantic import BaseModel

import clinic
from clinic.core.forms import TextField
from clinic.core.text import (
    CONTROL_CHARACTER_MESSAGE,
    LINE_BREAK_MESSAGE,
    MULTI_LINE,
    ONE_LINE,
    TEXT_POLICY_VALIDATORS,
    has_control_characters,
    text_problem,
)

# Every class of character the policy refuses, with one example each.
REFUSED = {
    "right-to-left override": "\u202egnp.exe",
    "left-to-right embedding": "a\u202ab",
    "right-to-left embedding": "a\u202bb",
    "pop directional formatting": "a\u202cb",
    "left-to-right override": "a\u202db",
    "left-to-right isolate": "a\u2066b",
    "right-to-left isolate": "a\u2067b",
    "first strong isolate": "a\u2068b",
    "pop directional isolate": "a\u2069b",
    "left-to-right mark": "a\u200eb",
    "right-to-left mark": "a\u200fb",
    "arabic letter mark": "a\u061cb",
    "zero-width space": "Ava\u200bry",
    "zero-width non-joiner": "a\u200cb",
    "zero-width joiner": "a\u200db",
    "word joiner": "a\u2060b",
    "byte-order mark": "\ufeffAvery",
    "soft hyphen": "Lind\u00adqvist",
    "NUL": "a\x00b",
    "escape": "a\x1b[31mb",
    "delete": "a\x7fb",
    "next line (C1)": "a\x85b",
    "line separator": "a\u2028b",
    "paragraph separator": "a\u2029b",
    "lone surrogate": "a\ud800b",
}
ACCEPTED = ["Avery", "Zoë Ó'Brien-Łukasz", "محمد", "李小龙", "O'Neil, Jr.", "São Paulo 5°"]
REFUSED_IDS = list(REFUSED)
REFUSED_VALUES = list(REFUSED.values())


@pytest.mark.parametrize("text", REFUSED_VALUES, ids=REFUSED_IDS)
@pytest.mark.parametrize("multiline", [False, True])
def test_hidden_characters_are_refused_in_any_text(text, multiline):
    assert text_problem(text, multiline=multiline) == CONTROL_CHARACTER_MESSAGE
    assert has_control_characters(text)


@pytest.mark.parametrize("text", ACCEPTED)
def test_visible_text_in_any_script_is_accepted(text):
    assert text_problem(text, multiline=False) == ""
    assert not has_control_characters(text)


@pytest.mark.parametrize("text", ["two\nlines", "a\ttab", "windows\r\nline"])
def test_line_breaks_only_in_multi_line_text(text):
    assert text_problem(text, multiline=True) == ""
    assert text_problem(text, multiline=False) == LINE_BREAK_MESSAGE
    assert not has_control_characters(text)


def test_the_message_speaks_to_a_nurse():
    assert "hidden characters" in CONTROL_CHARACTER_MESSAGE
    assert "Retype" in CONTROL_CHARACTER_MESSAGE
    assert "U+" not in CONTROL_CHARACTER_MESSAGE


def test_a_text_field_refuses_and_names_the_problem():
    one_line, notes = TextField(max_length=50), TextField(widget=forms.Textarea)
    with pytest.raises(forms.ValidationError) as error:
        one_line.clean("\u202egnp.exe")
    assert error.value.messages == [CONTROL_CHARACTER_MESSAGE]
    with pytest.raises(forms.ValidationError):
        one_line.clean("two\nlines")
    assert notes.clean("two\nlines") == "two\nlines"


# ------------------------------------------------------------------ every form field


def _clinic_modules():
    for info in pkgutil.walk_packages(clinic.__path__, "clinic."):
        if ".tests" in info.name or ".migrations" in info.name or ".management" in info.name:
            continue
        yield importlib.import_module(info.name)


def _clinic_form_classes():
    seen: set[type] = set()
    for module in _clinic_modules():
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, forms.BaseForm)
                and cls.__module__.startswith("clinic.")
                and cls not in seen
            ):
                seen.add(cls)
                yield cls


def _unprotected(fields: dict[str, forms.Field]) -> list[str]:
    return [
        name
        for name, field in fields.items()
        if isinstance(field, forms.CharField)
        and not isinstance(field.widget, forms.PasswordInput)
        and not any(v in TEXT_POLICY_VALIDATORS for v in field.validators)
    ]


# Fields a form inherits from Django's own auth forms: a username is looked up, never stored.
_DJANGO_AUTH_FIELDS = {"username"}


def test_every_form_text_field_carries_the_text_policy():
    classes = list(_clinic_form_classes())
    assert len(classes) > 50, "the walk found too few forms: is it still looking in clinic/?"
    missing = []
    for cls in classes:
        names = [n for n in _unprotected(cls.base_fields) if n not in _DJANGO_AUTH_FIELDS]
        missing += [f"{cls.__module__}.{cls.__qualname__}.{n}" for n in names]
    assert missing == [], "Use clinic.core.forms.TextField (or apply_text_policy) for these"


FIELD_CLASSES = ("CharField", "EmailField", "SlugField", "JSONField")


def test_no_form_declares_a_bare_char_field():
    """Fields added in a form's __init__ are not in base_fields: the source must not create a
    text field outside the policy either (passwords excepted)."""
    root = __import__("pathlib").Path(clinic.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines, 1):
            if any(f"forms.{k}(" in line for k in FIELD_CLASSES):
                window = "\n".join(lines[number - 1 : number + 8])
                if "PasswordInput" in window or "apply_text_policy(" in lines[number - 2]:
                    continue
                if "apply_text_policy(" in line:
                    continue
                offenders.append(f"{path.relative_to(root)}:{number}")
    assert offenders == []


def test_a_model_form_gets_the_policy_on_its_generated_fields():
    from clinic.patients.forms import PatientForm

    assert _unprotected(PatientForm().fields) == []


# ------------------------------------------------------------------ every API body field


# Dict fields whose keys are names from a fixed table the handler matches them against (an
# unknown key is refused with 422 and never stored), as a path parameter is: a treatment plan's
# protocol options (clinic/protocols/schemas.py).
DICT_KEYS_LOOKED_UP = (".options",)


def _bare_str(annotation, metadata, path: str, seen: set) -> list[str]:
    """Paths under `annotation` that accept a str outside the text policy."""
    if any(m in (ONE_LINE, MULTI_LINE) for m in metadata):
        return []
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        base, *extra = typing.get_args(annotation)
        return _bare_str(base, [*metadata, *extra], path, seen)
    if annotation is str:
        return [path]
    if origin is typing.Literal or (inspect.isclass(annotation) and issubclass(annotation, Enum)):
        return []
    if origin in (typing.Union, types.UnionType, list, tuple, set, dict):
        found = []
        args = typing.get_args(annotation)
        if origin is dict and path.endswith(DICT_KEYS_LOOKED_UP):
            args = args[1:]  # the keys are lookup keys, matched against a fixed table
        for arg in args:
            found += _bare_str(arg, [], path, seen)
        return found
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return []
        seen.add(annotation)
        found = []
        for name, field in annotation.model_fields.items():
            found += _bare_str(field.annotation, field.metadata, f"{path}.{name}", seen)
        return found
    return []


def test_every_api_body_and_query_str_field_carries_the_text_policy():
    from clinic.api.api import api

    missing, walked = [], 0
    for prefix, router in api._routers:
        for route, view in router.path_operations.items():
            for operation in view.operations:
                for model in operation.models:
                    # A path parameter is a lookup key (an instrument or protocol code matched
                    # against a fixed table, a UUID): never stored, a stranger value is a 404.
                    if model.__ninja_param_source__ == "path":
                        continue
                    walked += 1
                    where = f"{operation.methods} {prefix}{route}"
                    missing += _bare_str(model, [], where, set())
    assert walked >= 10
    assert missing == [], "Use clinic.core.text.OneLine or MultiLine for these"


# ------------------------------------------------------------------ pages and API, per app

# Apps whose pages take free text; each must have at least one form exercised below.
APPS_WITH_TEXT_FORMS = {
    "assessments",
    "controlled_substances",
    "core",
    "home_program",
    "journal",
    "patients",
    "protocols",
    "public_site",
    "scheduling",
    "screening",
    "treatment_sessions",
}


def _text_fields_of_bound_forms(value: str):
    """(app, form, field name, form) for every clinic form built without arguments, bound to
    `value` in each of its policy-carrying text fields."""
    for cls in _clinic_form_classes():
        try:
            fields = cls().fields
        except Exception:  # noqa: BLE001, S112 - a form needing arguments: the walk above covers it
            continue
        names = [
            n
            for n, f in fields.items()
            if any(v in TEXT_POLICY_VALIDATORS for v in getattr(f, "validators", []))
            and not isinstance(f, forms.JSONField | forms.SlugField | forms.EmailField)
        ]
        if names:
            yield cls.__module__.split(".")[1], cls, names, cls(data=dict.fromkeys(names, value))


@pytest.mark.django_db
def test_every_page_form_refuses_hidden_characters():
    apps = set()
    for text in REFUSED_VALUES:
        for app, cls, names, form in _text_fields_of_bound_forms(text):
            form.is_valid()
            for name in names:
                assert CONTROL_CHARACTER_MESSAGE in form.errors.get(name, []), (cls, name, text)
            apps.add(app)
    assert APPS_WITH_TEXT_FORMS - apps == set()


@pytest.mark.django_db
@pytest.mark.parametrize("text", REFUSED_VALUES, ids=REFUSED_IDS)
def test_the_patient_api_refuses_hidden_characters_in_names(text, front_desk):
    from django.test import Client

    from clinic.patients.models import Patient

    client = Client()
    client.force_login(front_desk)
    body = {
        "legal_given_name": text,
        "legal_family_name": "Lindqvist",
        "date_of_birth": "1980-05-17",
        "sex": "female",
    }
    response = client.post("/api/v1/patients", body, content_type="application/json")
    assert response.status_code == 422, response.content
    if text != REFUSED["lone surrogate"]:  # pydantic refuses it before the policy sees it
        assert CONTROL_CHARACTER_MESSAGE in response.content.decode()
    assert not Patient.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["legal_family_name", "city", "emergency_contact_name"])
def test_the_patient_api_refuses_hidden_characters_in_an_update(field, front_desk, patient):
    from django.test import Client

    client = Client()
    client.force_login(front_desk)
    response = client.patch(
        f"/api/v1/patients/{patient.uuid}",
        {field: "\u202egnp.exe"},
        content_type="application/json",
    )
    assert response.status_code == 422
    patient.refresh_from_db()
    assert "\u202e" not in getattr(patient, field)


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["\u202eabc", "a\u200bb", "a\nb"], ids=["rlo", "zwsp", "newline"])
def test_the_assessment_and_screening_apis_refuse_hidden_characters(text, nurse, patient):
    from django.test import Client

    client = Client()
    client.force_login(nurse)
    response = client.post(
        f"/api/v1/patients/{patient.uuid}/assessments",
        {"instrument": "phq9", "answers": [0] * 9, "timepoint": text},
        content_type="application/json",
    )
    assert response.status_code == 422
    trial = {"drug": text, "adequate": True, "outcome": "none", "current_episode": True}
    response = client.post(
        "/api/v1/screening/evaluate",
        {"antidepressant_trials": [trial]},
        content_type="application/json",
    )
    assert response.status_code == 422
