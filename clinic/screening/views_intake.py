"""Intake (staff and patient link), the prescriber's eligibility review and sign-off, REMS,
and the rule set."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.forms.utils import ErrorDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from clinic.accounts.permissions import Capability
from clinic.assessments.policy import schedule_policy
from clinic.assessments.services import questionnaire_link_issue
from clinic.core.access import staff_required
from clinic.core.exceptions import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied
from clinic.core.forms import apply_domain_error
from clinic.patients.selectors import can_act_clinically, patient_get
from clinic.screening import review, selectors, services
from clinic.screening.forms import (
    CONDITION_PREFIX,
    JUSTIFICATION_PREFIX,
    DecisionAnswers,
    EligibilityDecisionForm,
    IntakePatientForm,
    IntakeStaffForm,
    MedicationFormSet,
    RemsForm,
    TrialFormSet,
    rule_set_change_from,
)
from clinic.screening.models import Intake
from clinic.screening.rules import (
    THRESHOLDS,
    describe_rules,
)
from clinic.screening.selectors import current_rule_set, current_rule_set_version
from clinic.screening.services import rule_set_policy_update

SESSION_INTAKE_KEY = "intake_link_digest"


def _forms(request, intake: Intake, form_class, *, data=None):
    """The intake form and its two tables, bound to `data` (the POST) or showing the saved
    answers."""
    patient_sex = intake.patient.sex
    form = form_class(data, initial=form_class.initial_for(intake), patient_sex=patient_sex)
    meds = MedicationFormSet(
        data,
        prefix="med",
        initial=[
            {"name": m.name, "medication_class": m.medication_class, "dose": m.dose}
            for m in intake.medications.all()
        ],
    )
    trials = TrialFormSet(
        data,
        prefix="trial",
        initial=[
            {
                "drug": t.drug,
                "dose": t.dose,
                "duration_weeks": t.duration_weeks,
                "adequate": "true" if t.adequate else "false",
                "outcome": t.outcome,
                "current_episode": "true" if t.current_episode else "false",
            }
            for t in intake.trials.all()
        ],
    )
    return form, meds, trials


def _rows(formset) -> list[dict]:
    # Every row, blank ones included, so an error's row is the row the user sees. A cell the
    # form refused is left out of its row (the services then judge the rest of the row).
    return [getattr(form, "cleaned_data", None) or {} for form in formset.forms]


TABLES = {"medications": "meds", "trials": "trials"}


def _apply_intake_errors(form, formsets: dict, error: InvalidInput) -> None:
    """The services' errors next to their fields: table cells ("medications.2.name") in their
    row, a condition's answer at its yes/no, the rest at the field or above the form. A field
    the form already refused keeps its own message (one message per field)."""
    for key, messages_ in error.errors.items():
        target_form = form
        field: str | None = key
        table, _, rest = key.partition(".")
        if table in TABLES and rest:
            index, _, field = rest.partition(".")
            rows = formsets[TABLES[table]].forms
            if index.isdigit() and int(index) < len(rows):
                target_form = rows[int(index)]
        elif table == "condition_answers" and rest:
            field = CONDITION_PREFIX + rest
        if field not in target_form.fields:
            target_form, field = form, None
        elif field in target_form.errors:
            continue
        for message in messages_:
            target_form.add_error(field, message)


def _validate(form, meds, trials, *, patient, intake) -> bool:
    """Every problem at once: the forms' own checks and the services' (plausibility,
    contradictions, the tables against their yes/no) in one round, each next to its field."""
    valid = all([form.is_valid(), meds.is_valid(), trials.is_valid()])
    try:
        services.clean_intake(
            patient=patient,
            data=form.intake_data(),
            medications=_rows(meds),
            trials=_rows(trials),
            current=intake,
        )
    except InvalidInput as error:
        _apply_intake_errors(form, {"meds": meds, "trials": trials}, error)
        return False
    return valid


def _error_summary(form, meds, trials) -> list[dict]:
    """Each problem once, with a link to its field, for the list above the form."""
    items = []

    def add(bound, label):
        widget_id = bound.auto_id
        if isinstance(bound.field.widget, forms.RadioSelect):
            widget_id += "_0"  # the first choice of a yes/no
        for message in bound.errors:
            items.append({"label": label, "message": message, "anchor": widget_id})

    for message in form.non_field_errors():
        items.append({"label": "", "message": message, "anchor": ""})
    for bound in form:
        add(bound, bound.label)
    for title, formset in (("Medicine", meds), ("Antidepressant", trials)):
        for number, row in enumerate(formset.forms, start=1):
            for bound in row:
                add(bound, f"{title} {number}: {bound.label}")
    return items


def _with_a_new_row(request, prefix: str):
    """The POST with one more row in the table `prefix`: the page is shown again with
    everything typed kept, and nothing saved or judged."""
    data = request.POST.copy()
    key = f"{prefix}-TOTAL_FORMS"
    try:
        total = int(data.get(key, "0"))
    except ValueError:
        total = 0
    # Django's formset limits (max_num) still apply: the form refuses absurd row counts.
    data[key] = str(total + 1)
    return data


def _quiet(*forms_):
    """Show what was typed without judging it (a row was added, not a save)."""
    for form in forms_:
        if hasattr(form, "forms"):
            _quiet(*form.forms)
            form._errors, form._non_form_errors = [], form.error_class()
        else:
            form._errors = ErrorDict()


def _intake_page(request, intake: Intake, form_class, *, save, context: dict):
    """The intake form for staff and for the patient's link: add a row, or validate everything
    at once and save through `save(form, meds, trials)` (which returns a response)."""
    patient = intake.patient
    add_row = request.POST.get("add_row") if request.method == "POST" else None
    data = None
    if request.method == "POST":
        data = _with_a_new_row(request, add_row) if add_row in ("med", "trial") else request.POST
    form, meds, trials = _forms(request, intake, form_class, data=data)
    if add_row in ("med", "trial"):
        _quiet(form, meds, trials)
        new_row = (meds if add_row == "med" else trials).forms[-1]
        first = "name" if add_row == "med" else "drug"
        new_row.fields[first].widget.attrs["autofocus"] = True
    elif request.method == "POST" and _validate(form, meds, trials, patient=patient, intake=intake):
        try:
            return save(form, meds, trials)
        except InvalidInput as error:
            _apply_intake_errors(form, {"meds": meds, "trials": trials}, error)
    return render(
        request,
        "screening/intake_form.html",
        {
            **context,
            "intake": intake,
            "form": form,
            "meds": meds,
            "trials": trials,
            "error_summary": _error_summary(form, meds, trials) if form.is_bound else [],
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def intake_edit(request, patient_uuid):
    patient = patient_get(actor=request.user, patient_uuid=patient_uuid, purpose="intake")
    intake = services.intake_start(actor=request.user, patient=patient)
    intake.patient = patient

    def save(form, meds, trials):
        services.intake_save(
            actor=request.user,
            intake=intake,
            data=form.intake_data(),
            medications=_rows(meds),
            trials=_rows(trials),
            submit=request.POST.get("action") == "submit",
        )
        messages.success(request, "Intake saved.")
        return redirect("intake:eligibility_review", patient_uuid=patient.uuid)

    return _intake_page(
        request,
        intake,
        IntakeStaffForm,
        save=save,
        context={"patient": patient, "staff": True},
    )


@staff_required
@require_POST
def intake_link_create(request, patient_uuid):
    patient = patient_get(actor=request.user, patient_uuid=patient_uuid, purpose="intake link")
    intake = services.intake_start(actor=request.user, patient=patient)
    link, token = services.intake_link_create(actor=request.user, intake=intake)
    url = request.build_absolute_uri(reverse("intake:public_start", args=[token]))
    return render(
        request,
        "screening/intake_link_created.html",
        {"patient": patient, "link": link, "url": url},
    )


def intake_public_start(request, token):
    """The patient's link: swap the token for the session so it leaves the address bar."""
    try:
        link = selectors.intake_link_by_digest(selectors.intake_link_digest(token))
    except NotFound:
        return render(request, "assessments/questionnaire_closed.html", status=404)
    request.session[SESSION_INTAKE_KEY] = link.token_digest
    return redirect("intake:public_fill")


@require_http_methods(["GET", "POST"])
def intake_public_fill(request):
    try:
        link = selectors.intake_link_by_digest(request.session.get(SESSION_INTAKE_KEY))
    except NotFound:
        return render(request, "assessments/questionnaire_closed.html", status=404)
    intake = link.intake

    def save(form, meds, trials):
        services.intake_save(
            actor=None,
            intake=intake,
            data=form.intake_data(),
            medications=_rows(meds),
            trials=_rows(trials),
            submit=True,
            link=link,
        )
        services.intake_link_used(link)
        request.session.pop(SESSION_INTAKE_KEY, None)
        # Straight on to the baseline questionnaires, through a fresh one-time link.
        codes = list(schedule_policy().baseline_instruments)
        if intake.indication == "ptsd":
            codes.append("pcl5")  # PCL-5 at baseline for PTSD (issue 4; [G9])
        _, token = questionnaire_link_issue(
            patient=intake.patient, instrument_codes=codes, timepoint="baseline"
        )
        return redirect("assessments:questionnaire_start", token=token)

    return _intake_page(request, intake, IntakePatientForm, save=save, context={"staff": False})


@staff_required
@require_http_methods(["GET", "POST"])
def eligibility_review(request, patient_uuid):
    actor = request.user
    form = EligibilityDecisionForm(request.POST) if request.method == "POST" else None
    subject = review.eligibility_review_subject(
        actor=actor, patient_uuid=patient_uuid, to_sign=form is not None
    )
    errors: dict[str, list[str]] = {}
    answers = DecisionAnswers()
    if form is not None and form.is_valid() and subject.intake is not None:
        answers = form.answers()
        try:
            services.decision_sign(
                actor=actor,
                intake=subject.intake,
                outcome=answers.outcome,
                approved_routes=answers.approved_routes,
                justifications=answers.justifications,
                awaiting=answers.awaiting,
                expected_revision=form.cleaned_data["revision"],
            )
        except (InvalidInput, Conflict) as error:
            errors = (
                dict(error.errors) if isinstance(error, InvalidInput) else {"": [error.message]}
            )
        else:
            messages.success(request, "Eligibility decision signed.")
            return redirect("intake:eligibility_review", patient_uuid=subject.patient.uuid)
    shown = review.eligibility_review_get(actor=actor, subject=subject)
    return render(
        request,
        "screening/eligibility_review.html",
        {
            "patient": subject.patient,
            "intake": subject.intake,
            "evaluation": shown.evaluation,
            "groups": shown.groups,
            "relative_findings": shown.relative_findings,
            "rule_set_version": shown.rule_set_version,
            "decisions": shown.decisions,
            "latest": shown.latest,
            "latest_needs_review": shown.latest_needs_review,
            "baseline": shown.baseline,
            "rems": shown.rems,
            "can_sign": subject.can_sign,
            "can_edit_intake": shown.can_edit_intake,
            "evaluation_error": shown.evaluation_error,
            "indication_label": shown.indication_label,
            "errors": errors,
            "general_errors": errors.get("", []),
            "justification_errors": {
                key.removeprefix(JUSTIFICATION_PREFIX): messages_
                for key, messages_ in errors.items()
                if key.startswith(JUSTIFICATION_PREFIX)
            },
            "values": answers,
            "routes": shown.offerable,
            "not_offered": shown.not_offered,
            "missing_words": shown.missing_words,
            "staff_inputs_missing": shown.staff_inputs_missing,
            "answers": shown.answers,
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def rems_create(request, patient_uuid):
    patient = patient_get(actor=request.user, patient_uuid=patient_uuid, purpose="REMS")
    if not can_act_clinically(
        actor=request.user, patient=patient, capability=Capability.ELIGIBILITY_SIGN
    ):
        raise PermissionDenied("Only a prescriber on the care team records REMS enrolment.")
    form = RemsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.rems_record(
                actor=request.user,
                patient=patient,
                enrolled_on=form.cleaned_data["enrolled_on"],
                signed_by_patient=form.cleaned_data["signed_by_patient"],
                prescriber=request.user,
                rems_patient_id=form.cleaned_data["rems_patient_id"],
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, "REMS enrolment recorded.")
            return redirect("intake:eligibility_review", patient_uuid=patient.uuid)
    return render(request, "screening/rems_form.html", {"patient": patient, "form": form})


LEVELS = ("absolute", "relative", "caution")


@staff_required
@require_http_methods(["GET", "POST"])
def rule_set(request):
    """Everyone with clinical access reads the rules; a clinic admin changes the policy values
    (thresholds and the levels of non-label rules), which makes a new version."""
    user = request.user
    can_edit = user.can(Capability.SCREENING_EDIT_RULES)
    if not (can_edit or user.can(Capability.PATIENT_VIEW_CLINICAL)):
        raise PermissionDenied()
    errors: list[str] = []
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied()
        change = rule_set_change_from(request.POST, current=current_rule_set())
        errors = list(change.errors)
        if not errors:
            try:
                rule_set_policy_update(actor=user, policy=change.policy, note=change.note)
            except InvalidInput as error:
                errors = [m for messages_ in error.errors.values() for m in messages_]
            else:
                messages.success(request, "Saved as a new version of the rule set.")
                return redirect("intake:rule_set")
    version = current_rule_set_version()
    rules_now = current_rule_set()
    return render(
        request,
        "screening/rule_set.html",
        {
            "version": version,
            "rules": describe_rules(rules_now),
            "thresholds": [
                (name, spec, rules_now.thresholds[name]) for name, spec in THRESHOLDS.items()
            ],
            "levels": LEVELS,
            "can_edit": can_edit,
            "errors": errors,
        },
    )
