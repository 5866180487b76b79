"""Intake (staff and patient link), the prescriber's eligibility review and sign-off, REMS,
and the rule set."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from clinic.accounts.permissions import Capability
from clinic.assessments.models import AssessmentResponse
from clinic.assessments.policy import schedule_policy
from clinic.assessments.services import questionnaire_link_issue
from clinic.core.access import staff_required
from clinic.core.exceptions import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied
from clinic.core.forms import apply_domain_error
from clinic.patients.selectors import can_act_clinically, patient_get, require_clinical_view
from clinic.screening import eligibility
from clinic.screening import intake as intake_services
from clinic.screening.choices import Indication, Route
from clinic.screening.forms import (
    IntakePatientForm,
    IntakeStaffForm,
    MedicationFormSet,
    RemsForm,
    TrialFormSet,
)
from clinic.screening.models import EligibilityDecision, Intake, RemsEnrollment
from clinic.screening.rules import DEFAULT_RULE_SET, THRESHOLDS, describe_rules
from clinic.screening.ruleset import (
    current_rule_set,
    current_rule_set_version,
    rule_set_policy_update,
)

SESSION_INTAKE_KEY = "intake_link_digest"


def _initial(intake: Intake, fields) -> dict:
    """The saved answers as the form shows them: yes/no answers as the choices' "true"/"false",
    so re-saving an untouched form changes nothing."""
    initial = {}
    for name in fields:
        if not hasattr(intake, name):
            continue
        value = getattr(intake, name)
        initial[name] = (
            {True: "true", False: "false"}.get(value, value) if isinstance(value, bool) else value
        )
    return initial


def _rows(formset) -> list[dict]:
    # Every row, blank ones included, so a message's row number is the row the user sees.
    return [form.cleaned_data or {} for form in formset.forms]


def _valid(form, meds, trials) -> bool:
    """All three forms valid; a refused table row is said above the form, with its row."""
    ok = form.is_valid()
    for label, formset in (("Medication", meds), ("Trial", trials)):
        if not formset.is_valid():
            ok = False
            for number, errors in enumerate(formset.errors, start=1):
                for field, messages_ in errors.items():
                    for message in messages_:
                        form.add_error(
                            None, f"{label} {number}, {field.replace('_', ' ')}: {message}"
                        )
    return ok


def _forms(request, intake: Intake, form_class):
    data = request.POST if request.method == "POST" else None
    form = form_class(data, initial=_initial(intake, form_class.base_fields))
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
                "adequate": t.adequate,
                "outcome": t.outcome,
                "current_episode": t.current_episode,
            }
            for t in intake.trials.all()
        ],
    )
    return form, meds, trials


def _show_list_errors(form, error: InvalidInput) -> None:
    for key in ("medications", "trials"):
        for message in error.errors.pop(key, []):
            form.add_error(None, message)
    if error.errors:
        apply_domain_error(form, error)


@staff_required
@require_http_methods(["GET", "POST"])
def intake_edit(request, patient_uuid):
    patient = patient_get(actor=request.user, patient_uuid=patient_uuid, purpose="intake")
    intake = intake_services.intake_start(actor=request.user, patient=patient)
    form, meds, trials = _forms(request, intake, IntakeStaffForm)
    if request.method == "POST" and _valid(form, meds, trials):
        try:
            intake_services.intake_save(
                actor=request.user,
                intake=intake,
                data=form.cleaned_data,
                medications=_rows(meds),
                trials=_rows(trials),
                submit=request.POST.get("action") == "submit",
            )
        except InvalidInput as error:
            _show_list_errors(form, error)
        else:
            messages.success(request, "Intake saved.")
            return redirect("intake:eligibility_review", patient_uuid=patient.uuid)
    return render(
        request,
        "screening/intake_form.html",
        {
            "patient": patient,
            "intake": intake,
            "form": form,
            "meds": meds,
            "trials": trials,
            "staff": True,
        },
    )


@staff_required
@require_POST
def intake_link_create(request, patient_uuid):
    patient = patient_get(actor=request.user, patient_uuid=patient_uuid, purpose="intake link")
    intake = intake_services.intake_start(actor=request.user, patient=patient)
    link, token = intake_services.intake_link_create(actor=request.user, intake=intake)
    url = request.build_absolute_uri(reverse("intake:public_start", args=[token]))
    return render(
        request,
        "screening/intake_link_created.html",
        {"patient": patient, "link": link, "url": url},
    )


def intake_public_start(request, token):
    """The patient's link: swap the token for the session so it leaves the address bar."""
    try:
        link = intake_services.intake_link_by_digest(intake_services._digest(token))
    except NotFound:
        return render(request, "assessments/questionnaire_closed.html", status=404)
    request.session[SESSION_INTAKE_KEY] = link.token_digest
    return redirect("intake:public_fill")


@require_http_methods(["GET", "POST"])
def intake_public_fill(request):
    try:
        link = intake_services.intake_link_by_digest(request.session.get(SESSION_INTAKE_KEY))
    except NotFound:
        return render(request, "assessments/questionnaire_closed.html", status=404)
    intake = link.intake
    form, meds, trials = _forms(request, intake, IntakePatientForm)
    if request.method == "POST" and _valid(form, meds, trials):
        try:
            intake_services.intake_save(
                actor=None,
                intake=intake,
                data=form.cleaned_data,
                medications=_rows(meds),
                trials=_rows(trials),
                submit=True,
                link=link,
            )
        except InvalidInput as error:
            _show_list_errors(form, error)
        else:
            intake_services.intake_link_used(link)
            request.session.pop(SESSION_INTAKE_KEY, None)
            # Straight on to the baseline questionnaires, through a fresh one-time link.
            codes = list(schedule_policy().baseline_instruments)
            if intake.indication == "ptsd":
                codes.append("pcl5")  # PCL-5 at baseline for PTSD (issue 4; [G9])
            _, token = questionnaire_link_issue(
                patient=intake.patient, instrument_codes=codes, timepoint="baseline"
            )
            return redirect("assessments:questionnaire_start", token=token)
    return render(
        request,
        "screening/intake_form.html",
        {"intake": intake, "form": form, "meds": meds, "trials": trials, "staff": False},
    )


def _revision(raw: str | None) -> int:
    """The intake revision the form was rendered for; anything unreadable counts as stale."""
    try:
        return int(raw or "")
    except ValueError:
        return -1


def _baseline_scores(patient) -> list[AssessmentResponse]:
    latest: dict[str, AssessmentResponse] = {}
    for response in (
        AssessmentResponse.objects.valid()
        .filter(
            patient=patient,
            instrument_code__in=["phq9", "gad7", "pcl5", "qids-sr16", "cssrs-screen"],
        )
        .order_by("taken_at", "id")
    ):
        latest.setdefault(response.instrument_code, response)  # the first (baseline) of each
    return list(latest.values())


def _grouped(evaluation) -> list[dict]:
    """Findings per route, most serious first, with the route's verdict."""
    order = {"absolute": 0, "relative": 1, "caution": 2}
    return [
        {
            "route": route,
            "label": Route(route).label,
            "verdict": evaluation.routes[route],
            "findings": sorted(
                (f for f in evaluation.findings if route in f.routes), key=lambda f: order[f.level]
            ),
        }
        for route in Route.values
    ]


@staff_required
@require_http_methods(["GET", "POST"])
def eligibility_review(request, patient_uuid):
    actor = request.user
    patient = patient_get(actor=actor, patient_uuid=patient_uuid, purpose="eligibility review")
    require_clinical_view(actor=actor, patient=patient, purpose="eligibility review")
    intake = (
        Intake.objects.filter(patient=patient)
        .prefetch_related("medications", "trials")
        .order_by("-created_at", "-id")
        .first()
    )
    can_sign = can_act_clinically(
        actor=actor, patient=patient, capability=Capability.ELIGIBILITY_SIGN
    )
    errors: dict[str, list[str]] = {}
    form_values = {}
    if request.method == "POST":
        if not can_sign:
            raise PermissionDenied(
                "Only a prescriber on the care team signs the eligibility decision."
            )
        if intake is None:
            raise NotFound("There is no intake to decide on yet.")
        form_values = {
            "outcome": request.POST.get("outcome", ""),
            "approved_routes": request.POST.getlist("approved_routes"),
            "justifications": {
                key.removeprefix("justification_"): value
                for key, value in request.POST.items()
                if key.startswith("justification_")
            },
            "awaiting": request.POST.get("awaiting", ""),
        }
        try:
            eligibility.decision_sign(
                actor=actor,
                intake=intake,
                expected_revision=_revision(request.POST.get("revision")),
                **form_values,
            )
        except (InvalidInput, Conflict) as error:
            errors = (
                dict(error.errors) if isinstance(error, InvalidInput) else {"": [error.message]}
            )
        else:
            messages.success(request, "Eligibility decision signed.")
            return redirect("intake:eligibility_review", patient_uuid=patient.uuid)
    evaluation = version = None
    evaluation_error = ""
    if intake is not None:
        try:
            evaluation, version = eligibility.intake_evaluate(intake)
        except Conflict as error:
            evaluation_error = error.message
    decisions = list(
        EligibilityDecision.objects.filter(patient=patient).select_related("signed_by", "rule_set")
    )
    latest = decisions[0] if decisions else None
    return render(
        request,
        "screening/eligibility_review.html",
        {
            "patient": patient,
            "intake": intake,
            "evaluation": evaluation,
            "groups": _grouped(evaluation) if evaluation else [],
            "relative_findings": [f for f in evaluation.findings if f.level == "relative"]
            if evaluation
            else [],
            "rule_set_version": version,
            "decisions": decisions,
            "latest": latest,
            "latest_needs_review": latest is not None and eligibility.needs_review(latest),
            "baseline": _baseline_scores(patient),
            "rems": RemsEnrollment.objects.filter(patient=patient)
            .select_related("signed_by_prescriber")
            .first(),
            "can_sign": can_sign,
            "can_edit_intake": can_act_clinically(
                actor=actor, patient=patient, capability=Capability.INTAKE_EDIT
            ),
            "evaluation_error": evaluation_error,
            "indication_label": Indication(intake.indication).label
            if intake and intake.indication in Indication.values
            else "",
            "errors": errors,
            "general_errors": errors.get("", []),
            "justification_errors": {
                key.removeprefix("justification_"): messages_
                for key, messages_ in errors.items()
                if key.startswith("justification_")
            },
            "values": form_values,
            "routes": Route.choices,
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
            eligibility.rems_record(
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
        current = current_rule_set()
        thresholds, levels = {}, {}
        for name in THRESHOLDS:
            raw = request.POST.get(f"threshold_{name}", "").strip()
            if not raw.isdigit():
                errors.append(f"{THRESHOLDS[name].description}: enter a whole number.")
            elif int(raw) != current.thresholds[name]:
                thresholds[name] = int(raw)
        for rule in describe_rules(current):
            level = request.POST.get(f"level_{rule.code}", rule.level)
            if not rule.label and level != DEFAULT_RULE_SET.levels.get(rule.code):
                levels[rule.code] = level
        # The policy is stored whole (relative to the defaults), so each version stands alone.
        policy = {
            "thresholds": {
                n: v
                for n, v in {**current.thresholds, **thresholds}.items()
                if v != DEFAULT_RULE_SET.thresholds[n]
            },
            "levels": levels,
        }
        if not errors:
            try:
                rule_set_policy_update(actor=user, policy=policy, note=request.POST.get("note", ""))
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
