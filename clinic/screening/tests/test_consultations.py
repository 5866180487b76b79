"""The front desk's queue of consultation requests: the permission matrix, denials that write
nothing, audited reads and status changes, duplicate detection, conversion to a patient (or
linking to an existing one), and query counts that stay flat as the queue grows.

Long because: it covers one queue (the front desk's consultation requests, its list, detail and
conversion pages) with one permission matrix and one set of fixtures; its cases belong together."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.accounts.models import User
from clinic.core.exceptions import Conflict, PermissionDenied
from clinic.core.models import AuditEvent
from clinic.patients.measurements import mrn_check_digit, mrn_for
from clinic.patients.models import Patient
from clinic.patients.tests.factories import register
from clinic.screening import selectors, services
from clinic.screening.models import ConsultationRequest
from tests.helpers import client_as as _client
from tests.helpers import status_word as _status_word

pytestmark = pytest.mark.django_db


def submit(**overrides):
    """A request as the public form stores it."""
    data = {
        "given_name": "Maribel",
        "family_name": "Achterberg",
        "email": "maribel.achterberg@example.org",
        "phone": "(555) 010-7788",
        "preferred_contact": "phone",
        "date_of_birth": datetime.date(1988, 2, 14),
        "seeking_help_with": "treatment_resistant_depression",
        "message": "Please call after 5 pm.",
        "heard_about": "My GP",
        "consent_to_contact": True,
    }
    data.update(overrides)
    return services.consultation_request_create(data=data)


@pytest.fixture
def consultation():
    return submit()


@pytest.fixture
def actors(clinic_admin, prescriber, nurse, therapist, front_desk, billing):
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
    }


def _pages(consultation):
    return {
        "list": reverse("screening:consultation_list"),
        "detail": reverse("screening:consultation_detail", args=[consultation.uuid]),
        "convert": reverse("screening:consultation_convert", args=[consultation.uuid]),
    }


# Expected GET status per page; from docs/permissions.md (`consultation.manage`).
MATRIX = {
    "anonymous": ["login", "login", "login"],
    "patient_principal": [403, 403, 403],
    "clinic_admin": [200, 200, 200],
    "prescriber": [403, 403, 403],
    "nurse": [403, 403, 403],
    "therapist": [403, 403, 403],
    "front_desk": [200, 200, 200],
    "billing": [403, 403, 403],
}
PAGE_ORDER = ["list", "detail", "convert"]


@pytest.mark.parametrize("who", list(MATRIX))
def test_page_permission_matrix(client, consultation, actors, who):
    pages = _pages(consultation)
    client = _client(client, actors[who])
    got = [_status_word(client.get(pages[name])) for name in PAGE_ORDER]

    assert dict(zip(PAGE_ORDER, got, strict=True)) == dict(
        zip(PAGE_ORDER, MATRIX[who], strict=True)
    )


def test_refused_pages_do_not_show_the_request(client, consultation, actors):
    for who in ("prescriber", "nurse", "therapist", "billing", "patient_principal"):
        client.force_login(actors[who])
        for url in _pages(consultation).values():
            assert b"Achterberg" not in client.get(url).content


def _state():
    return (
        list(ConsultationRequest.objects.order_by("pk").values()),
        list(Patient.objects.order_by("pk").values()),
    )


CONVERT_DATA = {
    "legal_given_name": "Maribel",
    "legal_family_name": "Achterberg",
    "date_of_birth": "1988-02-14",
    "sex": "female",
    "email": "maribel.achterberg@example.org",
    "phone_mobile": "(555) 010-7788",
}


@pytest.mark.parametrize("who", [who for who, pages in MATRIX.items() if pages[0] != 200])
def test_a_denied_post_writes_nothing(client, consultation, actors, front_desk, who):
    existing = register(front_desk, legal_family_name="Existing")
    before = _state()
    client = _client(client, actors[who])
    pages = _pages(consultation)
    link_url = reverse("screening:consultation_link", args=[consultation.uuid])
    for url, data in [
        (pages["detail"], {"status": "contacted", "note": "Called"}),
        (pages["convert"], {**CONVERT_DATA, "confirm_new_patient": "on"}),
        (link_url, {"patient_uuid": str(existing.uuid)}),
    ]:
        assert _status_word(client.post(url, data)) in ("login", 403)
    assert _state() == before


def test_the_link_page_takes_only_posts(client, consultation, front_desk):
    client.force_login(front_desk)
    url = reverse("screening:consultation_link", args=[consultation.uuid])
    assert client.get(url).status_code == 405


def test_an_unknown_request_is_not_found(client, front_desk):
    client.force_login(front_desk)
    url = reverse("screening:consultation_detail", args=["00000000-0000-4000-8000-000000000000"])
    assert client.get(url).status_code == 404


# --- The queue -----------------------------------------------------------------------------


def _with_status(status, **overrides):
    request = submit(**overrides)
    ConsultationRequest.objects.filter(pk=request.pk).update(status=status)
    return request


def _names(response):
    return [c.family_name for c in response.context["page"].object_list]


def test_the_queue_shows_open_requests_newest_first_by_default(client, front_desk):
    _with_status("new", family_name="Oldest")
    _with_status("contacted", family_name="Middle")
    _with_status("booked", family_name="Booked")
    _with_status("declined", family_name="Declined")
    _with_status("new", family_name="Newest")
    client.force_login(front_desk)

    response = client.get(reverse("screening:consultation_list"))

    assert response.status_code == 200
    assert _names(response) == ["Newest", "Middle", "Oldest"]
    html = response.content.decode()
    assert "Booked, Maribel" not in html and "Declined, Maribel" not in html
    assert "Newest, Maribel" in html


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("new", ["Newest", "Oldest"]),
        ("contacted", ["Middle"]),
        ("booked", ["Booked"]),
        ("declined", ["Declined"]),
        ("open", ["Newest", "Middle", "Oldest"]),
        ("all", ["Newest", "Declined", "Booked", "Middle", "Oldest"]),
        ("nonsense", ["Newest", "Middle", "Oldest"]),
    ],
)
def test_the_queue_filters_by_status(client, front_desk, status, expected):
    _with_status("new", family_name="Oldest")
    _with_status("contacted", family_name="Middle")
    _with_status("booked", family_name="Booked")
    _with_status("declined", family_name="Declined")
    _with_status("new", family_name="Newest")
    client.force_login(front_desk)

    response = client.get(reverse("screening:consultation_list"), {"status": status})

    assert _names(response) == expected


def test_the_queue_paginates_and_keeps_the_filter(client, front_desk, settings):
    settings.PAGE_SIZE = 5
    for i in range(12):
        _with_status("booked", family_name=f"Family{i:02d}")
    client.force_login(front_desk)

    response = client.get(reverse("screening:consultation_list"), {"status": "booked", "page": 3})

    page = response.context["page"]
    assert (page.number, page.paginator.num_pages, len(page.object_list)) == (3, 3, 2)
    assert _names(response) == ["Family01", "Family00"]
    assert "?status=booked&amp;page=2" in response.content.decode()


def test_htmx_filter_returns_only_the_results(client, front_desk, consultation):
    client.force_login(front_desk)
    response = client.get(
        reverse("screening:consultation_list"), {"status": "new"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()

    assert html.lstrip().startswith('<section id="consultation-results"')
    assert "<html" not in html and "Achterberg" in html


def test_listing_the_queue_is_audited(client, front_desk, consultation):
    client.force_login(front_desk)
    client.get(reverse("screening:consultation_list"))

    event = AuditEvent.objects.filter(action="list", object_type="consultation_request").get()
    assert event.actor == front_desk
    assert "Achterberg" not in event.summary


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_queue_query_count_stays_flat_as_requests_accumulate(client, front_desk):
    client.force_login(front_desk)
    url = reverse("screening:consultation_list") + "?status=all"
    desk_patient = register(front_desk, legal_family_name="Linked")

    def add(n):
        for i in range(n):
            request = submit(family_name=f"Queue{i}")
            if i % 2:
                services.consultation_request_link_patient(
                    actor=front_desk, consultation=request, patient_uuid=desk_patient.uuid
                )

    add(2)
    small = _count_queries(client, url)
    add(20)
    assert _count_queries(client, url) == small


# --- Reading and changing a request --------------------------------------------------------


def test_reading_a_request_is_audited(client, front_desk, consultation):
    client.force_login(front_desk)
    response = client.get(_pages(consultation)["detail"], REMOTE_ADDR="10.1.2.3")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Achterberg" in html and "Please call after 5 pm." in html
    assert "Depression that has not improved with treatment" in html
    event = AuditEvent.objects.filter(action="view", object_type="consultation_request").get()
    assert (event.actor, event.object_id, event.ip_address) == (
        front_desk,
        str(consultation.uuid),
        "10.1.2.3",
    )


def test_a_status_change_with_a_note_is_saved_and_audited(client, front_desk, consultation):
    client.force_login(front_desk)
    response = client.post(
        _pages(consultation)["detail"], {"status": "contacted", "note": "Left a voicemail"}
    )

    assert response.status_code == 302
    consultation.refresh_from_db()
    assert consultation.status == "contacted"
    assert consultation.status_changed_by == front_desk
    assert consultation.status_changed_at is not None
    assert consultation.front_desk_note.endswith("front_desk: Left a voicemail")
    event = AuditEvent.objects.filter(action="update", object_type="consultation_request").get()
    assert event.actor == front_desk
    assert event.object_id == str(consultation.uuid)
    assert event.summary == "Consultation request status: New → Contacted, with a note"
    assert event.changes["status"] == {"before": "new", "after": "contacted"}


def test_notes_are_appended_not_replaced(front_desk, consultation):
    services.consultation_request_set_status(
        actor=front_desk, consultation=consultation, status="contacted", note="First call"
    )
    updated = services.consultation_request_set_status(
        actor=front_desk, consultation=consultation, status="contacted", note="Second call"
    )

    lines = updated.front_desk_note.splitlines()
    assert [line.split(": ", 1)[1] for line in lines] == ["First call", "Second call"]
    summaries = list(
        AuditEvent.objects.filter(action="update", object_type="consultation_request")
        .order_by("id")
        .values_list("summary", flat=True)
    )
    assert summaries == [
        "Consultation request status: New → Contacted, with a note",
        "Consultation request: note added",
    ]


def test_saving_without_a_change_says_so_and_writes_nothing(client, front_desk, consultation):
    client.force_login(front_desk)
    before = _state()
    response = client.post(_pages(consultation)["detail"], {"status": "new", "note": ""})

    assert response.status_code == 200
    assert 'id="id_status_error"' in response.content.decode()
    assert _state() == before
    assert not AuditEvent.objects.filter(action="update").exists()


def test_a_note_with_control_characters_is_refused(client, front_desk, consultation):
    client.force_login(front_desk)
    response = client.post(
        _pages(consultation)["detail"], {"status": "contacted", "note": "bad\x1bnote"}
    )

    assert 'id="id_note_error"' in response.content.decode()
    consultation.refresh_from_db()
    assert consultation.status == "new"


def test_the_service_refuses_roles_without_the_capability(nurse, billing, consultation):
    for actor in (nurse, billing, None):
        with pytest.raises(PermissionDenied):
            services.consultation_request_set_status(
                actor=actor, consultation=consultation, status="declined"
            )
    consultation.refresh_from_db()
    assert consultation.status == "new"


# --- Duplicate detection -------------------------------------------------------------------


@pytest.fixture
def jordan(front_desk):
    return register(
        front_desk,
        legal_given_name="Jordan",
        legal_family_name="Rivera",
        date_of_birth=datetime.date(1985, 4, 12),
        email="Jordan.Rivera@Example.org",
        phone_mobile="(555) 010-2233",
        phone_home="555 010 9000",
    )


NO_CONTACT_MATCH = {"email": "someone.else@example.org", "phone": "(555) 010-0000"}


@pytest.mark.parametrize(
    ("request_data", "reasons"),
    [
        (
            {
                "given_name": "jordan",
                "family_name": "RIVERA",
                "date_of_birth": datetime.date(1985, 4, 12),
                **NO_CONTACT_MATCH,
            },
            ("same name and date of birth",),
        ),
        (
            {"given_name": "J", "family_name": "R", "email": "jordan.rivera@example.org"},
            ("same e-mail",),
        ),
        ({"given_name": "J", "family_name": "R", "phone": "555.010.2233"}, ("same phone number",)),
        (
            {"given_name": "J", "family_name": "R", "phone": "+1 555-010-2233"},
            ("same phone number",),
        ),
        ({"given_name": "J", "family_name": "R", "phone": "5550102233"}, ("same phone number",)),
        (
            {"given_name": "J", "family_name": "R", "phone": "(555) 010 9000"},
            ("same phone number",),
        ),
        (
            {
                "given_name": "Jordan",
                "family_name": "Rivera",
                "date_of_birth": datetime.date(1985, 4, 12),
                "email": "jordan.rivera@example.org",
                "phone": "555-010-2233",
            },
            ("same name and date of birth", "same e-mail", "same phone number"),
        ),
    ],
)
def test_likely_duplicates_are_found(front_desk, jordan, request_data, reasons):
    request = submit(
        **{"email": "", "phone": "", "date_of_birth": None, **request_data},
        preferred_contact="email" if request_data.get("email") else "phone",
    )

    found = selectors.consultation_duplicate_candidates(actor=front_desk, consultation=request)

    assert [(c.patient.pk, c.reasons) for c in found] == [(jordan.pk, reasons)]


@pytest.mark.parametrize(
    "request_data",
    [
        # Same name, another date of birth, no contact in common: another person.
        {
            "given_name": "Jordan",
            "family_name": "Rivera",
            "date_of_birth": datetime.date(1990, 4, 12),
            **NO_CONTACT_MATCH,
        },
        # Same name and no date of birth given: not enough to say.
        {
            "given_name": "Jordan",
            "family_name": "Rivera",
            "date_of_birth": None,
            **NO_CONTACT_MATCH,
        },
        # The same last seven digits under another area code.
        {"given_name": "J", "family_name": "R", "phone": "(444) 010-2233", "email": ""},
    ],
)
def test_no_false_positives(front_desk, jordan, request_data):
    request = submit(
        **request_data,
        preferred_contact="email" if request_data.get("email") else "phone",
    )

    assert selectors.consultation_duplicate_candidates(actor=front_desk, consultation=request) == []


def test_the_convert_page_warns_and_lists_the_likely_duplicates(client, front_desk, jordan):
    register(front_desk, legal_given_name="Jordan", legal_family_name="Unrelated")
    request = submit(
        given_name="Jordan",
        family_name="Rivera",
        date_of_birth=datetime.date(1985, 4, 12),
        **NO_CONTACT_MATCH,
    )
    client.force_login(front_desk)

    response = client.get(_pages(request)["convert"])

    html = response.content.decode()
    assert "This person may already be a patient" in html
    assert reverse("patients:patient_chart", args=[jordan.uuid]) in html
    assert jordan.mrn in html and "same name and date of birth" in html
    assert "Unrelated" not in html
    assert "Register a new patient anyway" in html
    search = AuditEvent.objects.filter(action="search", object_id=str(request.uuid)).get()
    assert search.actor == front_desk


def test_the_convert_page_without_duplicates_shows_no_warning(client, front_desk, consultation):
    client.force_login(front_desk)
    html = client.get(_pages(consultation)["convert"]).content.decode()

    assert "may already be a patient" not in html
    assert 'value="Achterberg"' in html and 'value="1988-02-14"' in html
    assert 'value="(555) 010-7788"' in html


# --- Conversion ----------------------------------------------------------------------------


def _valid_mrn(mrn: str) -> bool:
    return len(mrn) == 8 and mrn.isdigit() and mrn_check_digit(int(mrn[:7])) == int(mrn[7])


def test_conversion_registers_exactly_one_patient_and_links_it(client, front_desk, consultation):
    client.force_login(front_desk)
    response = client.post(_pages(consultation)["convert"], CONVERT_DATA)

    patient = Patient.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("patients:patient_chart", args=[patient.uuid])
    assert patient.mrn == mrn_for(patient.pk) and _valid_mrn(patient.mrn)
    assert (patient.legal_given_name, patient.legal_family_name) == ("Maribel", "Achterberg")
    assert patient.date_of_birth == datetime.date(1988, 2, 14)
    assert (patient.sex, patient.email, patient.phone_mobile) == (
        "female",
        "maribel.achterberg@example.org",
        "(555) 010-7788",
    )
    assert patient.created_by == front_desk
    consultation.refresh_from_db()
    assert consultation.patient == patient
    assert consultation.status == "new"  # unchanged unless the front desk changes it
    linked = AuditEvent.objects.filter(
        action="update", object_type="consultation_request", patient=patient
    ).get()
    assert linked.summary == f"Consultation request converted: registered patient MRN {patient.mrn}"
    assert AuditEvent.objects.filter(
        action="create", object_type="patient", patient=patient
    ).exists()


def test_conversion_asks_for_what_the_request_lacks(client, front_desk):
    request = submit(date_of_birth=None)
    client.force_login(front_desk)
    html = client.get(_pages(request)["convert"]).content.decode()
    assert 'name="date_of_birth"' in html and 'name="sex"' in html

    response = client.post(
        _pages(request)["convert"],
        {**CONVERT_DATA, "date_of_birth": "", "sex": ""},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_date_of_birth_error"' in html and 'id="id_sex_error"' in html
    assert not Patient.objects.exists()


def test_patient_rules_apply_on_conversion(client, front_desk, consultation):
    client.force_login(front_desk)
    response = client.post(
        _pages(consultation)["convert"], {**CONVERT_DATA, "date_of_birth": "2999-01-01"}
    )

    assert 'id="id_date_of_birth_error"' in response.content.decode()
    assert not Patient.objects.exists()


def test_with_a_likely_duplicate_conversion_needs_confirmation(client, front_desk, jordan):
    request = submit(
        given_name="Jordan",
        family_name="Rivera",
        date_of_birth=datetime.date(1985, 4, 12),
        **NO_CONTACT_MATCH,
    )
    client.force_login(front_desk)
    data = {
        **CONVERT_DATA,
        "legal_given_name": "Jordan",
        "legal_family_name": "Rivera",
        "date_of_birth": "1985-04-12",
        "email": "",
        "phone_mobile": "",
    }

    refused = client.post(_pages(request)["convert"], data)

    assert refused.status_code == 200
    assert 'id="id_confirm_new_patient_error"' in refused.content.decode()
    assert Patient.objects.count() == 1

    accepted = client.post(_pages(request)["convert"], {**data, "confirm_new_patient": "on"})

    assert accepted.status_code == 302
    assert Patient.objects.count() == 2
    request.refresh_from_db()
    assert request.patient is not None and request.patient != jordan


def test_the_duplicate_check_uses_the_date_of_birth_the_desk_adds(client, front_desk, jordan):
    request = submit(
        given_name="Jordan", family_name="Rivera", date_of_birth=None, **NO_CONTACT_MATCH
    )
    client.force_login(front_desk)
    data = {
        **CONVERT_DATA,
        "legal_given_name": "Jordan",
        "legal_family_name": "Rivera",
        "date_of_birth": "1985-04-12",
        "email": "",
        "phone_mobile": "",
    }

    response = client.post(_pages(request)["convert"], data)

    assert "This person may already be a patient" in response.content.decode()
    assert Patient.objects.count() == 1


def test_use_existing_links_without_registering_anyone(client, front_desk, jordan):
    request = submit(email="jordan.rivera@example.org", phone="", preferred_contact="email")
    client.force_login(front_desk)

    response = client.post(
        reverse("screening:consultation_link", args=[request.uuid]),
        {"patient_uuid": str(jordan.uuid)},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("patients:patient_chart", args=[jordan.uuid])
    assert Patient.objects.count() == 1
    request.refresh_from_db()
    assert request.patient == jordan
    event = AuditEvent.objects.filter(
        action="update", object_type="consultation_request", patient=jordan
    ).get()
    assert event.summary == f"Consultation request linked to existing patient MRN {jordan.mrn}"


def test_a_linked_request_cannot_be_converted_again(client, front_desk, jordan, consultation):
    services.consultation_request_link_patient(
        actor=front_desk, consultation=consultation, patient_uuid=jordan.uuid
    )
    client.force_login(front_desk)

    response = client.post(
        _pages(consultation)["convert"], {**CONVERT_DATA, "confirm_new_patient": "on"}
    )

    assert response.status_code == 302
    assert response["Location"] == _pages(consultation)["detail"]
    assert Patient.objects.count() == 1
    with pytest.raises(Conflict):
        services.consultation_request_convert(
            actor=front_desk,
            consultation=consultation,
            data={**CONVERT_DATA, "date_of_birth": datetime.date(1988, 2, 14)},
            allow_possible_duplicate=True,
        )
    other = register(front_desk, legal_family_name="Other")
    with pytest.raises(Conflict):
        services.consultation_request_link_patient(
            actor=front_desk, consultation=consultation, patient_uuid=other.uuid
        )
    assert Patient.objects.count() == 2
    consultation.refresh_from_db()
    assert consultation.patient == jordan


def test_linking_an_unknown_patient_changes_nothing(client, front_desk, consultation):
    client.force_login(front_desk)
    before = _state()

    response = client.post(
        reverse("screening:consultation_link", args=[consultation.uuid]),
        {"patient_uuid": "00000000-0000-4000-8000-000000000000"},
        follow=True,
    )

    assert b"No such patient." in response.content
    assert _state() == before
