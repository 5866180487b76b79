"""Two devices saving the intake with the same If-Match at the same moment, on PostgreSQL
(SQLite serialises all writers, so it cannot race): `intake_save` compares the tag under the
intake's row lock, so the second waits for the first, sees a tag that is no longer the
intake's and is refused; one change is written. PostgreSQL only."""

from __future__ import annotations

import pytest

from clinic.core.api_versions import PreconditionFailed, precondition
from clinic.screening import services
from clinic.screening.api_intake import intake_etag
from clinic.screening.models import Intake
from tests.concurrency import in_threads

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_two_saves_sent_with_one_tag_write_one(submitted, nurse, prescriber):
    tag = intake_etag(submitted)
    allergies = ["Latex", "Penicillin"]

    def work(i):
        return services.intake_save(
            actor=[nurse, prescriber][i],
            intake=submitted,
            data={"allergies": allergies[i]},
            precondition=precondition(tag, intake_etag),
        )

    results = in_threads(2, work)

    written = [r for r in results if isinstance(r, Intake)]
    refused = [r for r in results if isinstance(r, PreconditionFailed)]
    assert len(written) == 1 and len(refused) == 1, results
    kept = Intake.objects.get(pk=submitted.pk)
    # The winner's answer, and one change after submission: one revision more.
    assert kept.allergies == written[0].allergies
    assert kept.revision == submitted.revision + 1
