"""Pure mappers of every scored instrument to FHIR Observations, and KetaCare's instrument
CodeSystem. No Django.

PHQ-9 and GAD-7 have LOINC codes for every part (observations.py). The others carry only the
codes fhir-loinc.md verified or names: PCL-5 its LOINC panel and total; the C-SSRS screener
its LOINC questions, answers and risk level; QIDS-SR16, MADRS, CADSS, MOAA/S and the modified
Aldrete score KetaCare's own codes (§1.4). A part with no such code is left out rather than
given a guessed one. Ids as in observations.py: the response's UUID for its panel (or its one
Observation), with "-total", "-item-3" or "-risk" for a part.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fhir.resources.R4B.codesystem import CodeSystem
from fhir.resources.R4B.observation import Observation

from clinic.assessments.instruments import REGISTRY, cssrs_screen
from clinic.fhir import terminology as t
from clinic.fhir.observations import (
    ScoredResponseFacts,
    scored_instrument_observations,
    survey_common,
)

PCL5 = "pcl5"
CSSRS = "cssrs-screen"
# Every instrument served as survey Observations, in the order of the API's instrument list.
SERVED_INSTRUMENTS: tuple[str, ...] = (*t.LOINC_INSTRUMENTS, PCL5, *t.LOCAL_INSTRUMENTS, CSSRS)

DATA_ABSENT_REASON = "http://terminology.hl7.org/CodeSystem/data-absent-reason"


def _local_displays() -> dict[str, str]:
    """Each local code with its display, from the instruments' own names and item texts."""
    displays = {}
    for name, codes in t.LOCAL_INSTRUMENTS.items():
        instrument = REGISTRY[name]
        displays[codes.code] = instrument.name
        if codes.total:
            displays[codes.total] = f"{instrument.name} total score"
        if codes.items:
            for item in instrument.items:
                displays[f"{codes.code}-{item.number}"] = (
                    f"{instrument.name} item {item.number}: {item.text}"
                )
    return displays


LOCAL_DISPLAYS: Mapping[str, str] = _local_displays()


def _local(code: str) -> dict[str, str]:
    return t.coding(t.INSTRUMENT_SYSTEM, code, LOCAL_DISPLAYS[code])


def instrument_codings(instrument_code: str) -> frozenset[tuple[str, str]]:
    """Every (system, code) the instrument's Observations can carry: what a search by code
    looks for."""
    if instrument_code in t.LOINC_INSTRUMENTS:
        return frozenset((t.LOINC, code) for code in t.LOINC_INSTRUMENTS[instrument_code].all_codes)
    if instrument_code == PCL5:
        return frozenset({(t.LOINC, t.PCL5_PANEL[0]), (t.LOINC, t.PCL5_TOTAL[0])})
    if instrument_code == CSSRS:
        asked = {*cssrs_screen.LOINC_ITEMS.values(), t.CSSRS_RISK_LEVEL[0]}
        return frozenset((t.LOINC, code) for code in asked)
    codes = t.LOCAL_INSTRUMENTS[instrument_code]
    own = {codes.code, codes.total}
    if codes.items:
        own |= {f"{codes.code}-{item.number}" for item in REGISTRY[instrument_code].items}
    return frozenset((t.INSTRUMENT_SYSTEM, code) for code in own if code)


def survey_observations(facts: ScoredResponseFacts) -> list[Observation]:
    """A response to any served instrument as its Observations, the panel (or the one
    Observation) first."""
    name = facts.instrument_code
    if name in t.LOINC_INSTRUMENTS:
        return scored_instrument_observations(facts)
    common = survey_common(facts)
    if name == PCL5:
        found = _panel(
            facts, common, t.coding(t.LOINC, *t.PCL5_PANEL), t.coding(t.LOINC, *t.PCL5_TOTAL)
        )
    elif name == CSSRS:
        found = _cssrs_screen(facts, common)
    elif name in t.LOCAL_INSTRUMENTS:
        codes = t.LOCAL_INSTRUMENTS[name]
        if codes.total:
            found = _panel(facts, common, _local(codes.code), _local(codes.total), codes.items)
        else:
            # CADSS, MOAA/S and modified Aldrete: §1.4 gives each one code and no code for a
            # total. The scale's result is its total (MOAA/S's one rating), so one Observation
            # with the instrument's code carries it: a panel would need a code for its total
            # member, and reusing the instrument's code there would give two Observations of
            # one code for one response. The items have no codes, so are not sent.
            found = [
                _valued(
                    {**common, "id": facts.uuid, "code": _code(_local(codes.code), name)}, facts
                )
            ]
    else:
        raise ValueError(f"No FHIR mapping for instrument {name!r}.")
    return [Observation.model_validate(resource) for resource in found]


def _code(coding: dict[str, str], instrument_code: str) -> dict[str, Any]:
    return {"coding": [coding], "text": REGISTRY[instrument_code].name}


def _valued(observation: dict[str, Any], facts: ScoredResponseFacts) -> dict[str, Any]:
    """The total as a number; an incomplete form is not scored, and says so."""
    if facts.total is not None:
        return {**observation, "valueInteger": facts.total}
    return {**observation, "dataAbsentReason": _not_scored()}


def _not_scored() -> dict[str, Any]:
    return {
        "coding": [t.coding(DATA_ABSENT_REASON, "unknown", "Unknown")],
        "text": "Not scored: not every item was answered.",
    }


def _panel(
    facts: ScoredResponseFacts,
    common: dict[str, Any],
    panel_coding: dict[str, str],
    total_coding: dict[str, str],
    with_items: bool = False,
) -> list[dict[str, Any]]:
    """A panel whose members are its coded items (MADRS's `madrs-N`, each rating a number)
    and its total. No `derivedFrom`: these responses are not served as QuestionnaireResponses."""
    instrument = REGISTRY[facts.instrument_code]
    members: list[dict[str, Any]] = []
    if with_items:
        for item, value in zip(instrument.items, facts.answers, strict=False):
            if value is not None:
                members.append(
                    {
                        **common,
                        "id": f"{facts.uuid}-item-{item.number}",
                        "code": {
                            "coding": [_local(f"{panel_coding['code']}-{item.number}")],
                            "text": item.text,
                        },
                        "valueInteger": value,
                    }
                )
    if facts.total is not None:
        total = {"coding": [total_coding], "text": f"{instrument.name} total score"}
        members.append(
            {**common, "id": f"{facts.uuid}-total", "code": total, "valueInteger": facts.total}
        )
    panel = {**common, "id": facts.uuid, "code": _code(panel_coding, facts.instrument_code)}
    if members:
        panel["hasMember"] = [{"reference": f"Observation/{m['id']}"} for m in members]
    else:
        panel["dataAbsentReason"] = _not_scored()
    return [panel, *members]


def _cssrs_screen(facts: ScoredResponseFacts, common: dict[str, Any]) -> list[dict[str, Any]]:
    """The screener as the US Behavioral Health Profiles IG codes it (fhir-loinc.md §1.1): each
    question asked, with its LOINC code and answer LA32-8 No or LA33-6 Yes, and the risk level
    (93374-7) our screener computed (cssrs_screen.score's triage rule [G13]). A question the
    branching skipped (Q3–Q5 after a No to Q2) is absent, never "No" (§6, test 3).

    The risk level goes as text: LOINC's answer codes for our four levels were not verified
    (only LA9194-7 "Low" was seen, in an example), so none is mapped. The panel has no code
    (the IG uses none, and §1.4 names no local one): it is named in text."""
    instrument = REGISTRY[CSSRS]
    members: list[dict[str, Any]] = []
    for item, value in zip(instrument.items, facts.answers, strict=False):
        if value is None:
            continue
        label = next(o.label for o in item.options if o.value == value)
        answer = t.coding(t.LOINC, cssrs_screen.LOINC_ANSWERS[value], label)
        members.append(
            {
                **common,
                "id": f"{facts.uuid}-item-{item.number}",
                "code": {
                    "coding": [t.coding(t.LOINC, cssrs_screen.LOINC_ITEMS[item.number])],
                    "text": item.text,
                },
                "valueCodeableConcept": {"coding": [answer], "text": label},
            }
        )
    if facts.severity:
        members.append(
            {
                **common,
                "id": f"{facts.uuid}-risk",
                "code": {"coding": [t.coding(t.LOINC, *t.CSSRS_RISK_LEVEL)]},
                "valueCodeableConcept": {"text": facts.severity.capitalize()},
            }
        )
    panel = {**common, "id": facts.uuid, "code": {"text": instrument.name}}
    if members:
        panel["hasMember"] = [{"reference": f"Observation/{m['id']}"} for m in members]
    else:
        panel["dataAbsentReason"] = _not_scored()
    return [panel, *members]


def instrument_code_system() -> CodeSystem:
    """KetaCare's instrument CodeSystem (fhir-loinc.md §1.4), complete: every code it has."""
    return CodeSystem.model_validate(
        {
            "resourceType": "CodeSystem",
            "id": "instrument",
            "url": t.INSTRUMENT_SYSTEM,
            "name": "KetaCareInstrument",
            "title": "KetaCare instrument codes",
            "status": "active",
            "publisher": "KetaCare",
            "description": "Scored instruments, their totals and items, that LOINC has no "
            "code for. A LOINC code confirmed later is sent beside these, never instead.",
            "caseSensitive": True,
            "content": "complete",
            "count": len(LOCAL_DISPLAYS),
            "concept": [
                {"code": code, "display": display} for code, display in LOCAL_DISPLAYS.items()
            ],
        }
    )
