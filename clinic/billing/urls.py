from django.urls import path

from clinic.billing import (
    views,
    views_accounts,
    views_charges,
    views_claims,
    views_coverage,
    views_prior_auth,
    views_remittances,
    views_reports,
)

app_name = "billing"

urlpatterns = [
    path("", views_charges.queue, name="queue"),
    path("charges/<uuid:charge_uuid>/", views_charges.charge, name="charge"),
    path("charges/<uuid:charge_uuid>/recode/", views_charges.charge_recode, name="charge_recode"),
    path(
        "charges/<uuid:charge_uuid>/visit-codes/",
        views_charges.visit_code_add,
        name="visit_code_add",
    ),
    path(
        "charges/<uuid:charge_uuid>/visit-codes/<uuid:visit_uuid>/entered-in-error/",
        views_charges.visit_code_entered_in_error,
        name="visit_code_entered_in_error",
    ),
    path("sessions/code/", views_charges.sessions_code_batch, name="sessions_code_batch"),
    path("sessions/<uuid:session_uuid>/code/", views_charges.session_code, name="session_code"),
    path(
        "patients/<uuid:patient_uuid>/authorizations/",
        views_prior_auth.prior_auth_list,
        name="prior_auth_list",
    ),
    path(
        "authorizations/<uuid:authorization_uuid>/",
        views_prior_auth.prior_auth_detail,
        name="prior_auth",
    ),
    path(
        "authorizations/<uuid:authorization_uuid>/packet.pdf",
        views_prior_auth.prior_auth_packet,
        name="prior_auth_packet",
    ),
    path(
        "authorizations/<uuid:authorization_uuid>/<str:action>/",
        views_prior_auth.prior_auth_action,
        name="prior_auth_action",
    ),
    path(
        "payers/<uuid:payer_uuid>/criteria/",
        views_prior_auth.criterion_add,
        name="criterion_add",
    ),
    path(
        "criteria/<uuid:criterion_uuid>/switch/",
        views_prior_auth.criterion_switch,
        name="criterion_switch",
    ),
    path("charges/<uuid:charge_uuid>/claim/", views_claims.claim_create, name="claim_create"),
    path("claims/<uuid:claim_uuid>/", views_claims.claim, name="claim"),
    path("claims/<uuid:claim_uuid>/check/", views_claims.claim_check, name="claim_check"),
    path("claims/<uuid:claim_uuid>/record/", views_claims.claim_record, name="claim_record"),
    path("claims/<uuid:claim_uuid>/correct/", views_claims.claim_correct, name="claim_correct"),
    path("claims/export/", views_claims.claims_export, name="claims_export"),
    path("claims/make/", views_claims.claims_create_batch, name="claims_create_batch"),
    path(
        "claim-files/<uuid:batch_uuid>/837p.txt",
        views_claims.batch_download,
        name="batch_download",
    ),
    path("patients/<uuid:patient_uuid>/account/", views_accounts.account, name="account"),
    path(
        "patients/<uuid:patient_uuid>/payments/<uuid:payment_uuid>/entered-in-error/",
        views_accounts.payment_entered_in_error,
        name="payment_entered_in_error",
    ),
    path(
        "patients/<uuid:patient_uuid>/charges/<uuid:charge_uuid>/superbill.pdf",
        views_accounts.superbill,
        name="superbill",
    ),
    path(
        "patients/<uuid:patient_uuid>/statement.pdf",
        views_accounts.statement,
        name="statement",
    ),
    path("reports/", views_reports.reports, name="reports"),
    path("remittances/", views_remittances.remittances, name="remittances"),
    path(
        "remittances/<uuid:remittance_uuid>/",
        views_remittances.remittance,
        name="remittance",
    ),
    path("fees/", views_charges.fee_schedule, name="fee_schedule"),
    path(
        "packages/<uuid:offer_uuid>/switch/",
        views_charges.package_offer_switch,
        name="package_offer_switch",
    ),
    path(
        "patients/<uuid:patient_uuid>/packages/<uuid:purchase_uuid>/entered-in-error/",
        views_accounts.package_entered_in_error,
        name="package_entered_in_error",
    ),
    path(
        "fees/<uuid:entry_uuid>/entered-in-error/",
        views_charges.fee_entered_in_error,
        name="fee_entered_in_error",
    ),
    path(
        "patients/<uuid:patient_uuid>/diagnoses/new/",
        views.diagnosis_add,
        name="diagnosis_add",
    ),
    path(
        "patients/<uuid:patient_uuid>/diagnoses/<uuid:diagnosis_uuid>/primary/",
        views.diagnosis_make_primary,
        name="diagnosis_make_primary",
    ),
    path(
        "patients/<uuid:patient_uuid>/diagnoses/<uuid:diagnosis_uuid>/resolve/",
        views.diagnosis_resolve,
        name="diagnosis_resolve",
    ),
    path(
        "patients/<uuid:patient_uuid>/diagnoses/<uuid:diagnosis_uuid>/entered-in-error/",
        views.diagnosis_entered_in_error,
        name="diagnosis_entered_in_error",
    ),
    path("icd10/", views.icd10_search, name="icd10_search"),
    path("patients/<uuid:patient_uuid>/coverage/", views_coverage.coverage, name="coverage"),
    path(
        "patients/<uuid:patient_uuid>/coverage/<uuid:coverage_uuid>/end/",
        views_coverage.coverage_end,
        name="coverage_end",
    ),
    path(
        "patients/<uuid:patient_uuid>/coverage/<uuid:coverage_uuid>/entered-in-error/",
        views_coverage.coverage_entered_in_error,
        name="coverage_entered_in_error",
    ),
    path(
        "patients/<uuid:patient_uuid>/coverage/<uuid:coverage_uuid>/eligibility/",
        views_coverage.eligibility_check,
        name="eligibility_check",
    ),
    path(
        "patients/<uuid:patient_uuid>/coverage/<uuid:coverage_uuid>/card/",
        views_coverage.card_image_add,
        name="card_image_add",
    ),
    path(
        "patients/<uuid:patient_uuid>/coverage/<uuid:coverage_uuid>/card/<uuid:image_uuid>.jpg",
        views_coverage.card_image,
        name="card_image",
    ),
    path(
        "patients/<uuid:patient_uuid>/coverage/<uuid:coverage_uuid>/card/<uuid:image_uuid>/"
        "entered-in-error/",
        views_coverage.card_image_entered_in_error,
        name="card_image_entered_in_error",
    ),
    path("payers/", views_coverage.payer_list, name="payer_list"),
    path("payers/<uuid:payer_uuid>/", views_coverage.payer_edit, name="payer_edit"),
    path("payers/<uuid:payer_uuid>/plans/", views_coverage.plan_add, name="plan_add"),
    path("plans/<uuid:plan_uuid>/switch/", views_coverage.plan_switch, name="plan_switch"),
]
