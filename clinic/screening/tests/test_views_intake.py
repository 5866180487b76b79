"""The intake pages: the staff intake (every error at once, next to its field; rows added
without JavaScript), its round trip through the page, and the patient's intake link that leads
on to the baseline questionnaires.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from clinic.assessments.models import QuestionnaireLink
from clinic.core.models import AuditEvent
from clinic.patients import services as patient_services
from clinic.patients.tests.factories import register
from clinic.screening import selectors, services
from clinic.screening.models import (
    AntidepressantTrial,
    Intake,
    IntakeLink,
    IntakeMedication,
)
from clinic.screening.tests.pages import (
    MEDS,
    TRIALS,
    _as_submitted,
    _patient_form,
    _review,
    _staff_form,
    _state,
)
from tests.helpers import chart_html as _chart
from tests.helpers import path_of as _path

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------------- staff intake


def test_staff_intake_saves_a_draft_and_then_submits(client, patient, nurse, prescriber):
    client.force_login(nurse)
    url = reverse("intake:intake_edit", args=[patient.uuid])
    first = client.get(url)
    assert first.status_code == 200 and "In progress" in first.content.decode()

    draft = client.post(url, _staff_form(patient, action="save"), follow=True)
    review_url = reverse("intake:eligibility_review", args=[patient.uuid])
    assert draft.redirect_chain[-1][0] == review_url
    assert "Intake saved." in draft.content.decode()
    intake = Intake.objects.get()
    assert (intake.status, intake.revision, intake.submitted_at) == ("draft", 1, None)
    assert (intake.systolic_mmhg, intake.diastolic_mmhg, intake.heart_rate_bpm) == (128, 82, 70)
    assert intake.indication == "treatment_resistant_depression"
    assert intake.conditions == ["psychosis_history"] and intake.pregnant is False
    assert [m.name for m in intake.medications.all()] == ["Sertraline"]
    assert [(t.drug, t.outcome, t.duration_weeks) for t in intake.trials.all()] == [
        ("sertraline", "no_response", 8),
        ("bupropion", "partial_response", 10),
    ]
    # The prescriber cannot sign a draft.
    client.force_login(prescriber)
    assert "The intake is not submitted yet." in _review(client, patient).content.decode()

    client.force_login(nurse)
    reopened = client.get(url).content.decode()
    assert 'value="Sertraline"' in reopened and 'value="bupropion"' in reopened
    # The saved rows come back as the formsets' initial forms (what _staff_form posts).
    assert 'name="med-INITIAL_FORMS" value="1"' in reopened
    assert 'name="trial-INITIAL_FORMS" value="2"' in reopened
    submitted = client.post(url, _staff_form(patient, action="submit"))
    assert submitted.status_code == 302
    intake.refresh_from_db()
    assert (intake.status, intake.revision, intake.source) == ("submitted", 1, "staff")
    assert intake.submitted_by == nurse and intake.submitted_at is not None
    assert IntakeMedication.objects.count() == 1 and AntidepressantTrial.objects.count() == 2
    event = AuditEvent.objects.filter(object_type="intake", action="update").latest("id")
    assert event.actor == nurse and event.patient == patient

    client.force_login(prescriber)
    html = _review(client, patient).content.decode()
    assert "<strong>Submitted</strong>, revision 1" in html and "Sign the decision" in html


def test_an_implausible_value_is_shown_next_to_its_field_and_nothing_is_saved(
    client, patient, nurse
):
    client.force_login(nurse)
    url = reverse("intake:intake_edit", args=[patient.uuid])
    client.post(url, _staff_form(patient, action="save"))  # a draft to come back to
    before = _state()
    got = client.post(
        url, _staff_form(patient, action="submit", systolic_mmhg="400", allergies="Latex")
    )
    assert got.status_code == 200
    html = got.content.decode()
    assert 'id="id_systolic_mmhg_error"' in html
    error = re.search(r'id="id_systolic_mmhg_error"[^>]*>([^<]*)<', html).group(1)
    assert "between 50 and 300" in error
    assert "Nothing was saved" in html
    assert 'value="400"' in html  # what was typed is kept for correction
    assert _state() == before


def _cell_error(html: str, widget_id: str) -> str | None:
    """The message shown right under a field (or a table cell), by the field's id."""
    found = re.search(rf'<p class="field-error" id="{widget_id}_error"[^>]*>([^<]*)</p>', html)
    return found and found.group(1)


def _summary(html: str) -> list[str]:
    """The error list above the form, one item per problem."""
    block = re.search(r'<div class="form-error error-summary".*?</div>', html, re.S)
    return [re.sub(r"<[^>]+>", "", item) for item in re.findall(r"<li>(.*?)</li>", block.group(0))]


def test_a_trial_outcome_without_a_drug_is_shown_at_its_cell(client, patient, nurse):
    client.force_login(nurse)
    url = reverse("intake:intake_edit", args=[patient.uuid])
    client.post(url, _staff_form(patient, action="save"))
    before = _state()
    rows = [
        *TRIALS,
        {"drug": "", "outcome": "no_response", "adequate": True, "current_episode": True},
    ]
    got = client.post(url, _staff_form(patient, action="save", trials=rows))
    assert got.status_code == 200
    html = got.content.decode()
    assert _cell_error(html, "id_trial-2-drug") == (
        "Enter the antidepressant&#x27;s name: a trial is of a named drug."
    )
    assert _summary(html) == [
        "Antidepressant 3: Antidepressant: Enter the antidepressant&#x27;s name: a trial is of "
        "a named drug."
    ]
    assert _state() == before


def test_a_medication_without_a_class_is_shown_at_its_cell(client, patient, nurse):
    client.force_login(nurse)
    url = reverse("intake:intake_edit", args=[patient.uuid])
    client.get(url)
    before = _state()
    got = client.post(url, _staff_form(patient, meds=[{"name": "Lorazepam", "dose": "1 mg"}]))
    assert got.status_code == 200
    html = got.content.decode()
    assert (
        _cell_error(html, "id_med-0-medication_class") == "Choose its class (Other when none fits)."
    )
    assert 'value="Lorazepam"' in html and 'value="1 mg"' in html  # kept for correction
    assert _state() == before


def test_a_trial_row_the_form_refuses_says_why(client, patient, nurse):
    """A row the formset itself refuses (600 weeks: more than the form's maximum of 520) must
    say so next to that cell; the user cannot otherwise tell why nothing happened."""
    client.force_login(nurse)
    url = reverse("intake:intake_edit", args=[patient.uuid])
    client.get(url)
    before = _state()
    rows = [{**TRIALS[0], "duration_weeks": 600}]
    got = client.post(url, _staff_form(patient, action="submit", trials=rows))
    assert got.status_code == 200
    assert _state() == before
    html = got.content.decode()
    assert "less than or equal to 520" in _cell_error(html, "id_trial-0-duration_weeks")


def test_a_row_error_names_the_row_the_user_sees(client, patient, nurse):
    """A new intake: the first trial row is left blank and the second has an outcome but no
    drug. The message must point at the second row, where the mistake is."""
    client.force_login(nurse)
    url = reverse("intake:intake_edit", args=[patient.uuid])
    client.get(url)
    rows = [{}, {"drug": "", "outcome": "no_response", "adequate": True, "current_episode": False}]
    got = client.post(url, _staff_form(patient, trials=rows))
    assert got.status_code == 200
    html = got.content.decode()
    assert _cell_error(html, "id_trial-0-drug") is None
    assert "a trial is of a named drug" in _cell_error(html, "id_trial-1-drug")
    assert any(item.startswith("Antidepressant 2: ") for item in _summary(html))


def test_every_error_is_shown_at_once_next_to_its_field(client, patient, nurse):
    """The form's own checks (a number that is not a number, weeks beyond the maximum) and the
    services' (a range, a contradiction, the tables against their yes/no) in one round."""
    client.force_login(nurse)
    url = reverse("intake:intake_edit", args=[patient.uuid])
    client.get(url)
    before = _state()
    got = client.post(
        url,
        _staff_form(
            patient,
            action="submit",
            meds=[{"name": "Lorazepam", "dose": "1 mg"}],
            trials=[{**TRIALS[0], "duration_weeks": 600}],
            heart_rate_bpm="fast",
            systolic_mmhg="120",
            diastolic_mmhg="130",
            weight_kg="900",
            takes_medications="false",
            allergies="Penicillin",
        ),
    )
    assert got.status_code == 200
    html = got.content.decode()
    expected = {
        "id_heart_rate_bpm": "Enter a number.",
        "id_diastolic_mmhg": "The diastolic pressure must be below the systolic.",
        # policy-defaults.md "Vital signs": weight 25–350 kg.
        "id_weight_kg": "Weight must be between 25 and 350 kg.",
        "id_takes_medications": "You answered no, but medicines are listed below: answer yes, "
        "or clear those rows.",
        "id_med-0-medication_class": "Choose its class (Other when none fits).",
    }
    for widget_id, message in expected.items():
        shown = _cell_error(html, widget_id)
        assert shown is not None, widget_id
        assert shown == message, (widget_id, shown)
    assert "less than or equal to 520" in _cell_error(html, "id_trial-0-duration_weeks")
    assert len(_summary(html)) == 6
    # Nothing typed is lost.
    assert 'value="fast"' in html and 'value="900"' in html and "Penicillin" in html
    assert _state() == before


def test_a_yes_without_rows_is_an_error_at_the_question(client, patient, nurse):
    client.force_login(nurse)
    url = reverse("intake:intake_edit", args=[patient.uuid])
    client.get(url)
    got = client.post(url, _staff_form(patient, meds=[], trials=[], takes_medications="true"))
    assert got.status_code == 200
    assert _cell_error(got.content.decode(), "id_takes_medications") == (
        "You answered yes: list at least one medicine below."
    )


def test_a_row_can_be_added_without_javascript_keeping_everything_typed(client, patient, nurse):
    """ "Add a medicine row" posts the whole form: the page comes back with one more row and
    everything typed in place, nothing saved and nothing judged yet."""
    client.force_login(nurse)
    url = reverse("intake:intake_edit", args=[patient.uuid])
    first = client.get(url).content.decode()
    assert (
        first.count('name="med-') - first.count('name="med-TOTAL')
        == (
            3 + 4  # one blank row of three cells, plus the formset's four management fields
        )
        - 1
    )
    before = _state()
    typed = _staff_form(
        patient,
        meds=[{"name": "Lorazepam", "medication_class": "benzodiazepine", "dose": "1 mg"}],
        weight_kg="not a number",
        add_row="med",
    )
    got = client.post(url, typed)
    assert got.status_code == 200
    html = got.content.decode()
    assert _state() == before
    assert 'name="med-TOTAL_FORMS" value="2"' in html
    assert 'id="id_med-1-name"' in html and "autofocus" in html
    assert 'value="Lorazepam"' in html and 'value="not a number"' in html
    assert "Nothing was saved" not in html and 'class="field-error"' not in html
    # Then saved with the new row filled in: both medicines, in order.
    typed.pop("add_row")
    typed.update(
        {
            "med-TOTAL_FORMS": "2",
            "med-1-name": "Tramadol",
            "med-1-medication_class": "opioid",
            "weight_kg": "80",
        }
    )
    assert client.post(url, typed).status_code == 302
    intake = Intake.objects.get()
    assert [(m.name, m.medication_class) for m in intake.medications.all()] == [
        ("Lorazepam", "benzodiazepine"),
        ("Tramadol", "opioid"),
    ]


def test_blank_rows_are_ignored(client, patient, nurse):
    client.force_login(nurse)
    url = reverse("intake:intake_edit", args=[patient.uuid])
    client.get(url)
    rows = [{}, MEDS[0], {}, {}]
    assert client.post(url, _staff_form(patient, meds=rows)).status_code == 302
    assert [m.name for m in Intake.objects.get().medications.all()] == ["Sertraline"]


def test_every_input_on_the_intake_form_has_a_label(client, patient, nurse):
    """The issue counted 38 unlabelled inputs and 10 unnamed selects on this page."""
    client.force_login(nurse)
    html = client.get(reverse("intake:intake_edit", args=[patient.uuid])).content.decode()
    ids = re.findall(
        r'<(?:input|select|textarea)\b(?![^>]*type="(?:hidden|submit)")[^>]*\bid="([^"]+)"', html
    )
    labelled = set(re.findall(r'<label[^>]*\bfor="([^"]+)"', html))
    assert ids and set(ids) <= labelled, set(ids) - labelled
    unnamed = re.findall(
        r'<(?:input|select|textarea)\b(?![^>]*type="(?:hidden|submit)")(?![^>]*\bid=)[^>]*>', html
    )
    assert unnamed == []


def test_a_male_patient_is_not_asked_about_pregnancy(client, front_desk, prescriber, nurse):
    patient = register(front_desk, sex="male", legal_family_name="Okoro")
    patient_services.care_team_set(
        actor=front_desk, patient=patient, primary_prescriber=prescriber, nurses=[nurse]
    )
    client.force_login(nurse)
    url = reverse("intake:intake_edit", args=[patient.uuid])
    html = client.get(url).content.decode()
    assert 'name="pregnant"' not in html and 'name="breastfeeding"' not in html
    assert "Pregnancy and breastfeeding are not asked: the recorded sex is male." in html
    form = _staff_form(patient, action="submit")
    del form["pregnant"], form["breastfeeding"]
    assert client.post(url, form).status_code == 302
    evaluation, _ = selectors.intake_evaluate(Intake.objects.get(patient=patient))
    assert evaluation.missing == ()


def _answers(intake: Intake) -> dict:
    intake.refresh_from_db()
    return {
        **{name: getattr(intake, name) for name in services.INTAKE_FIELDS},
        "revision": intake.revision,
        "medications": [(m.name, m.medication_class, m.dose) for m in intake.medications.all()],
        "trials": [
            (t.drug, t.dose, t.duration_weeks, t.adequate, t.outcome, t.current_episode)
            for t in intake.trials.all()
        ],
    }


def test_a_submitted_intake_round_trips_through_its_page(client, patient, submitted, nurse):
    """Vitals, conditions, medications and trials as the page shows them post back unchanged
    (no yes/no answers recorded here): nothing changes and the revision stays."""
    before = _answers(submitted)
    client.force_login(nurse)
    url = reverse("intake:intake_edit", args=[patient.uuid])
    page = client.get(url)
    assert client.post(url, _as_submitted(page, action="save")).status_code == 302
    assert _answers(submitted) == before


def test_opening_and_saving_the_intake_unchanged_changes_nothing(
    client, patient, submitted, nurse, prescriber
):
    """A nurse opens the submitted intake and presses save without touching anything: every
    answer — the yes/no ones included — must come back as it was, and the signed decision
    must not be sent back for re-review."""
    services.intake_save(
        actor=nurse,
        intake=submitted,
        data={"pregnant": False, "breastfeeding": False, "home_bp_monitor": True},
    )
    services.decision_sign(actor=prescriber, intake=submitted, outcome="ineligible")
    before = _answers(submitted)
    assert (before["pregnant"], before["breastfeeding"], before["home_bp_monitor"]) == (
        False,
        False,
        True,
    )
    client.force_login(nurse)
    url = reverse("intake:intake_edit", args=[patient.uuid])
    page = client.get(url)
    html = page.content.decode()
    shown = {
        name: re.search(rf'<input type="radio" name="{name}" value="([^"]*)"[^>]* checked', html)
        for name in ("pregnant", "breastfeeding", "home_bp_monitor")
    }
    assert client.post(url, _as_submitted(page, action="save")).status_code == 302
    after = _answers(submitted)
    assert {k: v for k, v in after.items() if before[k] != v} == {}
    assert "needs re-review" not in _chart(client, patient)
    assert {name: m and m.group(1) for name, m in shown.items()} == {
        "pregnant": "false",
        "breastfeeding": "false",
        "home_bp_monitor": "true",
    }


def test_the_patient_link_shows_the_saved_yes_no_answers(client, patient, submitted, nurse):
    services.intake_save(
        actor=nurse, intake=submitted, data={"pregnant": False, "home_bp_monitor": True}
    )
    _, token = services.intake_link_create(actor=nurse, intake=submitted)
    client.get(reverse("intake:public_start", args=[token]))
    page = client.get(reverse("intake:public_fill"))
    before = _answers(submitted)
    assert client.post(reverse("intake:public_fill"), _as_submitted(page)).status_code == 302
    after = _answers(submitted)
    assert (after["pregnant"], after["home_bp_monitor"]) == (False, True)
    assert after == before


# --------------------------------------------------------------------------- the patient link


def _link_url(response) -> str:
    match = re.search(r'value="(http://testserver/intake/[^"]+/)"', response.content.decode())
    assert match, "the page shows no intake link"
    return _path(match.group(1))


def test_the_patient_fills_in_the_intake_through_a_link_then_the_questionnaires(
    client, patient, nurse
):
    client.force_login(nurse)
    created = client.post(reverse("intake:intake_link_create", args=[patient.uuid]))
    assert created.status_code == 200
    link_path = _link_url(created)
    assert link_path.startswith("/intake/")
    link = IntakeLink.objects.get()
    assert link.created_by == nurse and link.used_at is None
    assert link_path.split("/")[2] not in link.token_digest  # only a digest is stored

    anonymous = Client()
    start = anonymous.get(link_path)
    assert start.status_code == 302 and start.headers["Location"] == "/intake/"
    form = anonymous.get("/intake/")
    assert form.status_code == 200
    html = form.content.decode()
    assert "Your health history" in html and "Send my answers" in html
    for staff_field in ("indication", "systolic_mmhg", "diastolic_mmhg", "heart_rate_bpm"):
        assert f'name="{staff_field}"' not in html, staff_field
    assert patient.mrn not in html

    answers = _patient_form(
        patient,
        meds=[{"name": "Lorazepam", "medication_class": "benzodiazepine", "dose": "1 mg"}],
        trials=TRIALS[:1],
        allergies="Penicillin",
        home_bp_monitor="true",
        # Not the patient's to answer: ignored.
        indication="ptsd",
        systolic_mmhg="400",
        diastolic_mmhg="82",
    )
    sent = anonymous.post("/intake/", answers)
    assert sent.status_code == 302
    assert re.fullmatch(r"/q/[^/]+/", sent.headers["Location"])
    questionnaire = anonymous.get(sent.headers["Location"], follow=True)
    assert questionnaire.redirect_chain[-1][0] == reverse("assessments:questionnaire_fill")
    html = questionnaire.content.decode()
    assert "Questionnaire 1 of 3" in html and 'name="instrument" value="phq9"' in html
    baseline = QuestionnaireLink.objects.get()
    assert (baseline.patient, baseline.timepoint, baseline.instrument_codes) == (
        patient,
        "baseline",
        ["phq9", "gad7", "cssrs-screen"],
    )

    intake = Intake.objects.get()
    assert (intake.status, intake.source, intake.submitted_by) == (
        "submitted",
        "patient_link",
        None,
    )
    assert intake.allergies == "Penicillin" and intake.home_bp_monitor is True
    assert intake.conditions == ["psychosis_history"]
    assert intake.indication == "" and intake.systolic_mmhg is None
    assert intake.diastolic_mmhg is None
    assert [(m.name, m.medication_class) for m in intake.medications.all()] == [
        ("Lorazepam", "benzodiazepine")
    ]
    assert [t.drug for t in intake.trials.all()] == ["sertraline"]
    event = AuditEvent.objects.filter(object_type="intake", action="update").latest("id")
    assert event.actor is None and event.patient == patient
    assert "through a link" in event.summary
    link.refresh_from_db()
    assert link.used_at is not None

    # The link works once.
    again = Client().get(link_path)
    assert again.status_code == 404 and b"no longer available" in again.content
    reuse = anonymous.get(link_path)
    assert reuse.status_code == 404 and b"no longer available" in reuse.content
    assert anonymous.get("/intake/").status_code == 404
    before = _state()
    assert anonymous.post("/intake/", answers).status_code == 404
    assert _state() == before

    # The care team sees what the patient sent.
    html = _review(client, patient).content.decode()
    assert "<strong>Submitted</strong>" in html and "Penicillin" in html and "Lorazepam" in html


def test_a_ptsd_intake_adds_the_pcl5_to_the_baseline(client, patient, nurse):
    intake = services.intake_start(actor=nurse, patient=patient)
    services.intake_save(actor=nurse, intake=intake, data={"indication": "ptsd"})
    _, token = services.intake_link_create(actor=nurse, intake=intake)
    client.get(reverse("intake:public_start", args=[token]))
    sent = client.post("/intake/", _patient_form(patient))
    assert sent.status_code == 302
    assert QuestionnaireLink.objects.get().instrument_codes == [
        "phq9",
        "gad7",
        "cssrs-screen",
        "pcl5",
    ]
    assert Intake.objects.get().indication == "ptsd"


def test_a_bad_answer_on_the_link_is_shown_and_the_link_stays_usable(client, patient, nurse):
    intake = services.intake_start(actor=nurse, patient=patient)
    _, token = services.intake_link_create(actor=nurse, intake=intake)
    client.get(reverse("intake:public_start", args=[token]))
    before = _state()
    got = client.post("/intake/", _patient_form(patient, weight_kg="24"))
    assert got.status_code == 200
    html = got.content.decode()
    assert 'id="id_weight_kg_error"' in html and "between 25 and 350" in html
    assert _state() == before
    assert not QuestionnaireLink.objects.exists()
    # Corrected, it goes through.
    assert client.post("/intake/", _patient_form(patient, weight_kg="64")).status_code == 302
    assert Intake.objects.get().status == "submitted"


def test_the_patient_link_changes_a_submitted_intake_as_a_new_revision(
    client, patient, submitted, nurse, prescriber
):
    services.decision_sign(actor=prescriber, intake=submitted, outcome="ineligible")
    _, token = services.intake_link_create(actor=nurse, intake=submitted)
    client.get(reverse("intake:public_start", args=[token]))
    sent = client.post(
        "/intake/",
        _patient_form(patient, meds=MEDS, trials=TRIALS, allergies="Latex"),
    )
    assert sent.status_code == 302
    submitted.refresh_from_db()
    assert submitted.revision == 2 and submitted.allergies == "Latex"
    # Staff-only answers survive the patient's save.
    assert submitted.indication == "treatment_resistant_depression"
    assert submitted.systolic_mmhg == 128
    assert submitted.source == "staff"  # submitted by staff first
    staff = Client()
    staff.force_login(prescriber)
    assert "must be re-signed" in _review(staff, patient).content.decode()
