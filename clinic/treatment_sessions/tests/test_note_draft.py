"""The session note's draft from the structured record (note_draft.py), and the session page
offering it to the nurse to edit. Expected text is written out by hand from the record below."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from clinic.treatment_sessions.note_draft import (
    DraftFacts,
    Event,
    Given,
    Reading,
    session_note_draft,
)

REPO = Path(__file__).resolve().parents[3]


def at(hour, minute):
    return dt.datetime(2031, 6, 2, hour, minute)


IV_SESSION = DraftFacts(
    route="IV infusion",
    chair="Chair 1",
    checked_in_at=at(8, 50),
    identity_confirmed=True,
    dose_mg=Decimal("40.0"),
    dose_detail="0.50 mg/kg × 80.0 kg, over 40 min",
    pump=[
        Event(at(9, 0), "started at 75.0 mL/h"),
        Event(at(9, 10), "paused (Nausea)"),
        Event(at(9, 12), "resumed"),
        Event(at(9, 42), "stopped"),
    ],
    given=[
        Given(
            at=at(9, 42),
            what="IV infusion",
            given_mg=Decimal("40.000"),
            drawn_mg=Decimal("50.000"),
            container="L100-001, lot KV-2031",
        )
    ],
    readings=[
        Reading(at(8, 55), 128, 78, 72, 98, 14),
        Reading(at(9, 10), 182, 100, 88, 97, 16),
        Reading(at(9, 30), 140, 85, 80, None, 15),
    ],
    alerts=[
        Event(
            at(9, 10),
            "BP 182/100 mmHg: systolic 182 mmHg is at or above 180 mmHg. Acknowledged 09:11: "
            "continue and recheck.",
        )
    ],
    scores=[Event(at(9, 20), "MOAA/S 5"), Event(at(10, 15), "Modified Aldrete score 10")],
    side_effects=[Event(at(9, 10), "nausea (mild), ondansetron 4 mg")],
    ending="Discharged 10:20 with the escort; post-session instructions given.",
)


def test_the_draft_says_what_happened_in_order():
    assert session_note_draft(IV_SESSION) == "\n".join(
        [
            "IV infusion, Chair 1. Checked in 08:50; identity confirmed by full name and date of "
            "birth.",
            "Planned dose: 40 mg (0.50 mg/kg × 80.0 kg, over 40 min).",
            "Infusion: 09:00 started at 75.0 mL/h; 09:10 paused (Nausea); 09:12 resumed; "
            "09:42 stopped.",
            "Given: 09:42 IV infusion: 40 mg given of 50 mg drawn (L100-001, lot KV-2031). "
            "Total given 40 mg.",
            "Vital signs (3 readings, 08:55–09:30): BP 128–182/78–100 mmHg, HR 72–88 bpm, "
            "SpO2 97–98 %, RR 14–16/min.",
            "Alerts: 09:10 BP 182/100 mmHg: systolic 182 mmHg is at or above 180 mmHg. "
            "Acknowledged 09:11: continue and recheck.",
            "Scores: 09:20 MOAA/S 5; 10:15 Modified Aldrete score 10.",
            "Side effects: 09:10 nausea (mild), ondansetron 4 mg.",
            "Adverse events: none recorded.",
            "Discharged 10:20 with the escort; post-session instructions given.",
        ]
    )


def test_nothing_recorded_is_said_to_be_so_never_left_out():
    draft = session_note_draft(
        DraftFacts(
            route="Esketamine nasal spray",
            chair="Recliner A",
            checked_in_at=at(8, 0),
            identity_confirmed=False,
        )
    )
    assert draft.splitlines() == [
        "Esketamine nasal spray, Recliner A. Checked in 08:00; identity check not recorded.",
        "Given: no dose recorded.",
        "Vital signs: none recorded.",
        "Alerts: none recorded.",
        "Scores: none recorded.",
        "Side effects: none recorded.",
        "Adverse events: none recorded.",
    ]


def test_esketamine_devices_add_up_and_a_single_reading_has_no_range():
    draft = session_note_draft(
        DraftFacts(
            route="Esketamine nasal spray",
            chair="Recliner A",
            checked_in_at=at(8, 0),
            identity_confirmed=True,
            dose_mg=Decimal("56"),
            dose_detail="2 devices of 28 mg",
            given=[
                Given(at(8, 30), "device 1", Decimal("28"), Decimal("28"), "D-1, lot ESK1"),
                Given(at(8, 35), "device 2", Decimal("28"), Decimal("28"), "D-2, lot ESK1"),
            ],
            readings=[Reading(at(8, 20), 132, 84, 70)],
        )
    )
    assert (
        "Given: 08:30 device 1: 28 mg given of 28 mg drawn (D-1, lot ESK1); 08:35 device 2: "
        "28 mg given of 28 mg drawn (D-2, lot ESK1). Total given 56 mg."
    ) in draft
    assert "Vital signs (1 reading, 08:20): BP 132/84 mmHg, HR 70 bpm." in draft


def test_a_dose_above_what_the_pump_allows_keeps_its_reason():
    draft = session_note_draft(
        DraftFacts(
            route="IV infusion",
            chair="Chair 1",
            checked_in_at=at(8, 50),
            identity_confirmed=True,
            given=[
                Given(
                    at(9, 30),
                    "IV infusion",
                    Decimal("40"),
                    Decimal("50"),
                    "L100-001, lot KV-2031",
                    above_expected_reason="Pump started before it was charted",
                )
            ],
        )
    )
    assert (
        "40 mg given of 50 mg drawn (L100-001, lot KV-2031), more than the pump's running "
        "time allows: Pump started before it was charted."
    ) in draft


def test_the_draft_imports_no_django():
    code = (
        "import sys, clinic.treatment_sessions.note_draft; "
        "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))"
    )
    result = subprocess.run(  # noqa: S603 (our own interpreter, a fixed command)
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.django_db
def test_the_page_offers_the_draft_until_the_nurse_writes_her_own(client, nurse, iv_cleared, clock):
    from django.urls import reverse

    client.force_login(nurse)
    url = reverse("treatment_sessions:detail", args=[iv_cleared.uuid])
    html = client.get(url).content.decode()
    # The record so far: checked in at 08:50, pre-dose reading 130/80 at 08:50.
    assert "IV infusion, Chair 1. Checked in 08:50; identity confirmed by full name" in html
    assert "Vital signs (1 reading, 08:50): BP 130/80 mmHg, HR 72 bpm, SpO2 98 %" in html
    assert "Given: no dose recorded." in html
    assert "Drafted from the record as it stands at" in html

    client.post(
        reverse("treatment_sessions:note", args=[iv_cleared.uuid]),
        {"note-text": "Calm; tolerated well."},
    )
    html = client.get(url).content.decode()
    assert "Calm; tolerated well." in html
    assert "Given: no dose recorded." not in html
