"""A demo clinic: one staff account per role and a set of invented, plausible patients.

Idempotent. Staff accounts are keyed by username and left alone when they exist; patients
are only added until the clinic holds the number asked for. Everything is invented and
deterministic (a fixed seed per patient), and phone numbers use the fictional 555 range.

The default clinic (20 patients) goes through the services, so every registration, care
team and measurement is audited as it would be at the front desk. A large clinic
(`--patients 5000`, for load and scale work) is written with bulk inserts and one summary
audit event.

Long because: it is the command's whole story in one place (options, staff, the small
clinic through the services, the large one in bulk, the history builder's hand-off); each
stage's data lives in its own module beside it (screening, assessments, billing, ...).
"""

from __future__ import annotations

import datetime
import random
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from clinic.accounts.choices import Role
from clinic.accounts.models import User
from clinic.accounts.services import staff_create
from clinic.billing.models import InsurancePlan
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import DomainError
from clinic.core.request_context import RequestContext, request_context
from clinic.demo.assessments import seed_patient_assessments
from clinic.demo.billing import seed_patient_coverage, seed_payers
from clinic.demo.portal import DEMO_PATIENT_USERNAME, seed_portal_account
from clinic.demo.scheduling import seed_active_plan, seed_clinic_resources
from clinic.demo.screening import seed_consultation_requests, seed_patient_screening
from clinic.demo.sessions import seed_session_stock, seed_todays_appointments
from clinic.patients.choices import CareTeamRole, Sex
from clinic.patients.measurements import mrn_for
from clinic.patients.models import BodyMeasurement, CareTeamMember, Patient
from clinic.patients.services import body_measurement_record, care_team_set, patient_create

DEMO_PASSWORD = "ketacare-demo"
DEFAULT_PATIENT_COUNT = 20
# Above this many new patients, bulk inserts replace the one-by-one services.
BULK_THRESHOLD = 100
BATCH_SIZE = 500
SEED = 7_041_2019
# Patients at these positions are registered but have no care team yet.
NO_CARE_TEAM = frozenset({7, 15})
# The demo patient whose intake changes after the decision was signed (needs re-review).
RE_REVIEW_INDEX = 2


DEMO_PRESCRIBER_NPI = "1234567893"


@dataclass(frozen=True)
class DemoStaff:
    username: str
    role: Role
    first_name: str
    last_name: str
    credentials: str = ""
    note: str = ""


DEMO_STAFF: tuple[DemoStaff, ...] = (
    DemoStaff("admin", Role.CLINIC_ADMIN, "Dana", "Whitfield"),
    DemoStaff("prescriber", Role.PRESCRIBER, "Maya", "Okafor", "MD", "primary prescriber"),
    DemoStaff("nurse", Role.NURSE, "Grace", "Liu", "RN"),
    DemoStaff("therapist", Role.THERAPIST, "Jordan", "Ellis", "LCSW"),
    DemoStaff("frontdesk", Role.FRONT_DESK, "Carmen", "Diaz"),
    DemoStaff("billing", Role.BILLING, "Owen", "Park"),
    DemoStaff("prescriber2", Role.PRESCRIBER, "Daniel", "Brennan", "NP", "on no care team"),
    DemoStaff("nurse2", Role.NURSE, "Tomás", "Herrera", "RN", "on no care team"),
)

FEMALE_NAMES = (
    "Olivia", "Amara", "Sofia", "Hannah", "Priya", "Grace", "Mei", "Isabel", "Chloe",
    "Fatima", "Elizabeth", "Katherine", "Rosa", "Aaliyah", "Naomi", "Margaret", "Leah",
    "Ana", "Deborah", "Yuki", "Patricia", "Imani", "Claire", "Lucia", "Jennifer", "Inés",
    "Zara", "Eleanor", "Teresa", "Rebecca",
)  # fmt: skip
MALE_NAMES = (
    "James", "Mateo", "William", "Ethan", "Kwame", "Robert", "Arjun", "Daniel", "Luis",
    "Michael", "Hiroshi", "Thomas", "Omar", "Benjamin", "Andre", "Samuel", "Nathaniel",
    "José", "David", "Wei", "Christopher", "Malik", "Patrick", "Anthony", "Gregory",
    "Alexander", "Ibrahim", "Joseph", "Marcus", "Edward",
)  # fmt: skip
NEUTRAL_NAMES = (
    "Jordan", "Riley", "Avery", "Quinn", "Rowan", "Sage", "Emerson", "Casey", "Skyler",
    "Morgan", "River", "Alex",
)  # fmt: skip
FAMILY_NAMES = (
    "Johnson", "Nguyen", "García", "Okonkwo", "Patel", "O'Brien", "Kim", "Rodríguez",
    "Williams", "Cohen", "Haddad", "Smith-Jones", "Novak", "Tanaka", "Brown", "Mensah",
    "Schmidt", "Núñez", "Kowalski", "Ali", "Thompson", "Rossi", "Chen", "Jackson", "Murphy",
    "Singh", "Fitzgerald", "Hernández", "Yamamoto", "Davis", "Ivanova", "Abubakar", "Walker",
    "Lindqvist", "Morales", "Baptiste", "Reyes", "Goldberg", "Park", "MacLeod", "Adeyemi",
    "Silva", "Hoang", "Bianchi", "Martin", "Evans", "Castillo", "Duarte", "Friedman", "Lopez",
)  # fmt: skip
NICKNAMES = {
    "Elizabeth": "Liz", "Katherine": "Kate", "Margaret": "Maggie", "Patricia": "Trish",
    "Rebecca": "Becca", "Jennifer": "Jen", "Deborah": "Deb", "William": "Will",
    "Robert": "Bobby", "Michael": "Mike", "Christopher": "Chris", "Alexander": "Alex",
    "Nathaniel": "Nate", "Benjamin": "Ben", "Anthony": "Tony", "Gregory": "Greg",
    "Joseph": "Joe", "Edward": "Ted", "Thomas": "Tom", "Samuel": "Sam", "Isabel": "Izzy",
    "Eleanor": "Nell",
}  # fmt: skip
STREETS = (
    "Maple", "Oak", "Cedar", "Elm", "Willow", "Highland", "Park", "Washington", "Lincoln",
    "Jefferson", "Franklin", "Lake", "River", "Hillside", "Chestnut", "Spruce", "Sunset",
    "Prospect", "Church", "Mill",
)  # fmt: skip
STREET_KINDS = ("St", "Ave", "Rd", "Ln", "Dr", "Ct", "Pl", "Blvd", "Way", "Ter")
PLACES = (
    ("Brooklyn", "NY", "11215"),
    ("Queens", "NY", "11375"),
    ("New York", "NY", "10025"),
    ("Yonkers", "NY", "10701"),
    ("White Plains", "NY", "10601"),
    ("Hoboken", "NJ", "07030"),
    ("Jersey City", "NJ", "07302"),
    ("Montclair", "NJ", "07042"),
    ("Newark", "NJ", "07102"),
    ("Stamford", "CT", "06901"),
    ("New Haven", "CT", "06511"),
    ("Hartford", "CT", "06106"),
    ("Providence", "RI", "02906"),
    ("Boston", "MA", "02130"),
    ("Philadelphia", "PA", "19143"),
    ("Albany", "NY", "12203"),
)
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")


@dataclass(frozen=True)
class DemoMeasurement:
    days_ago: int
    weight_kg: Decimal | None
    height_cm: Decimal | None


@dataclass(frozen=True)
class DemoPatient:
    data: dict
    primary_prescriber: bool
    nurse: bool
    therapist: bool
    measurements: tuple[DemoMeasurement, ...] = field(default=())

    @property
    def has_care_team(self) -> bool:
        return self.primary_prescriber or self.nurse or self.therapist


def _ascii_slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def _phone(rng: random.Random) -> str:
    return f"(555) 01{rng.randint(0, 9)}-{rng.randint(0, 9999):04d}"


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year - years, day=28)


def _sex_for(index: int, rng: random.Random) -> Sex:
    if index % 10 == 3:
        return Sex.OTHER
    if index % 20 == 18:
        return Sex.UNKNOWN
    return Sex.FEMALE if rng.random() < 0.56 else Sex.MALE


def _measurements(index: int, sex: Sex, rng: random.Random) -> tuple[DemoMeasurement, ...]:
    if index in NO_CARE_TEAM or index % 8 == 6:
        return ()
    mean_height = {Sex.FEMALE: 163.0, Sex.MALE: 177.0}.get(sex, 170.0)
    height = min(max(rng.gauss(mean_height, 7.0), 148.0), 201.0)
    bmi = min(max(rng.gauss(28.0, 5.0), 18.0), 43.0)
    weight = min(max(bmi * (height / 100) ** 2, 42.0), 170.0)
    height_cm = Decimal(f"{height:.1f}")
    first = DemoMeasurement(rng.randint(60, 200), Decimal(f"{weight:.1f}"), height_cm)
    if index % 3 != 0:
        return (first,)
    # A second, more recent visit where only the weight was taken.
    later_weight = Decimal(f"{weight + rng.uniform(-4.0, 3.0):.1f}")
    return (first, DemoMeasurement(rng.randint(3, 45), later_weight, None))


def demo_patient(index: int, today: datetime.date) -> DemoPatient:
    """The patient at a position in the demo clinic: the same every time it is built."""
    rng = random.Random(SEED + index)
    sex = _sex_for(index, rng)
    if sex == Sex.FEMALE:
        given, pronouns = rng.choice(FEMALE_NAMES), "she/her" if rng.random() < 0.4 else ""
    elif sex == Sex.MALE:
        given, pronouns = rng.choice(MALE_NAMES), "he/him" if rng.random() < 0.4 else ""
    elif sex == Sex.OTHER:
        given, pronouns = rng.choice(NEUTRAL_NAMES), "they/them"
    else:
        given, pronouns = rng.choice(FEMALE_NAMES + MALE_NAMES + NEUTRAL_NAMES), ""
    family = rng.choice(FAMILY_NAMES)
    middle = ""
    if rng.random() < 0.4:
        middle = rng.choice(MALE_NAMES if sex == Sex.MALE else FEMALE_NAMES + NEUTRAL_NAMES)
    preferred = NICKNAMES.get(given, "") if rng.random() < 0.5 else ""

    # Ages 19 to 78, spread evenly: 37 and 60 share no factor, so 60 patients cover each age.
    age = 19 + (index * 37) % 60
    date_of_birth = _years_before(today, age) - datetime.timedelta(days=rng.randint(0, 364))

    city, region, postal_code = rng.choice(PLACES)
    data = {
        "legal_given_name": given,
        "legal_middle_name": middle,
        "legal_family_name": family,
        "preferred_name": preferred,
        "pronouns": pronouns,
        "date_of_birth": date_of_birth,
        "sex": sex.value,
        "email": "",
        "phone_mobile": _phone(rng) if rng.random() < 0.95 else "",
        "phone_home": _phone(rng) if rng.random() < 0.2 else "",
        "address_line1": (
            f"{rng.randint(10, 9800)} {rng.choice(STREETS)} {rng.choice(STREET_KINDS)}"
        ),
        "address_line2": (
            f"Apt {rng.randint(1, 24)}{rng.choice('ABCDEF')}" if rng.random() < 0.25 else ""
        ),
        "city": city,
        "region": region,
        "postal_code": postal_code,
        "country": "US",
        "emergency_contact_name": "",
        "emergency_contact_relationship": "",
        "emergency_contact_phone": "",
    }
    if rng.random() < 0.75:
        local = f"{_ascii_slug(preferred or given)}.{_ascii_slug(family)}{index}"
        data["email"] = f"{local}@{rng.choice(EMAIL_DOMAINS)}"
    if index % 7 != 5:
        relationships = ["Spouse", "Partner", "Sister", "Brother", "Friend"]
        if age < 60:
            relationships += ["Mother", "Father"]
        if age > 45:
            relationships += ["Daughter", "Son"]
        relationship = rng.choice(relationships)
        contact_family = rng.choice(FAMILY_NAMES) if relationship == "Friend" else family
        if relationship in ("Mother", "Sister", "Daughter"):
            contact_given = rng.choice(FEMALE_NAMES)
        elif relationship in ("Father", "Brother", "Son"):
            contact_given = rng.choice(MALE_NAMES)
        else:
            contact_given = rng.choice(FEMALE_NAMES + MALE_NAMES + NEUTRAL_NAMES)
        data["emergency_contact_name"] = f"{contact_given} {contact_family}"
        data["emergency_contact_relationship"] = relationship
        data["emergency_contact_phone"] = _phone(rng)

    on_team = index not in NO_CARE_TEAM
    return DemoPatient(
        data=data,
        primary_prescriber=on_team and index % 9 != 4,
        nurse=on_team and index % 6 != 5,
        therapist=on_team and index % 5 != 3,
        measurements=_measurements(index, sex, rng),
    )


class Command(BaseCommand):
    help = (
        "Create a demo clinic: one account per staff role (password "
        f"'{DEMO_PASSWORD}') and invented patients. Safe to run again. With --years, build "
        "a network's history in bulk instead (a fresh database; e.g. --patients 10000 "
        "--years 3 --locations 10 --seed 14; run with DEBUG=0 for speed; see README.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--patients",
            type=int,
            default=DEFAULT_PATIENT_COUNT,
            help=f"How many patients the clinic should hold (default {DEFAULT_PATIENT_COUNT}).",
        )
        parser.add_argument(
            "--years",
            type=int,
            default=None,
            help=(
                "Build a network's history instead of the small demo: Y years of "
                "consultations, intakes, decisions, plans, appointments (with no-shows and "
                "cancellations), sessions with vitals, doses from each location's ledger with "
                "witnessed waste, side effects, questionnaires, suicidality alerts and journal "
                "entries, written in bulk. Needs a clinic with no patients yet."
            ),
        )
        parser.add_argument(
            "--locations",
            type=int,
            default=None,
            help="With --years: how many locations the network has (default 1, the default "
            "location; more are opened with their own address, NPI, DEA number and REMS ID).",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=None,
            help="With --years: the random seed (default 14). The same seed, arguments and "
            "--today give the same content.",
        )
        parser.add_argument(
            "--today",
            type=datetime.date.fromisoformat,
            default=None,
            help="With --years: the day the history runs up to, YYYY-MM-DD (default: today). "
            "Sessions are history before it; appointments from it on are booked.",
        )

    def handle(self, *args, **options):
        wanted = options["patients"]
        if wanted < 0:
            raise CommandError("--patients cannot be negative.")
        scale = [
            name for name in ("years", "locations", "seed", "today") if options[name] is not None
        ]
        if scale:
            self._history(options)
            return
        try:
            with request_context(RequestContext(channel="command")), transaction.atomic():
                staff = self._staff()
                self._patients(staff, wanted)
                seed_consultation_requests()
                seed_clinic_resources(
                    admin=staff["admin"], nurses=[staff["nurse"], staff["nurse2"]]
                )
                seed_active_plan(
                    prescriber=staff["prescriber"],
                    front_desk=staff["frontdesk"],
                    patients=list(Patient.objects.order_by("pk")[:wanted]),
                )
                seed_session_stock(prescriber=staff["prescriber"])
                seed_portal_account(password=DEMO_PASSWORD)
                booked_today = seed_todays_appointments(
                    prescriber=staff["prescriber"],
                    nurses=[staff["nurse"], staff["nurse2"]],
                    front_desk=staff["frontdesk"],
                    patients=list(
                        Patient.objects.order_by("pk").prefetch_related("care_team_members")[
                            :wanted
                        ]
                    ),
                )
        except DomainError as error:
            detail = getattr(error, "errors", None)
            raise CommandError(f"{error.message} {detail or ''}".strip()) from error
        if booked_today:
            self.stdout.write(
                f"Booked {booked_today} appointment(s) for today to check in at the chairs."
            )
        self._print_logins()

    def _history(self, options) -> None:
        from clinic.demo.history import HistoryOptions, build_history

        years = options["years"]
        if years is None or not 1 <= years <= 10:
            raise CommandError("--years is needed with --locations/--seed/--today: 1 to 10.")
        locations = options["locations"] or 1
        if not 1 <= locations <= 100:
            raise CommandError("--locations must be 1 to 100.")
        if Patient.objects.exists():
            raise CommandError(
                "--years builds a history into a clinic with no patients yet: use a fresh "
                "database (manage.py flush, or a new DATABASE_URL)."
            )
        history = HistoryOptions(
            patients=options["patients"],
            years=years,
            locations=locations,
            seed=14 if options["seed"] is None else options["seed"],
            today=options["today"] or timezone.localdate(),
        )
        try:
            with request_context(RequestContext(channel="command")), transaction.atomic():
                staff = self._staff()
                counts = build_history(history, staff, self.stdout.write)
                # Payers and prices; the history's signed sessions wait in the billing queue
                # as not yet charged (they were built in bulk, before charges existed).
                seed_payers(staff["billing"])
                seed_portal_account(password=DEMO_PASSWORD)
        except DomainError as error:
            detail = getattr(error, "errors", None)
            raise CommandError(f"{error.message} {detail or ''}".strip()) from error
        self.stdout.write(
            "Seeded: " + ", ".join(f"{name} {count:,}" for name, count in sorted(counts.items()))
        )
        if connection.vendor == "postgresql":
            # Rows loaded by COPY leave the planner's statistics empty until autovacuum gets
            # round to them; until then it plans for tiny tables (a 4 s anti-join on the admin's
            # home page at 10,000 patients). Gather them now.
            self.stdout.write("Analyzing the tables for the query planner")
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        self._print_logins()

    def _staff(self) -> dict[str, User]:
        existing = {u.username: u for u in User.objects.filter(username__in=_usernames())}
        created = []
        for spec in DEMO_STAFF:
            user = existing.get(spec.username)
            if user is None:
                user = staff_create(
                    actor=None,
                    username=spec.username,
                    role=spec.role,
                    password=DEMO_PASSWORD,
                    email=f"{spec.username}@clinic.example.org",
                    first_name=spec.first_name,
                    last_name=spec.last_name,
                    credentials=spec.credentials,
                    check_password_strength=False,
                    # CMS's worked example of a valid NPI (check digit 3): illustrative only.
                    npi=DEMO_PRESCRIBER_NPI if spec.username == "prescriber" else "",
                )
                existing[spec.username] = user
                created.append(spec.username)
            elif user.role != spec.role:
                self.stderr.write(
                    f"Warning: {spec.username} exists with role {user.role}, not {spec.role};"
                    " left as it is."
                )
        if created:
            self.stdout.write(f"Created staff accounts: {', '.join(created)}.")
        else:
            self.stdout.write("Staff accounts already exist.")
        return existing

    def _patients(self, staff: dict[str, User], wanted: int) -> None:
        have = Patient.objects.count()
        if have >= wanted:
            self.stdout.write(f"The clinic already has {have} patients (asked for {wanted}).")
            return
        today = timezone.localdate()
        specs = [demo_patient(index, today) for index in range(have, wanted)]
        if len(specs) > BULK_THRESHOLD:
            self._patients_in_bulk(staff, specs, today)
        else:
            plans = seed_payers(staff["billing"])
            for index, spec in enumerate(specs, start=have):
                self._patient_through_services(staff, spec, today, index, plans)
        self.stdout.write(f"Added {len(specs)} patients; the clinic now has {wanted}.")

    def _patient_through_services(
        self,
        staff: dict[str, User],
        spec: DemoPatient,
        today: datetime.date,
        index: int,
        plans: list[InsurancePlan],
    ) -> None:
        desk = staff["frontdesk"]
        patient = patient_create(actor=desk, data=spec.data)
        if spec.has_care_team:
            care_team_set(
                actor=desk,
                patient=patient,
                primary_prescriber=staff["prescriber"] if spec.primary_prescriber else None,
                nurses=[staff["nurse"]] if spec.nurse else [],
                therapists=[staff["therapist"]] if spec.therapist else [],
            )
        recorder = _recorder(staff, spec)
        for measurement in spec.measurements:
            body_measurement_record(
                actor=recorder,
                patient=patient,
                measured_on=today - datetime.timedelta(days=measurement.days_ago),
                weight_kg=measurement.weight_kg,
                height_cm=measurement.height_cm,
            )
        if spec.nurse and spec.primary_prescriber:
            seed_patient_screening(
                index=index,
                patient=patient,
                nurse=staff["nurse"],
                prescriber=staff["prescriber"],
                rng=random.Random(SEED + index),
                re_review=index == RE_REVIEW_INDEX,
            )
            seed_patient_assessments(
                index=index,
                patient=patient,
                clinician=staff["nurse"],
                rng=random.Random(SEED + index),
            )
            seed_patient_coverage(
                index=index,
                patient=patient,
                desk=desk,
                plans=plans,
                rng=random.Random(SEED + index),
            )

    def _patients_in_bulk(
        self, staff: dict[str, User], specs: list[DemoPatient], today: datetime.date
    ) -> None:
        desk = staff["frontdesk"]
        now = timezone.now()
        patients = [Patient(created_by=desk, **spec.data) for spec in specs]
        for start in range(0, len(patients), BATCH_SIZE):
            batch = Patient.objects.bulk_create(patients[start : start + BATCH_SIZE])
            # The MRN derives from the row id, exactly as patient_create assigns it.
            for patient in batch:
                patient.mrn = mrn_for(patient.pk)
            Patient.objects.bulk_update(batch, ["mrn"], batch_size=BATCH_SIZE)

        members: list[CareTeamMember] = []
        measurements: list[BodyMeasurement] = []
        for patient, spec in zip(patients, specs, strict=True):
            team = [
                (spec.primary_prescriber, "prescriber", CareTeamRole.PRIMARY_PRESCRIBER),
                (spec.nurse, "nurse", CareTeamRole.NURSE),
                (spec.therapist, "therapist", CareTeamRole.THERAPIST),
            ]
            members += [
                CareTeamMember(
                    patient=patient,
                    staff=staff[username],
                    team_role=team_role,
                    added_at=now,
                    added_by=desk,
                )
                for wanted, username, team_role in team
                if wanted
            ]
            recorder = _recorder(staff, spec)
            measurements += [
                BodyMeasurement(
                    patient=patient,
                    measured_on=today - datetime.timedelta(days=m.days_ago),
                    weight_kg=m.weight_kg,
                    height_cm=m.height_cm,
                    recorded_by=recorder,
                )
                for m in spec.measurements
            ]
        CareTeamMember.objects.bulk_create(members, batch_size=BATCH_SIZE)
        BodyMeasurement.objects.bulk_create(measurements, batch_size=BATCH_SIZE)
        audit_record(
            actor=desk,
            action=AuditAction.CREATE,
            object_type="patient",
            summary=(
                f"Demo data: {len(patients)} patients registered in bulk "
                f"(MRN {patients[0].mrn} to {patients[-1].mrn})"
            ),
            changes={
                "patients": len(patients),
                "care_team_members": len(members),
                "body_measurements": len(measurements),
                "first_mrn": patients[0].mrn,
                "last_mrn": patients[-1].mrn,
            },
        )

    def _print_logins(self) -> None:
        portal = Patient.objects.filter(user__username=DEMO_PATIENT_USERNAME).first()
        self.stdout.write("")
        self.stdout.write(f"Demo logins (every account's password is {DEMO_PASSWORD!r}):")
        rows = [("username", "role", "password", "name")]
        rows += [
            (
                spec.username,
                spec.role.value,
                DEMO_PASSWORD,
                f"{spec.first_name} {spec.last_name}"
                + (f", {spec.credentials}" if spec.credentials else "")
                + (f" ({spec.note})" if spec.note else ""),
            )
            for spec in DEMO_STAFF
        ]
        if portal is not None:
            rows.append(
                (
                    DEMO_PATIENT_USERNAME,
                    "patient",
                    DEMO_PASSWORD,
                    f"{portal.legal_given_name} {portal.legal_family_name} (the patient portal)",
                )
            )
        widths = [max(len(row[column]) for row in rows) for column in range(3)]
        for row in rows:
            cells = [value.ljust(width) for value, width in zip(row, widths, strict=False)]
            self.stdout.write("  " + "  ".join([*cells, row[3]]))
        self.stdout.write(
            "Staff are asked for a second factor at sign-in unless REQUIRE_STAFF_2FA=0."
        )


def _usernames() -> list[str]:
    return [spec.username for spec in DEMO_STAFF]


def _recorder(staff: dict[str, User], spec: DemoPatient) -> User:
    """Who weighs the patient: the care team's nurse, else its prescriber, else the admin."""
    if spec.nurse:
        return staff["nurse"]
    if spec.primary_prescriber:
        return staff["prescriber"]
    return staff["admin"]
