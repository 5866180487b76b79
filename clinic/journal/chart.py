"""What the journal adds to the patient chart: the entries the patient shared with their care
team and their intentions for coming sessions. Only for actors with `journal.view_shared` on
the patient's care team; for anyone else the section is left out entirely (nothing is read)."""

from __future__ import annotations

from clinic.journal import selectors
from clinic.patients.chart import ChartSection


def section_context(*, actor, patient, clinical: bool):
    if not selectors.can_view_shared(actor=actor, patient=patient):
        return None
    return {
        "patient": patient,
        "entries": selectors.shared_entry_list(actor=actor, patient=patient),
        "intentions": selectors.upcoming_intention_list(actor=actor, patient=patient),
    }


SECTION = ChartSection(order=24, template="journal/_chart_section.html", context=section_context)
