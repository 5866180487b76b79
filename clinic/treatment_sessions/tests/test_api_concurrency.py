"""Two devices sending a change with the same If-Match at the same moment, on PostgreSQL
(SQLite serialises all writers, so it cannot race): the tag is compared under the session's row
lock (api/_read.py `matches`, the services' precondition), so the second waits for the first,
sees a tag that is no longer the session's and is refused; one change is written. PostgreSQL
only."""

from __future__ import annotations

from decimal import Decimal

import pytest

from clinic.core.api_versions import PreconditionFailed
from clinic.patients.services import care_team_set
from clinic.treatment_sessions import selectors, services
from clinic.treatment_sessions.api._read import matches, session_etag
from clinic.treatment_sessions.choices import InfusionEventKind
from clinic.treatment_sessions.models import InfusionEvent
from clinic.treatment_sessions.tests.conftest import MONDAY, at, fresh
from tests.concurrency import in_threads

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_two_rate_changes_sent_with_one_tag_write_one(
    iv_running, make_staff, front_desk, prescriber, nurse, patient, clock
):
    other = make_staff("nurse", username="nurse_b")
    care_team_set(
        actor=front_desk, patient=patient, primary_prescriber=prescriber, nurses=[nurse, other]
    )
    clock.move_to(at(MONDAY, 9, 10))
    read = selectors.session_get(actor=nurse, session_uuid=iv_running.uuid, audit=False)
    tag = session_etag(read)
    rates = ["120", "180"]

    def work(i):
        return services.infusion_rate_change(
            actor=[nurse, other][i],
            session=iv_running,
            rate_ml_per_h=rates[i],
            precondition=matches(tag),
        )

    results = in_threads(2, work)

    written = [r for r in results if isinstance(r, InfusionEvent)]
    refused = [r for r in results if isinstance(r, PreconditionFailed)]
    assert len(written) == 1 and len(refused) == 1, results
    assert (
        InfusionEvent.objects.filter(session=iv_running, kind=InfusionEventKind.RATE).count() == 1
    )
    # The session carries the winner's rate, never a mix or the loser's.
    assert written[0].rate_ml_per_h in {Decimal("120"), Decimal("180")}
    assert fresh(iv_running).infusion_rate_ml_per_h == written[0].rate_ml_per_h
