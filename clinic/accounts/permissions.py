"""The permission matrix: which role may do what. docs/permissions.md is its written form
(a test keeps the two in step).

Capabilities say what a role may do at all. Which patients an actor reaches is a second,
separate check: clinical roles reach only the patients whose care team they are on
(`Patient.objects.visible_to`); roles with `patient.directory` reach every patient's
demographics but no clinical data.
"""

from __future__ import annotations

from enum import StrEnum

from clinic.accounts.choices import Role


class Capability(StrEnum):
    PATIENT_DIRECTORY = "patient.directory"
    PATIENT_CREATE = "patient.create"
    PATIENT_EDIT_DEMOGRAPHICS = "patient.edit_demographics"
    PATIENT_EDIT_CARE_TEAM = "patient.edit_care_team"
    PATIENT_VIEW_CLINICAL = "patient.view_clinical"
    PATIENT_RECORD_MEASUREMENTS = "patient.record_measurements"
    AUDIT_VIEW = "audit.view"
    AUDIT_EXPORT = "audit.export"
    ASSESSMENT_RECORD = "assessment.record"
    ASSESSMENT_SEND_LINK = "assessment.send_link"
    ALERT_ACKNOWLEDGE = "alert.acknowledge"
    ALERT_RESOLVE = "alert.resolve"
    NOTIFICATION_VIEW = "notification.view"
    CONSULTATION_MANAGE = "consultation.manage"
    INTAKE_EDIT = "intake.edit"
    ELIGIBILITY_SIGN = "eligibility.sign"
    SCREENING_EDIT_RULES = "screening.edit_rules"
    PLAN_PRESCRIBE = "plan.prescribe"
    PROTOCOL_MANAGE_TEMPLATES = "protocol.manage_templates"
    SCHEDULE_VIEW = "schedule.view"
    SCHEDULE_BOOK = "schedule.book"
    SCHEDULE_MANAGE_RESOURCES = "schedule.manage_resources"
    LEDGER_VIEW = "ledger.view"
    LEDGER_RECORD = "ledger.record"
    LEDGER_RECEIVE = "ledger.receive"
    LEDGER_COUNT = "ledger.count"
    LEDGER_RECONCILE = "ledger.reconcile"
    LEDGER_REPORT_LOSS = "ledger.report_loss"
    LEDGER_EXPORT = "ledger.export"
    LEDGER_EXPORT_NAMED = "ledger.export_named"
    SESSION_RUN = "session.run"
    SESSION_OVERRIDE = "session.override"
    SESSION_SIGN = "session.sign"
    SESSION_INTEGRATION_NOTE = "session.integration_note"
    SESSION_BOARD = "session.board"
    SESSION_REMS = "session.rems"
    PORTAL_INVITE = "portal.invite"
    JOURNAL_VIEW_SHARED = "journal.view_shared"
    HOME_PROGRAM_REVIEW = "home_program.review"
    STAFF_MANAGE = "staff.manage"
    PATIENT_EMERGENCY_ACCESS = "patient.emergency_access"
    EMERGENCY_ACCESS_REVIEW = "emergency_access.review"
    API_TOKEN_REVOKE_ANY = "api_token.revoke_any"
    LOCATION_MANAGE = "location.manage"
    LOCATION_NETWORK = "location.network"
    DIAGNOSIS_VIEW = "diagnosis.view"
    DIAGNOSIS_RECORD = "diagnosis.record"
    COVERAGE_VIEW = "coverage.view"
    COVERAGE_MANAGE = "coverage.manage"
    PAYER_MANAGE = "payer.manage"
    CHARGE_VIEW = "charge.view"
    CHARGE_MANAGE = "charge.manage"
    VISIT_CODE_ADD = "visit_code.add"
    FEE_SCHEDULE_MANAGE = "fee_schedule.manage"
    PRIOR_AUTH_VIEW = "prior_auth.view"
    PRIOR_AUTH_MANAGE = "prior_auth.manage"
    ACCOUNT_VIEW = "account.view"
    PAYMENT_RECORD = "payment.record"
    RECORDS_REQUEST_MANAGE = "records_request.manage"
    RECORDS_IMPORT = "records.import"


_ADMIN = Role.CLINIC_ADMIN
MATRIX: dict[Capability, frozenset[Role]] = {
    Capability.PATIENT_DIRECTORY: frozenset({_ADMIN, Role.FRONT_DESK, Role.BILLING}),
    Capability.PATIENT_CREATE: frozenset({_ADMIN, Role.FRONT_DESK}),
    Capability.PATIENT_EDIT_DEMOGRAPHICS: frozenset(
        {_ADMIN, Role.FRONT_DESK, Role.PRESCRIBER, Role.NURSE}
    ),
    Capability.PATIENT_EDIT_CARE_TEAM: frozenset({_ADMIN, Role.FRONT_DESK}),
    Capability.PATIENT_VIEW_CLINICAL: frozenset(
        {_ADMIN, Role.PRESCRIBER, Role.NURSE, Role.THERAPIST}
    ),
    Capability.PATIENT_RECORD_MEASUREMENTS: frozenset({_ADMIN, Role.PRESCRIBER, Role.NURSE}),
    Capability.AUDIT_VIEW: frozenset({_ADMIN}),
    Capability.AUDIT_EXPORT: frozenset({_ADMIN}),
    # Clinicians on the care team enter questionnaires and clinician ratings.
    Capability.ASSESSMENT_RECORD: frozenset({Role.PRESCRIBER, Role.NURSE, Role.THERAPIST}),
    # Sending a questionnaire link reveals no results, so the front desk may send one too.
    Capability.ASSESSMENT_SEND_LINK: frozenset(
        {_ADMIN, Role.FRONT_DESK, Role.PRESCRIBER, Role.NURSE, Role.THERAPIST}
    ),
    Capability.ALERT_ACKNOWLEDGE: frozenset({Role.PRESCRIBER, Role.NURSE, Role.THERAPIST}),
    Capability.ALERT_RESOLVE: frozenset({Role.PRESCRIBER}),
    Capability.NOTIFICATION_VIEW: frozenset({_ADMIN}),
    # Consultation requests from the public site are leads for the front desk to work.
    Capability.CONSULTATION_MANAGE: frozenset({_ADMIN, Role.FRONT_DESK}),
    # Intake is clinical history: the care team's prescribers and nurses enter and correct it.
    Capability.INTAKE_EDIT: frozenset({Role.PRESCRIBER, Role.NURSE}),
    Capability.ELIGIBILITY_SIGN: frozenset({Role.PRESCRIBER}),
    Capability.SCREENING_EDIT_RULES: frozenset({_ADMIN}),
    Capability.PLAN_PRESCRIBE: frozenset({Role.PRESCRIBER}),
    Capability.PROTOCOL_MANAGE_TEMPLATES: frozenset({_ADMIN}),
    # The clinic's calendar. Clinicians see names only of their care team's patients; billing
    # works from charges, not the calendar.
    Capability.SCHEDULE_VIEW: frozenset(
        {_ADMIN, Role.FRONT_DESK, Role.PRESCRIBER, Role.NURSE, Role.THERAPIST}
    ),
    Capability.SCHEDULE_BOOK: frozenset({_ADMIN, Role.FRONT_DESK}),
    Capability.SCHEDULE_MANAGE_RESOURCES: frozenset({_ADMIN}),
    # Controlled substances (ADR 0007). The registrant's acts (stock in and out, resolving
    # discrepancies, theft or loss, the inspector's exports) are the clinic administrator's and
    # the prescribers'; administering and wasting (and witnessing a waste) are the licensed
    # clinicians'; anyone who handles stock counts it.
    Capability.LEDGER_VIEW: frozenset({_ADMIN, Role.PRESCRIBER, Role.NURSE}),
    Capability.LEDGER_RECORD: frozenset({Role.PRESCRIBER, Role.NURSE}),
    Capability.LEDGER_RECEIVE: frozenset({_ADMIN, Role.PRESCRIBER}),
    Capability.LEDGER_COUNT: frozenset({_ADMIN, Role.PRESCRIBER, Role.NURSE}),
    Capability.LEDGER_RECONCILE: frozenset({_ADMIN, Role.PRESCRIBER}),
    Capability.LEDGER_REPORT_LOSS: frozenset({_ADMIN, Role.PRESCRIBER}),
    Capability.LEDGER_EXPORT: frozenset({_ADMIN, Role.PRESCRIBER}),
    # The DEA's dispensing record names each patient and their address [J6]: that export reaches
    # every patient's demographics, so it is the clinic administrator's (who has the directory).
    Capability.LEDGER_EXPORT_NAMED: frozenset({_ADMIN}),
    # The chair side. Nurses and prescribers on the care team run a session (check-in to
    # discharge, doses through the ledger); only a prescriber overrides a rule (pre-checks, a
    # high pre-dose BP, discharge criteria) or signs the record. Therapists write the
    # integration note. Everyone who runs the floor sees the chair board and the REMS forms due.
    Capability.SESSION_RUN: frozenset({Role.PRESCRIBER, Role.NURSE}),
    Capability.SESSION_OVERRIDE: frozenset({Role.PRESCRIBER}),
    Capability.SESSION_SIGN: frozenset({Role.PRESCRIBER}),
    Capability.SESSION_INTEGRATION_NOTE: frozenset({Role.PRESCRIBER, Role.THERAPIST}),
    Capability.SESSION_BOARD: frozenset({_ADMIN, Role.PRESCRIBER, Role.NURSE}),
    Capability.SESSION_REMS: frozenset({_ADMIN, Role.PRESCRIBER, Role.NURSE}),
    # The patient portal. Inviting a patient (an expiring activation e-mail) is front-desk work
    # that clinicians may do too; what a patient shares from their journal is for the
    # therapists and prescribers of their care team; at-home session logs and their blood
    # pressure alerts are reviewed by the care team's prescribers and nurses.
    Capability.PORTAL_INVITE: frozenset({_ADMIN, Role.FRONT_DESK, Role.PRESCRIBER, Role.NURSE}),
    Capability.JOURNAL_VIEW_SHARED: frozenset({Role.PRESCRIBER, Role.THERAPIST}),
    Capability.HOME_PROGRAM_REVIEW: frozenset({Role.PRESCRIBER, Role.NURSE}),
    # Staff accounts: invite, roles, deactivation, resetting a second factor.
    Capability.STAFF_MANAGE: frozenset({_ADMIN}),
    # Locations (a clinic network): the clinic administrator opens and edits locations, says
    # who works where, and sees every location's lists (the network view). Everyone else
    # works at the locations they belong to.
    Capability.LOCATION_MANAGE: frozenset({_ADMIN}),
    Capability.LOCATION_NETWORK: frozenset({_ADMIN}),
    # Break the glass: a clinician outside a patient's care team opens the chart in an
    # emergency, stating why, for a limited time (clinic admins see every chart already).
    Capability.PATIENT_EMERGENCY_ACCESS: frozenset({Role.PRESCRIBER, Role.NURSE, Role.THERAPIST}),
    Capability.EMERGENCY_ACCESS_REVIEW: frozenset({_ADMIN}),
    # Every staff member sees and revokes their own API tokens; the clinic administrator sees
    # everyone's and revokes any (a lost laptop, a departed integration). No one creates a
    # token for someone else: a token acts as its owner.
    Capability.API_TOKEN_REVOKE_ANY: frozenset({_ADMIN}),
    # The problem list (ICD-10-CM). Billing codes claims from it, so it reads every patient's
    # diagnoses (as it reaches every patient's demographics), but never the clinical record;
    # clinicians read their care team's. Prescribers diagnose: they add, resolve and correct.
    Capability.DIAGNOSIS_VIEW: frozenset(
        {_ADMIN, Role.PRESCRIBER, Role.NURSE, Role.THERAPIST, Role.BILLING}
    ),
    Capability.DIAGNOSIS_RECORD: frozenset({Role.PRESCRIBER}),
    # Insurance. The front desk takes the card at check-in and billing works the claims: both
    # keep each patient's coverages and record eligibility checks; the clinic administrator
    # reads them. The payers and plans the clinic bills are billing's list (and the admin's).
    # Everyone who opens a chart sees its coverage line in the header.
    Capability.COVERAGE_VIEW: frozenset({_ADMIN, Role.FRONT_DESK, Role.BILLING}),
    Capability.COVERAGE_MANAGE: frozenset({Role.FRONT_DESK, Role.BILLING}),
    Capability.PAYER_MANAGE: frozenset({_ADMIN, Role.BILLING}),
    # Charges. A signed session codes itself; billing works the charges (re-codes, corrects
    # lines) and reads the facts that were coded, never the clinical record behind them; the
    # clinic administrator reads them. The clinicians who see the patient add their own visit
    # codes (E/M, psychotherapy with its minutes) to their care team's sessions. Prices are
    # billing's and the administrator's.
    Capability.CHARGE_VIEW: frozenset({_ADMIN, Role.BILLING}),
    Capability.CHARGE_MANAGE: frozenset({Role.BILLING}),
    Capability.VISIT_CODE_ADD: frozenset({Role.PRESCRIBER, Role.THERAPIST}),
    Capability.FEE_SCHEDULE_MANAGE: frozenset({_ADMIN, Role.BILLING}),
    # Prior authorization. Billing prepares and tracks the requests, and the care team's
    # prescribers, whose request it is, may too; the front desk, booking the sessions, and the
    # administrator see each request's status and what is left of an approval.
    Capability.PRIOR_AUTH_VIEW: frozenset({_ADMIN, Role.PRESCRIBER, Role.FRONT_DESK, Role.BILLING}),
    Capability.PRIOR_AUTH_MANAGE: frozenset({Role.PRESCRIBER, Role.BILLING}),
    # A patient's account: what each session was charged, what was paid, what is owed. The
    # front desk takes payments at check-out and answers "what do I owe?"; billing posts the
    # insurers' payments and adjustments; the administrator reads.
    Capability.ACCOUNT_VIEW: frozenset({_ADMIN, Role.FRONT_DESK, Role.BILLING}),
    Capability.PAYMENT_RECORD: frozenset({Role.FRONT_DESK, Role.BILLING}),
    Capability.RECORDS_REQUEST_MANAGE: frozenset({_ADMIN, Role.FRONT_DESK}),
    Capability.RECORDS_IMPORT: frozenset({_ADMIN}),
}


def role_can(role: str, capability: Capability | str) -> bool:
    return role in MATRIX.get(Capability(capability), frozenset())
