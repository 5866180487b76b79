"""The API against its own OpenAPI document (issue 13, "the API contract is complete").

A bounded schemathesis run: a few generated requests per operation and role, every check
schemathesis has (status codes and content types declared, responses matching their schemas,
valid data accepted, invalid data refused, ...), through the Django app in-process (WSGI),
signed in with a bearer token per staff role, with a seeded patient, care team and measurement
so that path ids resolve. Zero failures, not only zero 500s. Reproducible: Hypothesis runs
derandomized and keeps no example database.

Kept small (see EXAMPLES) so the run stays well under two minutes per database.
"""

from __future__ import annotations

import datetime
import json
import uuid

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import positive_data_acceptance

from clinic.accounts.services import api_token_create
from clinic.patients.tests.api_helpers import add_measurement, add_member, register

pytestmark = pytest.mark.django_db

EXAMPLES = 4
ROLES = ("clinic_admin", "prescriber", "front_desk", "billing")


@pytest.fixture
def wsgi_app():
    """The app as a server runs it, but keeping the test's database connection open between
    requests (as Django's test client does): the run happens inside the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def seeded(make_staff):
    desk = make_staff("front_desk", username="st_desk")
    prescriber = make_staff("prescriber", username="st_prescriber")
    nurse = make_staff("nurse", username="st_nurse")
    patient = register(desk, date_of_birth=datetime.date(1980, 5, 17))
    add_member(patient, prescriber, "primary_prescriber")
    add_member(patient, nurse, "nurse")
    measurement = add_measurement(patient, nurse, days_ago=3, weight="72.0", height="170.0")
    users = {
        "clinic_admin": make_staff("clinic_admin", username="st_admin"),
        "prescriber": prescriber,
        "front_desk": desk,
        "billing": make_staff("billing", username="st_billing"),
    }
    return patient, measurement, users


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _resolve(case, patient, measurement) -> None:
    """Point generated path ids at the seeded records, so requests reach the handlers. An id a
    negative case made invalid on purpose stays as it is: that is what the case is about."""
    parameters = case.path_parameters or {}
    for name, record in (("patient_uuid", patient), ("measurement_uuid", measurement)):
        if name in parameters and _is_uuid(parameters[name]):
            parameters[name] = str(record.uuid)


# The problem types of the clinic's own rules, checked once the body fits its schema: the text
# policy, plausible dates and measurements, and the cross-field rules of the calculators
# (docs/clinical/calculators.md), which a JSON Schema cannot say. Anything else in a 422 is the
# schema layer refusing what the published schema allows: the document and the code disagree.
CLINIC_RULE_TYPES = frozenset(
    {"invalid_input", "implausible", "contradiction", "unknown_term", "invalid_answer"}
    # A whole number written with a fraction (56.0) where the contract wants an integer: JSON
    # Schema counts 56.0 as an integer and cannot say otherwise, and calculators.md refuses it
    # (a dose or a score is never coerced).
    | {"int_type"}
)


PRECONDITION_CODES = {412: "precondition_failed", 428: "precondition_required"}


def schema_valid_data_is_refused_only_by_the_clinics_rules(ctx, response, case):
    """Schemathesis's positive_data_acceptance, with two differences: a schema-valid request
    may be refused with 422 by a rule of the clinic (named in each problem's type), never by
    the schema layer; and a change sent without a current `If-Match` is refused with 428 or 412
    (the header is optional to the schema so that its absence is answered in the envelope, not
    as a schema error). Every other status it does not expect is still a failure."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return None
    if response.status_code in PRECONDITION_CODES:
        code = json.loads(response.content).get("code")
        if code != PRECONDITION_CODES[response.status_code]:
            raise RejectedPositiveData(
                operation=case.operation.label,
                message=f"{response.status_code} without the precondition's code: {code}",
                status_code=response.status_code,
                allowed_statuses=["2xx", "401", "403", "404", "409", "412", "428"],
            )
        return None
    if response.status_code == 422:
        problems = json.loads(response.content)["detail"]
        unexpected = [p for p in problems if p.get("type") not in CLINIC_RULE_TYPES]
        if unexpected:
            raise RejectedPositiveData(
                operation=case.operation.label,
                message=f"Schema-valid data refused by the schema layer: {unexpected}",
                status_code=422,
                allowed_statuses=["2xx", "401", "403", "404", "409"],
            )
        return None
    return positive_data_acceptance(ctx, response, case)


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_keeps_its_contract(wsgi_app, seeded, role):
    patient, measurement, users = seeded
    token = api_token_create(actor=None, user=users[role], name="schemathesis")[1]
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app)

    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
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
                _resolve(case, patient, measurement)
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
    assert not failures, "\n\n".join(failures)
