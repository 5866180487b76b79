"""The patient's own operations (/api/v1/me) against the OpenAPI document, with the patient's
token: clinic/api/tests/test_schemathesis.py signs in with staff tokens only, which /me refuses
(401), so this run is the one that reaches the handlers. The same bounded, derandomized run and
the same checks, path ids pointed at the patient's own entry and log."""

from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from clinic.api.tests.test_schemathesis import (  # noqa: F401 (wsgi_app: a fixture)
    EXAMPLES,
    _is_uuid,
    schema_valid_data_is_refused_only_by_the_clinics_rules,
    wsgi_app,
)
from clinic.home_program import services
from clinic.journal import services as journal
from clinic.journal.tests.me_api import patient_bearer

pytestmark = pytest.mark.django_db


def test_every_patient_operation_keeps_its_contract(
    wsgi_app,  # noqa: F811
    patient,
    portal_user,
    home_plan,
):
    entry = journal.journal_entry_create(
        actor=portal_user, patient=patient, mood_before=4, mood_after=6
    )
    log = services.home_session_start(
        actor=portal_user, patient=patient, systolic_mmhg=120, diastolic_mmhg=80, monitor_name="Sam"
    )
    ids = {"entry_uuid": str(entry.uuid), "log_uuid": str(log.uuid)}
    headers = patient_bearer(portal_user)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app)

    failures: list[str] = []
    reached = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if "/me/" not in operation.path:
            continue
        reached += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
                phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
            )
            def run(case):
                parameters = case.path_parameters or {}
                for name, value in ids.items():
                    if name in parameters and _is_uuid(parameters[name]):
                        parameters[name] = value
                case.call_and_validate(
                    headers=headers,
                    excluded_checks=[positive_data_acceptance],
                    additional_checks=[schema_valid_data_is_refused_only_by_the_clinics_rules],
                )

            try:
                run()
            except BaseException as error:  # every operation's failure, not only the first
                if isinstance(error, KeyboardInterrupt):
                    raise
                failures.append(f"{operation.label} [{mode.value}]: {error}")
    assert reached == 16
    assert not failures, "\n\n".join(failures)
