from django.urls import path

from clinic.treatment_sessions import (
    views,
    views_dosing,
    views_floor,
    views_flowsheet,
    views_rems,
    views_requests,
)

app_name = "treatment_sessions"

S = "<uuid:session_uuid>/"

urlpatterns = [
    # The floor: today's check-in list and the live chair board (views_floor).
    path("", views_floor.day, name="day"),
    path("board/", views_floor.board, name="board"),
    path("check-in/<uuid:appointment_uuid>/", views_floor.check_in, name="check_in"),
    # REMS monitoring forms (views_rems).
    path("rems/", views_rems.rems_due, name="rems_due"),
    path(S + "rems/", views_rems.rems_form, name="rems_form"),
    path(S + "rems.pdf", views_rems.rems_pdf, name="rems_pdf"),
    path(S + "rems/submitted/", views_rems.rems_submitted, name="rems_submitted"),
    # Asking a prescriber, and answering (views_requests).
    path(S + "ask/", views_requests.ask, name="ask"),
    path("requests/<uuid:request_uuid>/answer/", views_requests.answer, name="request_answer"),
    path("requests/<uuid:request_uuid>/decline/", views_requests.decline, name="request_decline"),
    path(
        "requests/<uuid:request_uuid>/withdraw/", views_requests.withdraw, name="request_withdraw"
    ),
    # One session at the chair (views; dosing in views_dosing, the flowsheet in views_flowsheet).
    path(S, views.detail, name="detail"),
    path(S + "pre-checks/", views.precheck, name="precheck"),
    path(S + "confirm-bp/", views.bp_confirm, name="bp_confirm"),
    path(S + "override/", views.override, name="override"),
    path(S + "vitals/", views_flowsheet.vitals, name="vitals"),
    path(S + "vitals/<uuid:vitals_uuid>/error/", views_flowsheet.vitals_error, name="vitals_error"),
    path(
        S + "alerts/<uuid:alert_uuid>/acknowledge/",
        views_flowsheet.alert_acknowledge,
        name="alert_ack",
    ),
    path(S + "infusion/", views_dosing.infusion, name="infusion"),
    path(S + "injection/", views_dosing.im_injection, name="im_injection"),
    path(S + "device/", views_dosing.device, name="device"),
    path(S + "device/end/", views_dosing.dosing_end, name="dosing_end"),
    path(S + "waste/<uuid:administration_uuid>/", views_dosing.waste, name="waste"),
    path(S + "scores/", views_flowsheet.score, name="score"),
    path(S + "side-effects/", views_flowsheet.side_effect, name="side_effect"),
    path(S + "adverse-events/", views_flowsheet.adverse_event, name="adverse_event"),
    path(
        S + "records/<str:kind>/<uuid:record_uuid>/error/",
        views_flowsheet.record_error,
        name="record_error",
    ),
    path(S + "recovery/", views.recovery, name="recovery"),
    path(S + "discharge/", views.discharge, name="discharge"),
    path(S + "stop/", views.stop, name="stop"),
    path(S + "note/", views.note, name="note"),
    path(S + "sign/", views.sign, name="sign"),
    path(S + "addenda/", views.addendum, name="addendum"),
    path(S + "integration-notes/", views.integration_note, name="integration_note"),
]
