from ninja import NinjaAPI

from clinic.api.auth import PatientBearerAuth, StaffBearerAuth, StaffSessionAuth
from clinic.api.errors import declare_error_responses, install_error_handlers
from clinic.assessments.api import alerts_router as suicidality_alerts_router
from clinic.assessments.api import router as assessments_router
from clinic.assessments.calculators import router as calculators_router
from clinic.billing.calculators import router as billing_calculators_router
from clinic.controlled_substances.api import router as ledger_router
from clinic.home_program.api import router as home_sessions_router
from clinic.home_program.api_alerts import router as home_alerts_router
from clinic.journal.api import router as journal_router
from clinic.outcomes.api import router as outcomes_router
from clinic.patients.api import router as patients_router
from clinic.patients.api_records import router as records_requests_router
from clinic.protocols.api import router as plans_router
from clinic.protocols.api_templates import router as protocol_templates_router
from clinic.protocols.calculators import router as protocol_calculators_router
from clinic.scheduling.api import router as appointments_router
from clinic.scheduling.api_resources import router as schedule_resources_router
from clinic.screening.api import router as screening_router
from clinic.screening.api_consultations import router as consultations_router
from clinic.screening.api_intake import router as intake_router
from clinic.treatment_sessions.api import (
    chair_alerts_router,
    dosing_router,
    session_record_router,
    sessions_router,
    signing_router,
)


class KetaCareAPI(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        schema = super().get_openapi_schema(*args, **kwargs)
        # Python 3.13 renamed 422's reason phrase (RFC 9110); the published document must not
        # depend on the interpreter that serves it.
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for code, response in operation.get("responses", {}).items():
                    if str(code) == "422":
                        response["description"] = "Unprocessable Content"
        return schema


api = KetaCareAPI(
    title="KetaCare API",
    version="1",
    description=(
        "Clinic staff API. Authenticate with the signed-in session (send the CSRF token) "
        "or `Authorization: Bearer <token>` from `manage.py createapitoken`. "
        "The operations under `/me` are a patient's own: they take only the patient's token "
        "from the portal's account page, which opens nothing else. "
        'Errors share one envelope: `{"detail": ..., "code": ...}`.'
    ),
    auth=[StaffBearerAuth(), StaffSessionAuth()],
    urls_namespace="api-1",
)
install_error_handlers(api)
api.add_router("/patients", patients_router)
api.add_router("/patients", assessments_router)
api.add_router("/patients", plans_router)
api.add_router("", calculators_router)
api.add_router("", outcomes_router)
api.add_router("", protocol_calculators_router)
api.add_router("", billing_calculators_router)
api.add_router("/screening", screening_router)
api.add_router("/ledger", ledger_router)
# The one public operation (auth=None on the operation itself): a consultation request.
api.add_router("/consultations", consultations_router)
api.add_router("/appointments", appointments_router)
api.add_router("/sessions", sessions_router)
api.add_router("/sessions", dosing_router)
api.add_router("/sessions", session_record_router)
api.add_router("/sessions", signing_router)
api.add_router("", protocol_templates_router)
api.add_router("", schedule_resources_router)
api.add_router("", records_requests_router)
api.add_router("", home_alerts_router)
api.add_router("", intake_router)
api.add_router("/alerts", suicidality_alerts_router)
api.add_router("/alerts", chair_alerts_router)
# The patient's own operations: their portal token, and nothing else, opens them.
api.add_router("/me", journal_router, auth=PatientBearerAuth())
api.add_router("/me", home_sessions_router, auth=PatientBearerAuth())
declare_error_responses(api)
