"""Fixtures for every test: staff users by role, and the PostgreSQL-only skip.

`make_staff(role, username=None, **kw)` creates a staff user through the real service
(`clinic.accounts.services.staff_create`), so the audit trail is written as in production.
Every user it makes has the password `TEST_PASSWORD`.
"""

from __future__ import annotations

import itertools
import os

import pytest

TEST_PASSWORD = "ketacare-demo-password-1"


@pytest.fixture
def make_staff(db):
    from clinic.accounts.services import staff_create

    counter = itertools.count(1)

    def make(role, username=None, **kwargs):
        role = getattr(role, "value", role)
        kwargs.setdefault("password", TEST_PASSWORD)
        kwargs.setdefault("check_password_strength", False)
        # Tests say who works where (clinic/locations); in a clinic of one location everyone
        # works there without a membership.
        kwargs.setdefault("works_at", [])
        return staff_create(
            actor=None,
            username=username or f"{role.replace('_', '')}{next(counter)}",
            role=role,
            **kwargs,
        )

    return make


@pytest.fixture
def clinic_admin(make_staff):
    return make_staff("clinic_admin", username="clinic_admin")


@pytest.fixture
def prescriber(make_staff):
    return make_staff("prescriber", username="prescriber", credentials="MD")


@pytest.fixture
def nurse(make_staff):
    return make_staff("nurse", username="nurse", credentials="RN")


@pytest.fixture
def therapist(make_staff):
    return make_staff("therapist", username="therapist", credentials="LCSW")


@pytest.fixture
def front_desk(make_staff):
    return make_staff("front_desk", username="front_desk")


@pytest.fixture
def billing(make_staff):
    return make_staff("billing", username="billing")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """SQLite: let the flush that ends a transactional test empty append-only tables.

    Append-only tables (the audit trail, ledgers) refuse DELETE with database triggers. After a
    transactional test (`transactional_db`, `live_server`, every browser test) pytest-django
    empties the database with `flush`, which on SQLite is a DELETE per table, so the triggers
    would stop it. They are lifted for the teardown and put back, exactly as they were, right
    after it. (PostgreSQL flushes with TRUNCATE, which row triggers do not see.)
    """
    lifted = _lift_sqlite_triggers(item.config) if _is_transactional(item) else []
    try:
        return (yield)
    finally:
        if lifted:
            _restore_sqlite_triggers(item.config, lifted)


def _is_transactional(item) -> bool:
    if {"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())):
        return True
    marker = item.get_closest_marker("django_db")
    if marker is None:
        return False
    return bool(marker.kwargs.get("transaction", marker.args[0] if marker.args else False))


def _lift_sqlite_triggers(config) -> list[tuple[str, str]]:
    from django.db import connection
    from pytest_django.plugin import blocking_manager_key

    if connection.vendor != "sqlite":
        return []
    # A skipped test never unblocked the database; the hook must work either way.
    with config.stash[blocking_manager_key].unblock(), connection.cursor() as cursor:
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
        triggers = cursor.fetchall()
        for name, _sql in triggers:
            _when_unlocked(cursor, f'DROP TRIGGER IF EXISTS "{name}"')
    return triggers


def _when_unlocked(cursor, sql: str) -> None:
    """Run a schema statement once the live server has finished the request it is serving.

    A browser test's page may still have a background refresh in flight (the chair board, the
    in-basket) when its teardown starts; the live server answers it on the same in-memory
    SQLite database, which then reports `sqlite_master` locked for a moment. Wait (up to 10 s)
    rather than fail the teardown."""
    import time

    from django.db import OperationalError

    for _ in range(200):
        try:
            cursor.execute(sql)
            return
        except OperationalError as error:
            if "locked" not in str(error):
                raise
            time.sleep(0.05)
    cursor.execute(sql)


def _restore_sqlite_triggers(config, triggers: list[tuple[str, str]]) -> None:
    from django.db import connection
    from pytest_django.plugin import blocking_manager_key

    with config.stash[blocking_manager_key].unblock(), connection.cursor() as cursor:
        for name, sql in triggers:
            _when_unlocked(cursor, f'DROP TRIGGER IF EXISTS "{name}"')
            _when_unlocked(cursor, sql)


def _database_vendor() -> str:
    try:
        from django.db import connection

        return connection.vendor
    except Exception:  # settings not configured (pytest run outside the project)
        return "unknown"


def pytest_collection_modifyitems(config, items):
    """`postgres_only` tests are skipped, with the reason, unless the database is PostgreSQL."""
    postgres_only = [item for item in items if item.get_closest_marker("postgres_only")]
    if not postgres_only:
        return
    vendor = _database_vendor()
    if vendor == "postgresql":
        return
    skip = pytest.mark.skip(
        reason=f"needs PostgreSQL (this run uses {vendor}); set DATABASE_URL, or run `make test`"
    )
    for item in postgres_only:
        item.add_marker(skip)


def pytest_report_header(config):
    return f"database: {_database_vendor()}"


def pytest_terminal_summary(terminalreporter):
    # A note from scripts/test (e.g. "PostgreSQL run SKIPPED: ..."), shown just above
    # pytest's closing summary line so that it cannot be missed.
    note = os.environ.get("KETACARE_TEST_NOTE")
    if note:
        terminalreporter.write_sep("!", note, yellow=True, bold=True)


@pytest.fixture
def patient(front_desk, prescriber, nurse, therapist):
    """A registered patient whose care team is `prescriber` (primary), `nurse`, `therapist`."""
    from clinic.patients.services import care_team_set
    from clinic.patients.tests.factories import register

    patient = register(front_desk)
    care_team_set(
        actor=front_desk,
        patient=patient,
        primary_prescriber=prescriber,
        nurses=[nurse],
        therapists=[therapist],
    )
    return patient


@pytest.fixture
def actors(clinic_admin, prescriber, nurse, therapist, front_desk, billing, make_staff):
    """Everyone a page's permission matrix must try, by name: anonymous, a patient principal,
    each staff role, and each clinical role on and off `patient`'s care team."""
    from clinic.accounts.models import User

    portal = User.objects.create_user(username="portal", password="x" * 12, role="patient")
    return {
        "anonymous": None,
        "patient_principal": portal,
        "clinic_admin": clinic_admin,
        "prescriber": prescriber,
        "nurse": nurse,
        "therapist": therapist,
        "front_desk": front_desk,
        "billing": billing,
        "prescriber_off_team": make_staff("prescriber", username="prescriber2"),
        "nurse_off_team": make_staff("nurse", username="nurse2"),
        "therapist_off_team": make_staff("therapist", username="therapist2"),
    }


@pytest.fixture(autouse=True)
def _default_location_after_flush(request):
    """A transactional test (`transactional_db`, `live_server`, the browser tests) ends with a
    flush that empties every table, the default location that migration
    locations/0002_default_location made included; the next such test would find a clinic
    with no location at all. Put it back as the migration makes it (the settings' clinic
    name, code MAIN, the settings' time zone) before each transactional test."""
    if not _is_transactional(request.node):
        yield
        return
    request.getfixturevalue("transactional_db")
    from clinic.locations.models import default_location

    default_location()  # as migration 0002 makes it, from the settings
    yield


@pytest.fixture(autouse=True)
def _session_written_on_every_page(settings):
    """Tests count the queries of a page load; with the session's idle deadline refreshed at
    most once a minute (SESSION_REFRESH_INTERVAL_S), a count would depend on how many seconds
    the test took. Tests write the session on every page, as the setting's 0 does; the tests of
    the refresh interval set it themselves (clinic/core/tests/test_idle_session.py)."""
    settings.SESSION_REFRESH_INTERVAL_S = 0
