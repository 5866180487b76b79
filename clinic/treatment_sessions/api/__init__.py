"""The chair side's API routers: treatment sessions (`sessions`, with dosing in `dosing`) and
the chair-side alerts of the in-basket (`alerts`)."""

from clinic.treatment_sessions.api.alerts import router as chair_alerts_router
from clinic.treatment_sessions.api.dosing import router as dosing_router
from clinic.treatment_sessions.api.record import router as session_record_router
from clinic.treatment_sessions.api.sessions import router as sessions_router
from clinic.treatment_sessions.api.signing import router as signing_router

__all__ = [
    "chair_alerts_router",
    "dosing_router",
    "session_record_router",
    "sessions_router",
    "signing_router",
]
