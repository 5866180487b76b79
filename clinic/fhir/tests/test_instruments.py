"""/fhir/R4/ Observations of the scored instruments beyond PHQ-9 and GAD-7: PCL-5, the C-SSRS
screener, QIDS-SR16, MADRS and the in-session scales (CADSS, MOAA/S, modified Aldrete), and
KetaCare's instrument CodeSystem. Codes are fhir-loinc.md's literal strings (§1.1, §1.4, §6);
totals are worked out from clinical-reference.md §7 and the instruments' scoring rules, never
read back from the code."""

from __future__ import annotations

import datetime
import json

import pytest
from fhir.resources.R4B.codesystem import CodeSystem
from fhir.resources.R4B.observation import Observation

from clinic.fhir.tests.helpers import bearer, entries, outcome

pytestmark = pytest.mark.django_db

LOINC = "http://loinc.org"
LOCAL = "https://ketacare.example/fhir/CodeSystem/instrument"  # fhir-loinc.md §1.4
PCL_C = "70221-7"  # the older DSM-IV PCL-C panel: never for PCL-5 (fhir-loinc.md §1.1)


def record(patient, nurse, code, answers, day=None):
    from clinic.assessments import services

    taken = datetime.datetime(2026, 11, day, 15, 0, tzinfo=datetime.UTC) if day else None
    return services.response_record(
        actor=nurse, patient=patient, instrument_code=code, answers=answers, taken_at=taken
    )


@pytest.fixture
def rated(patient, nurse):
    """A PCL-5, a MADRS, a QIDS-SR16 and two C-SSRS screeners on five days of November, and a
    MADRS marked entered in error."""
    from clinic.assessments import services

    found = {
        "pcl5": record(patient, nurse, "pcl5", [2] * 20, 3),
        "madrs": record(patient, nurse, "madrs", [3] * 10, 4),
        "qids": record(patient, nurse, "qids-sr16", [1] * 16, 5),
        # Yes to Q1, No to Q2 (so Q3–Q5 not asked), No to Q6 (so Q6-recent not asked).
        "cssrs_no": record(patient, nurse, "cssrs-screen", [1, 0, None, None, None, 0, None], 6),
        # Yes to Q1, Q2 and Q3, No to Q4, Q5 and Q6.
        "cssrs_yes": record(patient, nurse, "cssrs-screen", [1, 1, 1, 0, 0, 0, None], 7),
    }
    found["withdrawn"] = record(patient, nurse, "madrs", [6] * 10, 8)
    services.response_mark_entered_in_error(
        actor=nurse, response=found["withdrawn"], reason="Recorded for the wrong patient"
    )
    return found


def observations(response) -> list[dict]:
    """A searchset's Observations, each validated by the R4B model."""
    found = entries(response)
    for resource in found:
        Observation.model_validate(resource)
    return found


def search(client, user, patient, query: str) -> list[dict]:
    return observations(
        client.get(f"/fhir/R4/Observation?patient={patient.uuid}&{query}", **bearer(user))
    )


def codes(observation: dict) -> list[tuple[str, str]]:
    return [(c["system"], c["code"]) for c in observation["code"].get("coding", [])]


def by_id(found: list[dict]) -> dict[str, dict]:
    return {o["id"]: o for o in found}


def test_a_pcl5_is_its_loinc_panel_and_total_and_never_the_pcl_c(client, actors, patient, rated):
    prescriber = actors["prescriber"]
    pcl5 = str(rated["pcl5"].uuid)
    # Twenty items answered 2 ("Moderately"): the total is their sum, 40 of 80 (§7.3).
    [total] = search(client, prescriber, patient, f"code={LOINC}|101698-9")
    assert (total["id"], total["valueInteger"]) == (f"{pcl5}-total", 40)
    assert codes(total) == [(LOINC, "101698-9")]
    survey = search(client, prescriber, patient, "category=survey")
    panel = by_id(survey)[pcl5]
    assert codes(panel) == [(LOINC, "101697-1")]
    # Its 20 item codes were not retrieved (§1.1): the total is its only member.
    assert panel["hasMember"] == [{"reference": f"Observation/{pcl5}-total"}]
    assert [o["id"] for o in survey if o["id"].startswith(pcl5)] == [pcl5, f"{pcl5}-total"]
    # fhir-loinc.md §6, test 4: 70221-7 is never used, whatever is searched.
    for query in ("category=survey", "code=101697-1", "code=101698-9"):
        body = client.get(
            f"/fhir/R4/Observation?patient={patient.uuid}&{query}", **bearer(prescriber)
        )
        assert PCL_C not in json.dumps(body.json())
    assert search(client, prescriber, patient, f"code={PCL_C}") == []
    assert search(client, prescriber, patient, f"code={LOINC}|{PCL_C}") == []


def test_madrs_and_qids_carry_ketacares_own_codes(client, actors, patient, rated):
    nurse = actors["nurse"]
    madrs, qids = str(rated["madrs"].uuid), str(rated["qids"].uuid)
    # Ten items rated 3: 30 of 60 (§7.5). The withdrawn MADRS (all 6) is left out.
    for query in (f"code={LOCAL}|madrs-total", "code=madrs-total"):
        [total] = search(client, nurse, patient, query)
        assert (total["id"], total["valueInteger"]) == (f"{madrs}-total", 30)
        assert codes(total) == [(LOCAL, "madrs-total")]
    assert search(client, nurse, patient, f"code={LOINC}|madrs-total") == []
    [panel] = search(client, nurse, patient, f"code={LOCAL}|madrs")
    assert panel["id"] == madrs and codes(panel) == [(LOCAL, "madrs")]
    assert len(panel["hasMember"]) == 11  # the ten items and the total
    [item10] = search(client, nurse, patient, "code=madrs-10")
    assert (item10["id"], item10["valueInteger"]) == (f"{madrs}-item-10", 3)
    assert item10["code"]["text"] == "Suicidal thoughts"
    # Sixteen items answered 1: nine domains of 1, total 9 of 27 (§7.7). No item codes (§1.4).
    [qids_total] = search(client, nurse, patient, f"code={LOCAL}|qids-sr16-total")
    assert (qids_total["id"], qids_total["valueInteger"]) == (f"{qids}-total", 9)
    [qids_panel] = search(client, nurse, patient, "code=qids-sr16")
    assert qids_panel["hasMember"] == [{"reference": f"Observation/{qids}-total"}]
    survey = search(client, nurse, patient, "category=survey")
    assert str(rated["withdrawn"].uuid) not in {o["id"][:36] for o in survey}


def test_a_cssrs_screener_leaves_the_questions_it_skipped_out(client, actors, patient, rated):
    prescriber = actors["prescriber"]
    skipped, asked = str(rated["cssrs_no"].uuid), str(rated["cssrs_yes"].uuid)
    found = by_id(search(client, prescriber, patient, "category=survey"))
    # fhir-loinc.md §6, test 3: with Q2 = No, Q3–Q5 are absent, not "No".
    panel = found[skipped]
    assert panel["code"] == {"text": "C-SSRS Screener"}  # no screener panel code (§1.1, §1.4)
    members = [found[m["reference"].removeprefix("Observation/")] for m in panel["hasMember"]]
    answered = [
        (codes(m)[0][1], m["valueCodeableConcept"]["coding"][0]["code"]) for m in members[:-1]
    ]
    assert answered == [("93246-7", "LA33-6"), ("93247-5", "LA32-8"), ("93267-3", "LA32-8")]
    for absent in ("93248-3", "93249-1", "93250-9", "93269-9"):
        assert absent not in json.dumps([panel, *members])
    # The risk level (93374-7): a yes to Q1 only is low (clinical-reference.md §7.4).
    risk = members[-1]
    assert codes(risk) == [(LOINC, "93374-7")]
    assert risk["valueCodeableConcept"] == {"text": "Low"}
    # A yes to Q2: Q3–Q5 asked and sent; a yes to Q3 is moderate.
    panel = found[asked]
    members = [found[m["reference"].removeprefix("Observation/")] for m in panel["hasMember"]]
    assert [codes(m)[0][1] for m in members] == [
        "93246-7",
        "93247-5",
        "93248-3",
        "93249-1",
        "93250-9",
        "93267-3",
        "93374-7",
    ]
    assert members[-1]["valueCodeableConcept"] == {"text": "Moderate"}
    risks = search(client, prescriber, patient, f"code={LOINC}|93374-7")
    assert [r["id"] for r in risks] == [f"{asked}-risk", f"{skipped}-risk"]
    assert [q["id"] for q in search(client, prescriber, patient, "code=93248-3")] == [
        f"{asked}-item-3"
    ]


def test_every_member_a_panel_lists_can_be_read(client, actors, patient, rated):
    mine = bearer(actors["prescriber"])
    found = search(client, actors["prescriber"], patient, "category=survey")
    panels = [o for o in found if "hasMember" in o]
    assert len(panels) == 5
    for panel in panels:
        read = client.get(f"/fhir/R4/Observation/{panel['id']}", **mine)
        assert read.status_code == 200 and read.json() == panel
        for member in panel["hasMember"]:
            response = client.get(f"/fhir/R4/{member['reference']}", **mine)
            assert response.status_code == 200
            Observation.model_validate(response.json())
            assert response.json() == by_id(found)[member["reference"].split("/")[1]]
        # These responses are not served as QuestionnaireResponses: nothing points at one.
        assert "derivedFrom" not in panel
    # A question the screener skipped is not there to read either.
    skipped = rated["cssrs_no"].uuid
    outcome(client.get(f"/fhir/R4/Observation/{skipped}-item-3", **mine), 404, "not-found")


def test_in_session_scales_are_one_observation_each_with_their_session(
    client, actors, patient, nurse, iv_checked_in
):
    from clinic.treatment_sessions import services

    cadss = services.session_score_record(
        actor=nurse, session=iv_checked_in, kind="cadss", answers=[1] * 23
    )
    moaas = services.session_score_record(
        actor=nurse, session=iv_checked_in, kind="moaas", answers=[5]
    )
    aldrete = services.session_score_record(
        actor=nurse, session=iv_checked_in, kind="modified-aldrete", answers=[2] * 5
    )
    # A CADSS entered outside a session, with an item not rated: not scored, no encounter.
    unscored = record(patient, nurse, "cadss", [1] * 22 + [None])
    found = by_id(search(client, actors["prescriber"], patient, "category=survey"))
    assert len(found) == 4
    encounter = {"reference": f"Encounter/{iv_checked_in.uuid}"}
    # 23 items of 1 is 23 of 92; MOAA/S is its one rating; five items of 2 is 10 of 10.
    for score, code, total in (
        (cadss, "cadss", 23),
        (moaas, "moaas", 5),
        (aldrete, "modified-aldrete", 10),
    ):
        observation = found[str(score.response.uuid)]
        assert codes(observation) == [(LOCAL, code)]
        assert observation["valueInteger"] == total
        assert observation["encounter"] == encounter
        assert "hasMember" not in observation
    lone = found[str(unscored.uuid)]
    assert "valueInteger" not in lone and "encounter" not in lone
    assert lone["dataAbsentReason"]["text"] == "Not scored: not every item was answered."
    [by_code] = search(client, actors["nurse"], patient, f"code={LOCAL}|moaas")
    assert by_code["encounter"] == encounter
    mine = bearer(actors["prescriber"])
    read = client.get(f"/fhir/R4/Observation/{aldrete.response.uuid}", **mine).json()
    assert read["encounter"] == encounter and read["valueInteger"] == 10
    assert client.get(f"/fhir/R4/{encounter['reference']}", **mine).status_code == 200


def test_the_instrument_codesystem_lists_exactly_the_local_codes(client, actors, patient, rated):
    from clinic.assessments.instruments import REGISTRY

    response = client.get("/fhir/R4/CodeSystem/instrument", **bearer(actors["nurse"]))
    assert response.status_code == 200
    system = CodeSystem.model_validate(response.json())
    assert (system.url, system.content, system.status) == (LOCAL, "complete", "active")
    listed = {c.code: c.display for c in system.concept}
    # fhir-loinc.md §1.4, exactly.
    expected = {"qids-sr16", "qids-sr16-total", "madrs", "madrs-total", "cadss", "moaas"}
    expected |= {"modified-aldrete"} | {f"madrs-{n}" for n in range(1, 11)}
    assert set(listed) == expected and system.count == len(expected)
    for code, instrument in (
        ("qids-sr16", "qids-sr16"),
        ("madrs", "madrs"),
        ("cadss", "cadss"),
        ("moaas", "moaas"),
        ("modified-aldrete", "modified-aldrete"),
    ):
        assert listed[code] == REGISTRY[instrument].name
    assert listed["madrs-1"].endswith("Apparent sadness")
    # Every local code an Observation carries is in the CodeSystem, with its display.
    for observation in search(client, actors["nurse"], patient, "category=survey"):
        for coding in observation["code"].get("coding", []):
            if coding["system"] == LOCAL:
                assert listed[coding["code"]] == coding["display"]
    outcome(client.get("/fhir/R4/CodeSystem/loinc", **bearer(actors["nurse"])), 404, "not-found")
    metadata = client.get("/fhir/R4/metadata").json()
    served = {r["type"]: r for r in metadata["rest"][0]["resource"]}
    assert [i["code"] for i in served["CodeSystem"]["interaction"]] == ["read"]
    assert "PCL-5" in served["Observation"]["documentation"]


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("therapist", 200, ""),
        ("front_desk", 403, "security"),
        ("billing", 403, "security"),
        ("prescriber_off_team", 404, "not-found"),
    ],
)
def test_these_scores_are_for_the_care_team_only(client, actors, patient, rated, who, status, code):
    theirs = bearer(actors[who])
    for query in ("category=survey", f"code={LOCAL}|madrs-total", "code=93374-7"):
        response = client.get(f"/fhir/R4/Observation?patient={patient.uuid}&{query}", **theirs)
        if status == 200:
            assert entries(response)
        else:
            outcome(response, status, code)
    if who == "prescriber_off_team":
        read = client.get(f"/fhir/R4/Observation/{rated['pcl5'].uuid}-total", **theirs)
        outcome(read, 404, "not-found")


def test_the_survey_search_costs_the_same_queries_however_many_responses(
    client, actors, patient, nurse, iv_checked_in
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from clinic.treatment_sessions import services

    mine = bearer(actors["prescriber"])
    url = f"/fhir/R4/Observation?patient={patient.uuid}&category=survey&_count=20"

    def responses(n):
        # Each kind in turn: a scale rated in the session, LOINC-coded, local, the screener.
        for index in range(n):
            kind = index % 4
            if kind == 0:
                services.session_score_record(
                    actor=nurse, session=iv_checked_in, kind="moaas", answers=[4]
                )
            elif kind == 1:
                record(patient, nurse, "pcl5", [1] * 20)
            elif kind == 2:
                record(patient, nurse, "madrs", [2] * 10)
            else:
                record(patient, nurse, "cssrs-screen", [0, 0, None, None, None, 0, None])

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, **mine).status_code == 200
        return len(captured.captured_queries)

    responses(3)
    client.get(url, **mine)  # the token's first use is recorded once
    few = queries()
    responses(9)
    found = search(client, actors["prescriber"], patient, "category=survey&_count=20")
    assert len([o for o in found if "encounter" in o]) == 4  # the four MOAA/S
    assert queries() == few


def test_every_instrument_is_served_and_an_unscored_panel_says_so():
    from clinic.assessments.instruments import REGISTRY
    from clinic.fhir.instrument_observations import SERVED_INSTRUMENTS, survey_observations
    from clinic.fhir.observations import ScoredResponseFacts

    assert sorted(SERVED_INSTRUMENTS) == sorted(REGISTRY)
    # A PCL-5 with item 20 unanswered has no total (no prorating, pcl5.py): the panel alone,
    # with no member to point at, and the reason it carries no value.
    [panel] = survey_observations(
        ScoredResponseFacts(
            uuid="2b0c7a36-8f0e-4d3e-9f5c-1d2e3f405162",
            patient_uuid="6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b",
            instrument_code="pcl5",
            answers=(2,) * 19 + (None,),
            total=None,
            taken_at=datetime.datetime(2026, 11, 2, 15, 0, tzinfo=datetime.UTC),
        )
    )
    assert panel.hasMember is None and panel.valueInteger is None
    assert panel.dataAbsentReason.coding[0].code == "unknown"
    assert panel.code.coding[0].code == "101697-1"
