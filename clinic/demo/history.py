"""A network's history in bulk: `seed_demo --patients N --years Y --locations L --seed S`.

Everything is drawn from one `random.Random` per purpose, seeded from `--seed` (and the
patient's position), and every date is relative to `today`: the same arguments give the same
content (uuids included) on any database. Rows are written with `clinic.core.bulk`: plain
tables in large batches, the hash-chained ledger in chain order under the chain lock.

What is computed, never invented:
- doses: `clinic.protocols.dosing` (IV mg/kg × weight; esketamine devices of 28 mg);
- questionnaire totals, severities, flags: each instrument's own scorer
  (`clinic.assessments.instruments`); suicidality alerts where
  `clinic.assessments.suicidality.suicidality_triggers` says the answers raise one;
- eligibility: the screening rule set in force evaluates each intake
  (`clinic.screening.rules`), and a decision opens only routes it allows;
- appointment lengths: the scheduling policy; session policy values: the session policy.

Trajectories (responder, partial responder, non-responder, relapse) are illustrations for a
demo and load tests, not data from any trial. Seeded rows get no per-row audit history: the
command writes one summary audit event per kind of record it seeded (the audit chain stays
valid), and the summary says so.

The ledger's stock is `clinic/demo/stock.py`; what the parts share is
`clinic/demo/history_common.py`.

Long because: one pass builds every record of a patient's course in dependency order (ids
are given before rows are written, so rows can point at each other within a batch); it is
demo and benchmark tooling, not clinic code. Splitting the builder itself by stage of care
(screening, scheduling, sessions, questionnaires) is follow-up work.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import random
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.core.serializers.json import DjangoJSONEncoder

from clinic.accounts.choices import Role
from clinic.accounts.models import User
from clinic.assessments.instruments import get_instrument
from clinic.assessments.models import AlertFollowUp, AssessmentResponse, SuicidalityAlert
from clinic.assessments.policy import schedule_policy, scoring_policy
from clinic.assessments.suicidality import suicidality_triggers
from clinic.core.audit import audit_record
from clinic.core.bulk import bulk_insert
from clinic.core.choices import AuditAction
from clinic.demo.history_common import (
    BATCH,
    UTC,
    HistoryOptions,
    Ids,
    Progress,
    Site,
    local_moment,
    seeded_npi,
    seeded_uuid,
    weighted,
)
from clinic.demo.stock import Stock
from clinic.journal.models import JournalEntry
from clinic.locations.models import Location, LocationStaff
from clinic.locations.services import LocationDetails, location_open, location_update
from clinic.patients.choices import CareTeamRole, Sex
from clinic.patients.measurements import mrn_for
from clinic.patients.models import BodyMeasurement, CareTeamMember, Patient
from clinic.protocols.dosing import esketamine_dose, iv_dose
from clinic.protocols.models import PlannedSession, ProtocolTemplate, TreatmentPlan
from clinic.protocols.services import builtin_templates_ensure
from clinic.scheduling.models import Appointment, Chair, OpeningHours, Room, StaffShift
from clinic.scheduling.policy import scheduling_policy
from clinic.screening.models import (
    AntidepressantTrial,
    ConsultationRequest,
    EligibilityDecision,
    Intake,
    IntakeMedication,
    RemsEnrollment,
)
from clinic.screening.rules import INCOMPLETE, INELIGIBLE, IntakeFacts, TrialFacts
from clinic.screening.selectors import current_rule_set_version, rule_set_for
from clinic.treatment_sessions.models import (
    DoseAdministration,
    InfusionEvent,
    SideEffect,
    TreatmentSession,
    VitalsEntry,
)
from clinic.treatment_sessions.policy import policy_as_json, session_policy
from clinic.treatment_sessions.services.signature import content_sha256
from clinic.treatment_sessions.state import RecordRows, signed_record

# Sessions that ended within this many days of the seed's day wait for the prescriber's
# signature; older ones are signed (HistoryBuilder._sign).
UNSIGNED_DAYS = 2
# The rows a session's signed record names that the history writes.
_RECORD_MODELS = (DoseAdministration, InfusionEvent, VitalsEntry, SideEffect)

# --------------------------------------------------------------------------- network data

# (name, city, state, ZIP, time zone, area code): plausible addresses, invented street numbers.
SITES = (
    ("Midtown", "New York", "NY", "10018", "America/New_York", "212"),
    ("Back Bay", "Boston", "MA", "02116", "America/New_York", "617"),
    ("Rittenhouse", "Philadelphia", "PA", "19103", "America/New_York", "215"),
    ("River North", "Chicago", "IL", "60654", "America/Chicago", "312"),
    ("Cherry Creek", "Denver", "CO", "80206", "America/Denver", "303"),
    ("Arcadia", "Phoenix", "AZ", "85018", "America/Phoenix", "602"),
    ("Santa Monica", "Santa Monica", "CA", "90401", "America/Los_Angeles", "310"),
    ("Capitol Hill", "Seattle", "WA", "98102", "America/Los_Angeles", "206"),
    ("South Congress", "Austin", "TX", "78704", "America/Chicago", "512"),
    ("Midtown Atlanta", "Atlanta", "GA", "30308", "America/New_York", "404"),
    ("Brickell", "Miami", "FL", "33131", "America/New_York", "305"),
    ("Uptown", "Minneapolis", "MN", "55408", "America/Chicago", "612"),
)
STREETS = ("Broadway", "Main St", "Market St", "Park Ave", "Grand Ave", "Oak St", "Lake St")
GIVEN = (
    "Ava", "Noah", "Maya", "Liam", "Zoe", "Ethan", "Leah", "Omar", "Iris", "Felix", "Nina",
    "Caleb", "Rosa", "Victor", "Hana", "Isaac", "Lena", "Mateo", "Tara", "Simon",
)  # fmt: skip
FAMILY = (
    "Alvarez", "Bennett", "Chowdhury", "Dubois", "Eriksen", "Fontaine", "Gallagher", "Hughes",
    "Ishikawa", "Jovanovic", "Keller", "Lindgren", "Moreau", "Nakamura", "Osei", "Petrov",
    "Quinlan", "Rahman", "Sato", "Varga",
)  # fmt: skip
OPENS, CLOSES = datetime.time(8, 0), datetime.time(18, 0)
OPEN_WEEKDAYS = (0, 1, 2, 3, 4, 5)  # Monday to Saturday (a demo setting)
SHIFTS_AHEAD_DAYS = 42
PASSWORD_NOTE = "demo accounts share the published demo password"

ANTIDEPRESSANTS = ("sertraline", "escitalopram", "venlafaxine", "bupropion", "duloxetine")
REFLECTIONS = (
    "Felt lighter afterwards; the music helped me settle.",
    "A strange but calm session. Slept well that night.",
    "Hard to put into words. Talked it through with my therapist.",
    "Noticed I could think about work without the usual dread.",
    "Mostly dizzy this time; less insight than last week.",
    "Remembered things about my father I had not thought of in years.",
)
INSIGHTS = ("", "Be kinder to myself.", "Walk every morning.", "Call my sister more often.")
TRAJECTORIES = (("responder", 45), ("partial", 25), ("non_responder", 20), ("relapse", 10))


# --------------------------------------------------------------------------- the builder


class HistoryBuilder:
    def __init__(self, options: HistoryOptions, staff: dict[str, User], write):
        self.o = options
        self.named = staff
        self.progress = Progress(write)
        self.ids = Ids()
        self.today = options.today
        # History ends yesterday; from today on, appointments are booked, not yet seen.
        self.cutoff = datetime.datetime.combine(self.today, datetime.time.min, tzinfo=UTC)
        self.first_day = self.today - datetime.timedelta(days=365 * options.years)
        self.rows: dict[type, list] = defaultdict(list)
        self.counts: dict[str, int] = defaultdict(int)
        self.sites: list[Site] = []
        self.admin = staff["admin"]

    # ---------------------------------------------------------------- entry point

    def build(self) -> dict[str, int]:
        builtin_templates_ensure()
        self.templates = {
            "iv": ProtocolTemplate.objects.get(code="iv-induction-2x-weekly", version=1),
            "esketamine": ProtocolTemplate.objects.get(code="esketamine-trd", version=1),
        }
        self.rule_version = current_rule_set_version()
        self.rule_set = rule_set_for(self.rule_version)
        self.session_policy_json = policy_as_json(session_policy())
        self.scheduling = scheduling_policy()
        self.scoring = scoring_policy()
        # Every baseline C-SSRS screen here is answered "no" throughout: its scored risk.
        self.cssrs_baseline_risk = (
            get_instrument("cssrs-screen").score(_CSSRS_NO, self.scoring).severity
        )
        self._network()
        self.progress("locations, rooms, chairs, hours and staff", len(self.sites))
        self._patients()
        self._flush(
            [Patient, CareTeamMember, BodyMeasurement, ConsultationRequest, Intake]
            + [IntakeMedication, AntidepressantTrial, EligibilityDecision, RemsEnrollment]
            + [TreatmentPlan, PlannedSession]
        )
        self.progress("patients, care teams, intakes, decisions and plans", self.o.patients)
        self._appointments()
        self._flush([Appointment])
        self.progress("appointments", self.counts["appointments"])
        self._sessions_and_ledger()
        self.progress("ledger (chained)", self.counts["ledger_entries"])
        self._flush([TreatmentSession, InfusionEvent, DoseAdministration, SideEffect])
        self._flush([VitalsEntry])
        self.progress("sessions, doses, vitals and side effects", self.counts["vitalsentry"])
        self._assessments()
        self._flush([AssessmentResponse, SuicidalityAlert, AlertFollowUp, JournalEntry])
        self.progress("questionnaires, alerts and journal entries", self.counts["responses"])
        self._summary_audit()
        return dict(self.counts)

    def _flush(self, models) -> None:
        for model in models:
            rows = self.rows.pop(model, [])
            bulk_insert(model, rows, batch_size=BATCH)
            self.counts[model._meta.model_name] += len(rows)

    def _add(self, row):
        self.rows[type(row)].append(row)
        return row

    # ---------------------------------------------------------------- network

    def _network(self) -> None:
        rng = random.Random(f"{self.o.seed}:network")
        opened = self.first_day - datetime.timedelta(days=60)
        default = Location.objects.get(is_default=True)
        used_dea: set[str] = set(
            Location.objects.exclude(dea_registration_number="").values_list(
                "dea_registration_number", flat=True
            )
        )
        for index in range(self.o.locations):
            name, city, state, postal, tz, area = SITES[index % len(SITES)]
            if index >= len(SITES):
                name = f"{name} {index // len(SITES) + 1}"
            dea = ""
            while not dea or dea in used_dea:
                dea = f"FK{rng.randrange(10**7):07d}"
            used_dea.add(dea)
            details = LocationDetails(
                name=f"KetaCare {name}",
                code=f"L{index + 1:02d}" if index else (default.code or "MAIN"),
                time_zone=tz,
                address_line1=f"{rng.randint(10, 990)} {rng.choice(STREETS)}",
                address_line2=f"Suite {rng.randint(1, 9)}{rng.randint(0, 2)}0",
                city=city,
                state=state,
                postal_code=postal,
                phone=f"({area}) 555-01{rng.randint(0, 99):02d}",
                place_of_service_code="11",
                service_facility_npi=seeded_npi(rng),
                dea_registration_number=dea,
                spravato_rems_setting_id=f"DEMO-REMS-{rng.randrange(10**6):06d}",
                opened_on=opened + datetime.timedelta(days=index * 7),
            )
            if index == 0:
                location = location_update(actor=self.admin, location=default, details=details)
            else:
                location = location_open(actor=self.admin, details=details)
            self.sites.append(Site(location=location, zone=zoneinfo.ZoneInfo(tz)))
        self._chair_counts()
        self._staff(rng)
        self._rooms(rng)

    def _staff(self, rng: random.Random) -> None:
        per_site = max(1, math.ceil(self.o.patients / max(1, self.o.locations)))
        password = make_password(_demo_password())
        new_users: list[User] = []
        memberships: list[LocationStaff] = []
        names = set(User.objects.values_list("username", flat=True))
        wanted = {
            Role.PRESCRIBER: max(1, math.ceil(per_site / 400)),
            Role.NURSE: self.n_nurses,
            Role.THERAPIST: max(1, math.ceil(per_site / 500)),
            Role.FRONT_DESK: max(1, math.ceil(per_site / 800)),
        }
        for index, site in enumerate(self.sites):
            lists = {
                Role.PRESCRIBER: site.prescribers,
                Role.NURSE: site.nurses,
                Role.THERAPIST: site.therapists,
                Role.FRONT_DESK: site.front_desk,
            }
            if index == 0:  # the named demo staff work at the default location
                site.prescribers.append(self.named["prescriber"])
                # prescriber2 and nurse2 stay on no care team, as the login table says.
                site.nurses.append(self.named["nurse"])
                site.therapists.append(self.named["therapist"])
                site.front_desk.append(self.named["frontdesk"])
            for role, count in wanted.items():
                for number in range(len(lists[role]), count):
                    username = (
                        f"{site.location.code.lower()}-{role.value.replace('_', '')}{number + 1}"
                    )
                    if username in names:
                        lists[role].append(User.objects.get(username=username))
                        continue
                    user = User(
                        pk=self.ids.take(User),
                        uuid=seeded_uuid(rng),
                        username=username,
                        role=role,
                        password=password,
                        first_name=rng.choice(GIVEN),
                        last_name=rng.choice(FAMILY),
                        email=f"{username}@clinic.example.org",
                        credentials={Role.PRESCRIBER: "MD", Role.NURSE: "RN"}.get(role, ""),
                    )
                    new_users.append(user)
                    lists[role].append(user)
            for people in lists.values():
                for user in people:
                    memberships.append(LocationStaff(location=site.location, user=user))
        memberships.append(LocationStaff(location=self.sites[0].location, user=self.admin))
        bulk_insert(User, new_users)
        have = set(LocationStaff.objects.values_list("location_id", "user_id"))
        fresh = []
        for m in memberships:
            key = (m.location.pk, m.user.pk)
            if key not in have:
                have.add(key)
                fresh.append(m)
        LocationStaff.objects.bulk_create(fresh, batch_size=BATCH)
        self.counts["staff_accounts"] = len(new_users)
        if new_users:
            audit_record(
                actor=self.admin,
                action=AuditAction.CREATE,
                object_type="user",
                summary=(
                    f"Demo data: {len(new_users)} staff accounts created in bulk across "
                    f"{len(self.sites)} locations ({PASSWORD_NOTE})"
                ),
                changes={"accounts": len(new_users), "locations": len(self.sites)},
            )

    def _chair_counts(self) -> None:
        """Enough chairs for the network's load: each location's share of the sessions over
        its open days, at the slots a chair holds a day, with room to spare."""
        sessions_per_patient = 10
        open_days = 365 * self.o.years * len(OPEN_WEEKDAYS) / 7
        per_site = self.o.patients / max(1, self.o.locations) * sessions_per_patient * 1.3
        self.n_iv = max(2, math.ceil(per_site * 0.7 / open_days / len(IV_SLOTS) * 1.8))
        self.n_esk = max(1, math.ceil(per_site * 0.3 / open_days / len(ESK_SLOTS) * 1.8))
        # A nurse holds at most the policy's number of chairs at once.
        self.n_nurses = max(
            2, math.ceil((self.n_iv + self.n_esk) / self.scheduling.nurse_max_concurrent_chairs)
        )

    def _rooms(self, rng: random.Random) -> None:
        iv_caps = list(self.scheduling.capabilities_for("iv"))
        esk_caps = list(self.scheduling.capabilities_for("esketamine"))
        rooms, chairs, hours, shifts = [], [], [], []
        for site in self.sites:
            suite = Room(pk=self.ids.take(Room), uuid=seeded_uuid(rng), location=site.location)
            suite.name = "Infusion suite"
            esk_room = Room(pk=self.ids.take(Room), uuid=seeded_uuid(rng), location=site.location)
            esk_room.name = "Esketamine room"
            rooms += [suite, esk_room]
            n_iv, n_esk = self.n_iv, self.n_esk
            for number in range(n_iv):
                chair = Chair(pk=self.ids.take(Chair), uuid=seeded_uuid(rng), room=suite)
                chair.name, chair.capabilities = f"Chair {number + 1}", iv_caps
                site.iv_chairs.append(chair)
            for number in range(n_esk):
                chair = Chair(pk=self.ids.take(Chair), uuid=seeded_uuid(rng), room=esk_room)
                chair.name, chair.capabilities = (
                    f"Recliner {chr(65 + number % 26)}{number // 26 or ''}",
                    esk_caps,
                )
                site.esk_chairs.append(chair)
            chairs += site.iv_chairs + site.esk_chairs
            hours += [
                OpeningHours(location=site.location, weekday=day, opens=OPENS, closes=CLOSES)
                for day in OPEN_WEEKDAYS
            ]
            day = self.first_day
            last = self.today + datetime.timedelta(days=SHIFTS_AHEAD_DAYS)
            nurses = list(dict.fromkeys(site.nurses))
            while day <= last:
                if day.weekday() in OPEN_WEEKDAYS:
                    for nurse in nurses:
                        shift = StaffShift(
                            pk=self.ids.take(StaffShift),
                            uuid=seeded_uuid(rng),
                            location=site.location,
                            staff=nurse,
                            date=day,
                            start=OPENS,
                            end=CLOSES,
                            created_by=self.admin,
                        )
                        shifts.append(shift)
                day += datetime.timedelta(days=1)
        bulk_insert(Room, rooms)
        bulk_insert(Chair, chairs)
        OpeningHours.objects.filter(location__in=[s.location for s in self.sites]).delete()
        OpeningHours.objects.bulk_create(hours)
        bulk_insert(StaffShift, shifts, batch_size=BATCH)
        self.counts["chairs"] = len(chairs)
        self.counts["staff_shifts"] = len(shifts)

    # ---------------------------------------------------------------- patients

    def _patients(self) -> None:
        from clinic.demo.management.commands.seed_demo import demo_patient

        self.courses: list[Course] = []
        for index in range(self.o.patients):
            rng = random.Random(f"{self.o.seed}:patient:{index}")
            spec = demo_patient(index, self.today)
            self.courses.append(self._patient(index, rng, spec.data))

    def _patient(self, index: int, rng: random.Random, data: dict) -> Course:
        site_index = rng.randrange(len(self.sites))
        site = self.sites[site_index]
        span = (self.today - self.first_day).days
        start = self.today + datetime.timedelta(days=rng.randint(-span + 35, 21))
        registered = local_moment(start - datetime.timedelta(days=35), datetime.time(10), site.zone)
        pk = self.ids.take(Patient)
        desk = rng.choice(site.front_desk)
        patient = self._add(
            Patient(
                pk=pk,
                uuid=seeded_uuid(rng),
                mrn=mrn_for(pk),
                created_by=desk,
                created_at=registered,
                **data,
            )
        )
        prescriber = rng.choice(site.prescribers)
        nurse = rng.choice(list(dict.fromkeys(site.nurses)))
        therapist = rng.choice(site.therapists)
        for staff, role in (
            (prescriber, CareTeamRole.PRIMARY_PRESCRIBER),
            (nurse, CareTeamRole.NURSE),
            (therapist, CareTeamRole.THERAPIST),
        ):
            self._add(
                CareTeamMember(
                    pk=self.ids.take(CareTeamMember),
                    patient=patient,
                    staff=staff,
                    team_role=role,
                    added_at=registered,
                    added_by=desk,
                )
            )
        sex = data["sex"]
        mean_height = {Sex.FEMALE: 163.0, Sex.MALE: 177.0}.get(sex, 170.0)
        height = Decimal(f"{min(max(rng.gauss(mean_height, 7.0), 148.0), 201.0):.1f}")
        bmi = min(max(rng.gauss(28.0, 5.0), 18.5), 40.0)
        weight = Decimal(f"{bmi * (float(height) / 100) ** 2:.1f}")
        measured = start - datetime.timedelta(days=21)
        self._add(
            BodyMeasurement(
                pk=self.ids.take(BodyMeasurement),
                uuid=seeded_uuid(rng),
                created_at=local_moment(measured, datetime.time(11), site.zone),
                patient=patient,
                measured_on=measured,
                weight_kg=weight,
                height_cm=height,
                recorded_by=nurse,
            )
        )
        self._add(
            ConsultationRequest(
                pk=self.ids.take(ConsultationRequest),
                uuid=seeded_uuid(rng),
                created_at=registered - datetime.timedelta(days=3),
                given_name=data["legal_given_name"],
                family_name=data["legal_family_name"],
                email=data["email"],
                phone=data["phone_mobile"] or "(555) 010-0000",
                preferred_contact="email" if data["email"] else "phone",
                date_of_birth=data["date_of_birth"],
                seeking_help_with="treatment_resistant_depression",
                heard_about=rng.choice(["A friend", "My psychiatrist", "Search engine", ""]),
                consent_to_contact=True,
                status="booked",
                status_changed_at=registered,
                status_changed_by=desk,
                patient=patient,
            )
        )
        course = Course(
            index=index,
            patient=patient,
            site_index=site_index,
            prescriber=prescriber,
            nurse=nurse,
            therapist=therapist,
            weight=weight,
            start=start,
            trajectory=weighted(rng, TRAJECTORIES),
            rng=rng,
        )
        self._screening(course, data, height)
        return course

    def _screening(self, course: Course, data: dict, height: Decimal) -> None:
        rng, site = course.rng, self.sites[course.site_index]
        patient = course.patient
        submitted = local_moment(
            course.start - datetime.timedelta(days=21), datetime.time(11, 30), site.zone
        )
        sex = data["sex"]
        female = sex != Sex.MALE
        systolic, diastolic = rng.randint(108, 136), rng.randint(66, 84)
        heart_rate = rng.randint(58, 90)
        drugs = rng.sample(ANTIDEPRESSANTS, 3)
        intake = self._add(
            Intake(
                pk=self.ids.take(Intake),
                uuid=seeded_uuid(rng),
                created_at=submitted - datetime.timedelta(minutes=40),
                patient=patient,
                status="submitted",
                revision=1,
                indication="treatment_resistant_depression",
                condition_answers={code: False for code in _conditions()},
                allergies=rng.choice(["None known", "None known", "Penicillin (rash)"]),
                pregnant=False if female else None,
                breastfeeding=False if female else None,
                systolic_mmhg=systolic,
                diastolic_mmhg=diastolic,
                heart_rate_bpm=heart_rate,
                weight_kg=course.weight,
                height_cm=height,
                takes_medications=True,
                tried_antidepressants=True,
                submitted_at=submitted,
                submitted_by=course.nurse,
            )
        )
        self._add(
            IntakeMedication(
                pk=self.ids.take(IntakeMedication),
                intake=intake,
                name=drugs[2].capitalize(),
                medication_class="other",
            )
        )
        trials = [
            (drugs[0], "no_response"),
            (drugs[1], "partial_response"),
        ]
        for drug, outcome in trials:
            self._add(
                AntidepressantTrial(
                    pk=self.ids.take(AntidepressantTrial),
                    intake=intake,
                    drug=drug,
                    adequate=True,
                    outcome=outcome,
                    current_episode=True,
                )
            )
        signed_at = submitted + datetime.timedelta(days=7, hours=2)
        age = _age(data["date_of_birth"], signed_at.date())
        facts = IntakeFacts(
            age_years=age,
            sex=sex,
            pregnant=intake.pregnant,
            breastfeeding=intake.breastfeeding,
            weight_kg=course.weight,
            height_cm=height,
            systolic_mmhg=systolic,
            diastolic_mmhg=diastolic,
            heart_rate_bpm=heart_rate,
            indication=intake.indication,
            conditions=(),
            medication_classes=("other",),
            antidepressant_trials=tuple(TrialFacts(d, True, o, True) for d, o in trials),
            cssrs_risk=self.cssrs_baseline_risk,
        )
        evaluation = self.rule_set.evaluate(facts)
        wanted = ["iv", "esketamine"] if rng.random() < 0.3 else ["iv"]
        routes = [r for r in wanted if evaluation.routes.get(r) not in (INELIGIBLE, INCOMPLETE)]
        justifications = {
            f.code: "Reviewed with the patient; monitored at every session."
            for f in evaluation.findings
            if f.level == "relative" and set(f.routes) & set(routes)
        }
        declined = rng.random() < 0.05
        outcome = "eligible" if routes and not declined else "deferred"
        awaiting = "" if outcome == "eligible" else "The patient wants time to decide"
        if outcome != "eligible":
            routes, justifications = [], {}
        content = {
            "patient": str(patient.uuid),
            "intake": str(intake.uuid),
            "intake_revision": 1,
            "rule_set_version": self.rule_version.version,
            "evaluation": evaluation.as_dict(),
            "outcome": outcome,
            "approved_routes": routes,
            "justifications": justifications,
            "awaiting": awaiting,
            "signed_by": str(course.prescriber.uuid),
            "signed_at": signed_at.isoformat(),
        }
        decision = self._add(
            EligibilityDecision(
                pk=self.ids.take(EligibilityDecision),
                uuid=seeded_uuid(rng),
                created_at=signed_at,
                patient=patient,
                intake=intake,
                intake_revision=1,
                rule_set=self.rule_version,
                evaluation=evaluation.as_dict(),
                outcome=outcome,
                approved_routes=routes,
                justifications=justifications,
                awaiting=awaiting,
                signed_by=course.prescriber,
                signed_at=signed_at,
                content_sha256=_sha256(content),
            )
        )
        course.baseline_at = submitted - datetime.timedelta(minutes=30)
        if outcome != "eligible":
            return
        route = "esketamine" if "esketamine" in routes else "iv"
        if route == "esketamine":
            self._add(
                RemsEnrollment(
                    pk=self.ids.take(RemsEnrollment),
                    uuid=seeded_uuid(rng),
                    patient=patient,
                    enrolled_on=signed_at.date(),
                    # A demo value where the REMS would issue the patient's ID.
                    rems_patient_id=f"DEMO-{course.index + 1:07d}",
                    signed_by_patient=True,
                    signed_by_prescriber=course.prescriber,
                    recorded_by=course.prescriber,
                )
            )
        self._plan(course, decision, route)

    def _plan(self, course: Course, decision, route: str) -> None:
        rng = course.rng
        course.route = route
        start = course.start
        days: list[tuple[int, str]] = []
        if route == "iv":
            days = [(d, "induction") for d in (0, 3, 7, 10, 14, 17)]  # twice weekly [A10]
            interval = rng.choice((3, 4, 4, 6))
            extra_from = 17
        else:
            days = [(d, "induction") for d in (0, 3, 7, 10, 14, 17, 21, 24)]  # weeks 1–4 [C2]
            interval = 2
            extra_from = 24
        maintenance = 0
        if course.trajectory != "non_responder":
            if route == "esketamine":
                days += [(d, "optimization") for d in (28, 35, 42, 49)]  # weeks 5–8 [C2]
                extra_from = 49
            maintenance = rng.randint(1, 10)
            days += [
                (extra_from + interval * 7 * k, "maintenance") for k in range(1, maintenance + 1)
            ]
        planned_days = [(start + datetime.timedelta(days=d), phase) for d, phase in days]
        esk_mg = rng.choice((56, 84, 84))
        last_day = planned_days[-1][0]
        finished = last_day < self.today
        activated = local_moment(
            start - datetime.timedelta(days=5), datetime.time(9), self.sites[course.site_index].zone
        )
        plan = self._add(
            TreatmentPlan(
                pk=self.ids.take(TreatmentPlan),
                uuid=seeded_uuid(rng),
                created_at=activated,
                patient=course.patient,
                template=self.templates[route],
                route=route,
                eligibility_decision=decision,
                status="completed" if finished else "active",
                start_date=start,
                dose_mg_per_kg=Decimal("0.50") if route == "iv" else None,
                esketamine_dose_mg=esk_mg if route == "esketamine" else None,
                infusion_minutes=None,
                session_count=len(planned_days),
                maintenance_interval_weeks=interval if maintenance else None,
                prescribed_by=course.prescriber,
                activated_at=activated,
                ended_at=(
                    local_moment(last_day, datetime.time(17), self.sites[course.site_index].zone)
                    if finished
                    else None
                ),
                end_reason=(
                    "Induction series finished without response"
                    if finished and course.trajectory == "non_responder"
                    else ""
                ),
            )
        )
        course.plan = plan
        for number, (day, phase) in enumerate(planned_days, start=1):
            if route == "iv":
                dose = iv_dose(course.weight, Decimal("0.5"), infusion_minutes=40)
                session = PlannedSession(
                    dose_mg=dose.dose_mg,
                    dose_mg_per_kg=dose.dose_mg_per_kg,
                    weight_used_kg=dose.weight_used_kg,
                    infusion_minutes=dose.infusion_minutes,
                )
            else:
                # Day 1 is 56 mg, later sessions the plan's dose (label [C2]).
                mg = 56 if number == 1 else esk_mg
                session = PlannedSession(dose_mg=Decimal(esketamine_dose(mg).dose_mg))
            session.pk = self.ids.take(PlannedSession)
            session.uuid = seeded_uuid(rng)
            session.created_at = activated
            session.plan = plan
            session.number = number
            session.planned_date = day
            session.phase = phase
            course.planned.append(self._add(session))

    # ---------------------------------------------------------------- appointments

    def _appointments(self) -> None:
        taken: set[tuple[int, datetime.date, int]] = set()  # (chair, day, slot)
        self.visits: list[Visit] = []
        for course in self.courses:
            rng = course.rng
            busy_days: set[datetime.date] = set()
            for planned in course.planned:
                day = planned.planned_date
                horizon = self.today + datetime.timedelta(days=28)
                if day > horizon:
                    break
                outcome = "completed"
                for attempt in range(3):
                    outcome = self._visit_outcome(rng, day)
                    visit = self._book(course, planned, day, taken, busy_days, outcome)
                    if visit is None or outcome == "completed" or outcome == "booked":
                        break
                    day = visit.appointment.starts_at.date() + datetime.timedelta(days=2)
                    if attempt == 2:
                        break
        self.counts["appointments"] = len(self.rows[Appointment])

    def _visit_outcome(self, rng: random.Random, day: datetime.date) -> str:
        if day >= self.today:
            return "booked"
        roll = rng.random()
        if roll < 0.06:
            return "cancelled"
        if roll < 0.09:
            return "no_show"
        return "completed"

    def _book(self, course, planned, day, taken, busy_days, outcome):
        rng = course.rng
        site_index = course.site_index
        if rng.random() < 0.1:  # seen now and then at another location of the network
            site_index = rng.randrange(len(self.sites))
        site = self.sites[site_index]
        chairs = site.iv_chairs if course.route == "iv" else site.esk_chairs
        slots = IV_SLOTS if course.route == "iv" else ESK_SLOTS
        # The care team's nurse's chairs first at the home location.
        order = sorted(
            range(len(chairs)),
            key=lambda k: (self._chair_nurse(site, k, chairs) != course.nurse, k),
        )
        length = self.scheduling.appointment_min(
            course.route,
            infusion_min=planned.infusion_minutes,
            esketamine_dose_mg=int(planned.dose_mg) if course.route == "esketamine" else None,
        )
        for shift in range(0, 10):
            when = day + datetime.timedelta(days=shift)
            if when.weekday() not in OPEN_WEEKDAYS or when in busy_days:
                continue
            if outcome != "booked" and when >= self.today:
                return None
            slot_order = list(range(len(slots)))
            rng.shuffle(slot_order)
            for slot in slot_order:
                for k in order:
                    chair = chairs[k]
                    if (chair.pk, when, slot) in taken:
                        continue
                    taken.add((chair.pk, when, slot))
                    busy_days.add(when)
                    starts = local_moment(when, slots[slot], site.zone)
                    return self._appointment(
                        course,
                        planned,
                        site,
                        chair,
                        self._chair_nurse(site, k, chairs),
                        starts,
                        starts + datetime.timedelta(minutes=length),
                        outcome,
                    )
        return None

    def _chair_nurse(self, site: Site, k: int, chairs: list) -> User:
        offset = 0 if chairs is site.iv_chairs else len(site.iv_chairs)
        # Each nurse runs a block of chairs no larger than the policy's limit.
        return site.nurses[(offset + k) // self.scheduling.nurse_max_concurrent_chairs]

    def _appointment(self, course, planned, site, chair, nurse, starts, ends, outcome):
        rng = course.rng
        desk = rng.choice(site.front_desk)
        status = outcome
        reason, changed_at, cancelled_at, changed_by = "", None, None, None
        if outcome == "cancelled":
            reason = rng.choice(
                ["Patient unwell", "No escort available", "Work conflict", "Travel"]
            )
            changed_at = cancelled_at = starts - datetime.timedelta(days=rng.randint(1, 3))
            changed_by = desk
        elif outcome == "no_show":
            reason = "Did not attend; no call"
            changed_at, changed_by = starts + datetime.timedelta(minutes=30), desk
        elif outcome == "completed":
            changed_at, changed_by = ends, nurse
        appointment = self._add(
            Appointment(
                pk=self.ids.take(Appointment),
                uuid=seeded_uuid(rng),
                created_at=min(
                    starts - datetime.timedelta(days=10),
                    local_moment(planned.planned_date, datetime.time(9), site.zone)
                    - datetime.timedelta(days=10),
                ),
                patient=course.patient,
                chair=chair,
                nurse=nurse,
                starts_at=starts,
                ends_at=ends,
                route=course.route,
                planned_session=planned,
                status=status,
                status_reason=reason,
                status_changed_at=changed_at,
                status_changed_by=changed_by,
                cancelled_at=cancelled_at,
                created_by=desk,
            )
        )
        visit = Visit(course=course, planned=planned, appointment=appointment, site=site)
        if outcome == "completed":
            course.visits.append(visit)
            self.visits.append(visit)
        return visit

    # ---------------------------------------------------------------- sessions and ledger

    def _sessions_and_ledger(self) -> None:
        stock = Stock(self)
        self.visits.sort(key=lambda v: (v.appointment.starts_at, v.appointment.pk))
        for number, visit in enumerate(self.visits, start=1):
            self._session(visit, stock)
            if number % 5000 == 0:
                # Foreign keys are checked at commit: the ledger rows follow at the end.
                self._flush([TreatmentSession, InfusionEvent, DoseAdministration, SideEffect])
                self._flush([VitalsEntry])
                self.progress("sessions", number)
        stock.finish()

    def _session(self, visit: Visit, stock: Stock) -> None:
        course, appointment, site = visit.course, visit.appointment, visit.site
        rng = random.Random(f"{self.o.seed}:session:{appointment.uuid}")
        # Where this session's rows start in the lists waiting to be written (for its record).
        marks = {model: len(self.rows[model]) for model in _RECORD_MODELS}
        nurse = appointment.nurse
        witness = next((n for n in dict.fromkeys(site.nurses) if n.pk != nurse.pk), None)
        witness = witness or site.prescribers[0]
        checked_in = appointment.starts_at + datetime.timedelta(minutes=rng.randint(0, 8))
        dose_start = checked_in + datetime.timedelta(minutes=rng.randint(10, 18))
        weight_today = (course.weight + Decimal(f"{rng.uniform(-1.5, 1.5):.1f}")).quantize(
            Decimal("0.1")
        )
        female = course.patient.sex == Sex.FEMALE
        pk = self.ids.take(TreatmentSession)
        session = TreatmentSession(
            pk=pk,
            uuid=seeded_uuid(rng),
            created_at=checked_in,
            appointment=appointment,
            patient=course.patient,
            route=course.route,
            planned_session=visit.planned,
            phase="discharged",
            policy_values=self.session_policy_json,
            checked_in_at=checked_in,
            checked_in_by=nurse,
            identity_confirmed_with=["full_name", "date_of_birth"],
            assigned_nurse=nurse,
            last_food_at=checked_in - datetime.timedelta(hours=rng.randint(5, 10)),
            last_liquid_at=checked_in - datetime.timedelta(hours=rng.randint(2, 4)),
            escort_name=rng.choice(GIVEN) + " " + course.patient.legal_family_name,
            escort_phone=f"(555) 01{rng.randint(0, 9)}-{rng.randint(0, 9999):04d}",
            escort_confirmed=True,
            pregnancy_test="negative"
            if female and _age(course.patient.date_of_birth, checked_in.date()) < 50
            else "not_applicable",
            questionnaires="done",
            setting_eye_mask=rng.random() < 0.7,
            setting_headphones_music=rng.random() < 0.8,
            setting_lighting=rng.choice(["dimmed", "dark", "dimmed"]),
            weight_today_kg=weight_today,
            dose_planned_mg=visit.planned.dose_mg,
            dose_started_at=dose_start,
        )
        readings: list[tuple[datetime.datetime, str, bool]] = [
            (dose_start - datetime.timedelta(minutes=3), "checked_in", True)
        ]
        if course.route == "iv":
            minutes = visit.planned.infusion_minutes or 40
            ended = dose_start + datetime.timedelta(minutes=minutes)
            session.dose_mg_per_kg = visit.planned.dose_mg_per_kg
            session.dose_weight_used_kg = visit.planned.weight_used_kg
            session.infusion_minutes = minutes
            assert visit.planned.dose_mg is not None  # every planned IV session has its dose
            dose = Decimal(visit.planned.dose_mg)
            container, _ = stock.draw_iv(
                site,
                dose,
                at=dose_start - datetime.timedelta(minutes=2),
                actor=nurse,
                witness=witness,
            )
            session.infusion_container = container
            session.infusion_drawn_mg = dose
            residual = Decimal(0)
            if rng.random() < 0.15:
                residual = Decimal(f"{rng.uniform(0.5, 2.5):.1f}")
            given = dose - residual
            admin_entry = stock.administer(
                container,
                drawn=dose,
                given=given,
                at=ended,
                actor=nurse,
                patient=course.patient,
                session=session,
                witness=witness,
            )
            self._add(
                DoseAdministration(
                    pk=self.ids.take(DoseAdministration),
                    uuid=seeded_uuid(rng),
                    created_at=ended,
                    session=session,
                    kind="iv_infusion",
                    ledger_entry=admin_entry,
                    container=container,
                    drawn_mg=dose,
                    given_mg=given,
                    given_at=ended,
                    expected_max_mg=dose,
                    recorded_by=nurse,
                )
            )
            for kind, at, reason in (
                ("start", dose_start, ""),
                ("stop", ended, "Residual left in the bag and line" if residual else ""),
            ):
                self._add(
                    InfusionEvent(
                        pk=self.ids.take(InfusionEvent),
                        uuid=seeded_uuid(rng),
                        created_at=at,
                        session=session,
                        kind=kind,
                        occurred_at=at,
                        reason=reason,
                        recorded_by=nurse,
                    )
                )
            readings += [
                (dose_start + datetime.timedelta(minutes=m), "dosing", True)
                for m in range(10, minutes + 1, 10)
            ]
            # The monitor's pulse and SpO2 in between, every 5 minutes of the infusion.
            readings += [
                (dose_start + datetime.timedelta(minutes=m), "dosing", False)
                for m in range(5, minutes, 10)
            ]
            recovery = ended
            discharged = ended + datetime.timedelta(minutes=rng.choice((30, 35, 45)))
            step = 15
        else:
            assert visit.planned.dose_mg is not None
            devices = esketamine_dose(int(visit.planned.dose_mg))
            at = dose_start
            for device in range(1, devices.devices + 1):
                container = stock.device(site, at=at, actor=nurse, witness=witness)
                visit.containers.append(container)
                entry = stock.administer(
                    container,
                    drawn=container.content_mg,
                    given=container.content_mg,
                    at=at,
                    actor=nurse,
                    patient=course.patient,
                    session=session,
                    witness=None,
                )
                self._add(
                    DoseAdministration(
                        pk=self.ids.take(DoseAdministration),
                        uuid=seeded_uuid(rng),
                        created_at=at,
                        session=session,
                        kind="esketamine_device",
                        ledger_entry=entry,
                        container=container,
                        drawn_mg=container.content_mg,
                        given_mg=container.content_mg,
                        given_at=at,
                        device_number=device,
                        recorded_by=nurse,
                    )
                )
                ended = at
                at += datetime.timedelta(minutes=devices.minutes_between_devices)
            recovery = ended
            readings += [
                (ended + datetime.timedelta(minutes=m), "recovery", True) for m in (40, 60, 80, 100)
            ]
            # Continuous pulse oximetry [C2], [C16], charted every 5 minutes up to the
            # 40-minute blood pressure.
            readings += [
                (
                    dose_start + datetime.timedelta(minutes=m),
                    "dosing" if m < (ended - dose_start).total_seconds() / 60 else "recovery",
                    False,
                )
                for m in range(5, int((ended - dose_start).total_seconds() // 60) + 40, 5)
            ]
            discharged = ended + datetime.timedelta(
                minutes=devices.observation_minutes + rng.randint(3, 10)
            )
            step = 0
        session.dose_completed_at = ended
        session.recovery_started_at = recovery
        if step:
            t = recovery + datetime.timedelta(minutes=step)
            while t < discharged:
                readings.append((t, "recovery", True))
                t += datetime.timedelta(minutes=step)
        readings.append((discharged - datetime.timedelta(minutes=2), "recovery", True))
        session.discharged_at = discharged
        session.discharged_by = nurse
        session.escort_present_at_discharge = True
        session.instructions_given = True
        session.instructions_text = "No driving until the next day after a full night's sleep."
        self._add(session)
        pressures = self._vitals(session, course, readings, nurse, rng, dose_start, recovery)
        noticed_kinds: list[str] = []
        if rng.random() < 0.35:
            kinds = rng.sample(
                ("nausea", "dizziness", "headache", "anxiety", "blurred_vision"), rng.randint(1, 2)
            )
            for kind in kinds:
                noticed_kinds.append(kind.replace("_", " "))
                noticed = dose_start + datetime.timedelta(minutes=rng.randint(5, 50))
                self._add(
                    SideEffect(
                        pk=self.ids.take(SideEffect),
                        uuid=seeded_uuid(rng),
                        created_at=noticed,
                        session=session,
                        kind=kind,
                        severity=rng.choice(("mild", "mild", "mild", "moderate")),
                        noticed_at=noticed,
                        recorded_by=nurse,
                    )
                )
        session.nurse_note = (
            "Pre-checks complete, identity confirmed, escort confirmed. Dose given as planned; "
            + (f"mild to moderate {', '.join(noticed_kinds)}, settled; " if noticed_kinds else "")
            + "vital signs within limits throughout. Discharged to escort with instructions."
        )
        session.nurse_note_by = nurse
        session.nurse_note_at = session.discharged_at
        if course.route == "esketamine":
            self._rems_form(session, visit, pressures, nurse, rng)
        visit.session = session
        if discharged < self.cutoff - datetime.timedelta(days=UNSIGNED_DAYS):
            self._sign(session, course, marks, discharged)

    def _sign(self, session, course, marks, discharged) -> None:
        """The prescriber signs the record the same day or the next, over the content the
        signing service builds (`signed_record`, from the rows in memory): a working clinic's
        "sessions to sign" holds its last days' sessions, not its years."""

        def written(model, order):
            rows = self.rows[model][marks[model] :]
            rows = [model(**row) if isinstance(row, dict) else row for row in rows]
            return sorted(rows, key=lambda row: (getattr(row, order), row.pk))

        content = signed_record(
            session,
            patient_uuid=course.patient.uuid,
            rows=RecordRows(
                administrations=written(DoseAdministration, "given_at"),
                infusion_events=written(InfusionEvent, "occurred_at"),
                vitals=written(VitalsEntry, "taken_at"),
                side_effects=written(SideEffect, "noticed_at"),
            ),
        )
        hours = random.Random(f"{self.o.seed}:sign:{session.uuid}").randint(1, 26)
        session.signed_content = content
        session.signed_sha256 = content_sha256(content)
        session.signed_at = discharged + datetime.timedelta(hours=hours)
        session.signed_by = course.prescriber

    def _rems_form(self, session, visit, pressures, nurse, rng) -> None:
        """The REMS patient monitoring form, answered from the session's own record (as
        `rems_form_prefill` suggests it) and submitted within the form's 7 days [C15]."""
        completed = session.dose_completed_at
        recheck = completed + datetime.timedelta(
            minutes=self.session_policy_json["esketamine_bp_recheck_minutes"]
        )
        pre = [p for p in pressures if p[0] < session.dose_started_at]
        after = [p for p in pressures if p[0] >= recheck]
        lots = sorted({container.lot.lot_number for container in visit.containers})
        given = int(session.dose_planned_mg)
        session.rems_form = {
            "patient_id": f"DEMO-{visit.course.index + 1:07d}",
            "setting_id": visit.site.location.spravato_rems_setting_id,
            "session_date": session.checked_in_at.astimezone(visit.site.zone).date().isoformat(),
            "dose": f"{given} mg" if given in (56, 84) else "other",
            "lot_number": ", ".join(lots),
            "concomitant_medications": [],
            "total_monitoring_minutes": int(
                (session.discharged_at - session.dose_started_at).total_seconds() // 60
            ),
            "vitals_acceptable_pre_dose": True,
            "vitals_acceptable_at_completion": True,
            "bp_pre_dose": f"{pre[-1][1]}/{pre[-1][2]} mmHg",
            "bp_about_40_min": f"{after[0][1]}/{after[0][2]} mmHg",
            "bp_pre_discharge": f"{after[-1][1]}/{after[-1][2]} mmHg",
            "sedation_occurred": rng.random() < 0.3,
            "dissociation_occurred": rng.random() < 0.6,
            "respiratory_depression_occurred": False,
            "serious_adverse_events": [],
            "ready_to_leave": True,
        }
        submitted = session.discharged_at + datetime.timedelta(days=rng.randint(0, 3), hours=1)
        if submitted < self.cutoff:
            session.rems_submitted_at = submitted
            session.rems_submitted_by = nurse

    def _vitals(self, session, course, readings, nurse, rng, dose_start, recovery) -> list:
        """Write the readings; returns each full set's (time, systolic, diastolic)."""
        base = course.vitals_base
        pressures = []
        readings.sort(key=lambda reading: reading[0])
        for taken_at, phase, full_set in readings:
            into = (taken_at - dose_start).total_seconds() / 60
            # A rise in blood pressure during dosing that settles in recovery [E6].
            if phase == "dosing" or (
                phase == "recovery" and taken_at < recovery + datetime.timedelta(minutes=45)
            ):
                rise = base[4] * max(0.0, 1 - abs(into - 30) / 60)
            else:
                rise = 0.0
            systolic = min(158, round(base[0] + rise + rng.gauss(0, 4)))
            diastolic = min(98, round(base[1] + rise * 0.5 + rng.gauss(0, 3)), systolic - 20)
            if full_set:
                pressures.append((taken_at, systolic, diastolic))
            # A plain row, not an instance: a million of them are written on a large run.
            self.rows[VitalsEntry].append(
                {
                    "id": self.ids.take(VitalsEntry),
                    "uuid": seeded_uuid(rng),
                    "created_at": taken_at,
                    "session_id": session.pk,
                    "taken_at": taken_at,
                    "phase": phase,
                    "systolic_mmhg": systolic if full_set else None,
                    "diastolic_mmhg": diastolic if full_set else None,
                    "heart_rate_bpm": min(
                        110, max(52, round(base[2] + rise * 0.4 + rng.gauss(0, 4)))
                    ),
                    "spo2_percent": min(100, max(94, round(base[3] + rng.gauss(0, 1)))),
                    "respiratory_rate_per_min": rng.randint(12, 18) if full_set else None,
                    "temperature_c": (
                        Decimal(f"{rng.uniform(36.3, 37.1):.1f}") if phase == "checked_in" else None
                    ),
                    "recorded_by_id": nurse.pk,
                }
            )
        return pressures

    # ---------------------------------------------------------------- assessments

    def _assessments(self) -> None:
        phq9, gad7, cssrs = (get_instrument(c) for c in ("phq9", "gad7", "cssrs-screen"))
        maintenance_days = schedule_policy().maintenance_interval_days
        for course in self.courses:
            rng = random.Random(f"{self.o.seed}:assessments:{course.index}")
            baseline = rng.randint(15, 24)
            prone = rng.random() < 0.3
            state = AlertState()
            taken_baseline = course.baseline_at
            self._response(
                course,
                phq9,
                _answers_phq9(baseline, rng, prone),
                "baseline",
                taken_baseline,
                "staff",
                state,
            )
            self._response(
                course,
                gad7,
                _answers_for_total(rng.randint(10, 18), 7, rng),
                "baseline",
                taken_baseline,
                "staff",
                state,
            )
            self._response(course, cssrs, _CSSRS_NO, "baseline", taken_baseline, "staff", state)
            if not course.visits:
                continue
            relapse_at = rng.randint(6, 12)
            last_induction = max(p.number for p in course.planned if p.phase != "maintenance")
            for number, visit in enumerate(course.visits):
                session = visit.session
                fraction = _fraction(course.trajectory, number, relapse_at)
                total = max(0, min(27, round(baseline * fraction + rng.gauss(0, 1.5))))
                taken = session.checked_in_at - datetime.timedelta(minutes=rng.randint(5, 20))
                self._response(
                    course,
                    phq9,
                    _answers_phq9(total, rng, prone),
                    "pre_session",
                    taken,
                    "kiosk",
                    state,
                )
                if number == 0:
                    after = session.discharged_at + datetime.timedelta(hours=rng.randint(20, 27))
                    if after < self.cutoff:
                        total = max(
                            0,
                            min(
                                27, round(baseline * _fraction(course.trajectory, 0.5, relapse_at))
                            ),
                        )
                        self._response(
                            course,
                            phq9,
                            _answers_phq9(total, rng, prone),
                            "after_first_session",
                            after,
                            "patient_link",
                            state,
                        )
                if visit.planned.number == last_induction:
                    # The end of induction (the plan's last session before maintenance).
                    end = session.discharged_at + datetime.timedelta(hours=2)
                    for instrument, answers in (
                        (phq9, _answers_phq9(total, rng, prone)),
                        (gad7, _answers_for_total(max(0, round(12 * fraction)), 7, rng)),
                    ):
                        self._response(
                            course,
                            instrument,
                            answers,
                            "end_of_induction",
                            end,
                            "patient_link",
                            state,
                        )
                if visit.planned.phase == "maintenance" and number + 1 < len(course.visits):
                    # Maintenance checks every 14 days between visits (the schedule's policy).
                    step = datetime.timedelta(days=maintenance_days)
                    check = session.discharged_at + step
                    following = course.visits[number + 1].session.checked_in_at
                    while check < following - datetime.timedelta(days=3):
                        later = _fraction(course.trajectory, number + 0.5, relapse_at)
                        total = max(0, min(27, round(baseline * later + rng.gauss(0, 1.5))))
                        self._response(
                            course,
                            phq9,
                            _answers_phq9(total, rng, prone),
                            "maintenance",
                            check,
                            "patient_link",
                            state,
                        )
                        check += step
                if session.dose_completed_at and rng.random() < 0.35:
                    self._journal(course, visit, rng, fraction)
            state.close(self, course)
        self.counts["responses"] = len(self.rows[AssessmentResponse])

    def _response(self, course, instrument, answers, timepoint, taken_at, source, state) -> None:
        if taken_at >= self.cutoff:
            return
        rng = course.rng
        result = instrument.score(list(answers), self.scoring)
        response = self._add(
            AssessmentResponse(
                pk=self.ids.take(AssessmentResponse),
                uuid=seeded_uuid(rng),
                created_at=taken_at,
                patient=course.patient,
                instrument_code=instrument.code,
                instrument_version=instrument.version,
                answers=list(answers),
                complete=result.complete,
                total=result.total,
                severity=result.severity or "",
                flags=list(result.flags),
                subscales=dict(result.subscales),
                taken_at=taken_at,
                timepoint=timepoint,
                source=source,
                recorded_by=course.nurse if source == "staff" else None,
            )
        )
        triggers = suicidality_triggers(instrument, list(answers), result)
        if triggers:
            state.positive(self, course, response, triggers, rng)
            if instrument.code != "cssrs-screen":
                # The positive answer prompts a C-SSRS screen (policy-defaults.md).
                cssrs = get_instrument("cssrs-screen")
                self._response(
                    course,
                    cssrs,
                    _CSSRS_NO,
                    timepoint,
                    taken_at + datetime.timedelta(minutes=10),
                    "staff",
                    state,
                )

    def _journal(self, course, visit, rng, fraction) -> None:
        written = visit.session.discharged_at + datetime.timedelta(hours=rng.randint(4, 40))
        if written >= self.cutoff:
            return
        shared = rng.random() < 0.4
        before = max(1, min(10, round(10 - 8 * fraction + rng.gauss(0, 1))))
        self._add(
            JournalEntry(
                pk=self.ids.take(JournalEntry),
                uuid=seeded_uuid(rng),
                created_at=written,
                patient=course.patient,
                appointment=visit.appointment,
                mood_before=before,
                mood_after=max(1, min(10, before + rng.randint(0, 3))),
                reflections=rng.choice(REFLECTIONS),
                insights=rng.choice(INSIGHTS),
                shared_with_care_team=shared,
                shared_at=written if shared else None,
            )
        )

    # ---------------------------------------------------------------- audit

    def _summary_audit(self) -> None:
        counts = {k: v for k, v in sorted(self.counts.items()) if v}
        audit_record(
            actor=self.admin,
            action=AuditAction.CREATE,
            object_type="demo_history",
            summary=(
                f"Demo data: {self.o.years}-year history of {self.o.patients} patients at "
                f"{len(self.sites)} locations written in bulk (seed {self.o.seed}); seeded "
                "rows carry no per-row audit history"
            )[:300],
            changes={"counts": counts, "seed": self.o.seed, "today": self.today.isoformat()},
        )


# --------------------------------------------------------------------------- helpers

IV_SLOTS = tuple(
    datetime.time(h, m) for h, m in ((8, 0), (9, 30), (11, 0), (12, 30), (14, 0), (15, 30))
)
ESK_SLOTS = tuple(datetime.time(h, m) for h, m in ((8, 0), (10, 30), (13, 0), (15, 30)))
# The C-SSRS screen answered "no" throughout: Q1, Q2 no; Q3–Q5 skipped by design; Q6 no.
_CSSRS_NO: list[int | None] = [0, 0, None, None, None, 0, None]


@dataclass
class Course:
    index: int
    patient: Patient
    site_index: int
    prescriber: User
    nurse: User
    therapist: User
    weight: Decimal
    start: datetime.date
    trajectory: str
    rng: random.Random
    route: str = ""
    plan: TreatmentPlan | None = None
    planned: list = field(default_factory=list)
    visits: list = field(default_factory=list)
    baseline_at: datetime.datetime | None = None

    @property
    def vitals_base(self) -> tuple[float, float, float, float, float]:
        r = random.Random(f"vitals:{self.patient.uuid}")
        return (
            r.gauss(122, 9),
            r.gauss(77, 6),
            r.gauss(74, 7),
            r.uniform(96.5, 99),
            r.uniform(6, 22),
        )


@dataclass
class Visit:
    course: Course
    planned: PlannedSession
    appointment: Appointment
    site: Site
    session: TreatmentSession | None = None
    containers: list = field(default_factory=list)


class AlertState:
    """The one suicidality alert a patient may have waiting (clinic/assessments/alerts.py):
    a positive answer while it is still open joins it as a follow-up."""

    def __init__(self):
        self.alert: SuicidalityAlert | None = None

    def positive(self, builder, course, response, triggers, rng) -> None:
        kind = (
            "high_suicide_risk"
            if any(t.kind == "high_suicide_risk" for t in triggers)
            else "suicidal_ideation"
        )
        text = "; ".join(t.text for t in triggers)[:200]
        alert = self.alert
        if (
            alert is not None
            and alert.acknowledged_at
            and alert.acknowledged_at <= response.taken_at
        ):
            alert = None
        if alert is not None:
            builder._add(
                AlertFollowUp(
                    pk=builder.ids.take(AlertFollowUp),
                    uuid=seeded_uuid(rng),
                    created_at=response.taken_at,
                    alert=alert,
                    response=response,
                    kind=kind,
                    trigger=text,
                )
            )
            return
        acknowledged = response.taken_at + datetime.timedelta(hours=rng.randint(1, 20))
        resolved = acknowledged + datetime.timedelta(days=rng.randint(1, 6))
        alert = SuicidalityAlert(
            pk=builder.ids.take(SuicidalityAlert),
            uuid=seeded_uuid(rng),
            created_at=response.taken_at,
            patient=course.patient,
            response=response,
            kind=kind,
            trigger=text,
            assigned_to=course.prescriber,
        )
        if acknowledged < builder.cutoff:
            alert.status = "acknowledged"
            alert.acknowledged_at = acknowledged
            alert.acknowledged_by = course.prescriber
            alert.acknowledgement_note = (
                "Called the patient; safety plan reviewed; no plan or intent."
            )
        if resolved < builder.cutoff:
            alert.status = "resolved"
            alert.resolved_at = resolved
            alert.resolved_by = course.prescriber
            alert.resolution_note = "Seen in clinic; C-SSRS screen negative; continue treatment."
        self.alert = builder._add(alert)

    def close(self, builder, course) -> None:
        self.alert = None


def _fraction(trajectory: str, number: float, relapse_at: int) -> float:
    """The share of the baseline PHQ-9 total left before session `number` (0 = first)."""
    k = float(number)
    floor = {"responder": 0.3, "partial": 0.65, "non_responder": 0.9, "relapse": 0.3}[trajectory]
    value = floor + (1 - floor) * math.exp(-k / 2.5)
    if trajectory == "relapse" and k >= relapse_at:
        value = min(0.95, 0.3 + 0.6 * math.exp(-(k - relapse_at) / 4) + 0.2)
    return value


def _answers_for_total(total: int, items: int, rng: random.Random, top: int = 3) -> list[int]:
    answers = [0] * items
    for _ in range(min(total, items * top)):
        choices = [i for i, v in enumerate(answers) if v < top]
        answers[rng.choice(choices)] += 1
    return answers


def _answers_phq9(total: int, rng: random.Random, prone: bool = False) -> list[int]:
    """Items 1–8 adding up with item 9: thoughts of self-harm are reported by some patients,
    more often at a high total (an illustration, not an incidence)."""
    p_item9 = 0.005 if not prone else 0.03 if total < 10 else 0.1 if total < 20 else 0.25
    item9 = 1 if rng.random() < p_item9 and total > 0 else 0
    return _answers_for_total(total - item9, 8, rng) + [item9]


def _age(born: datetime.date, on: datetime.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _conditions() -> list[str]:
    from clinic.screening.choices import Condition

    return list(Condition.values)


def _sha256(content: dict) -> str:
    text = json.dumps(content, sort_keys=True, cls=DjangoJSONEncoder, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _demo_password() -> str:
    from clinic.demo.management.commands.seed_demo import DEMO_PASSWORD

    return DEMO_PASSWORD


def build_history(options: HistoryOptions, staff: dict[str, User], write) -> dict[str, int]:
    return HistoryBuilder(options, staff, write).build()
