"""The public home and education pages: open to everyone, the same for everyone, no database,
no third-party requests, crisis resources and the consultation request on every page, and the
facts they state are the ones in docs/clinical (seed-facts.md, clinical-reference.md,
policy-defaults.md).

Long because: every public page is held to the same rules (open, identical for everyone, no
database, no third-party requests, crisis resources) and its stated facts are checked against
their sources page by page; the cases belong together."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from clinic.public_site.sources import SOURCES, Citations
from clinic.public_site.templatetags.learn import duration_words
from tests.helpers import client_as

pytestmark = pytest.mark.django_db

# Every public page and its one h1.
EDUCATION_PAGES = {
    "/learn/": "Learn about ketamine therapy",
    "/learn/ketamine-therapy/": "What ketamine therapy is and how it works",
    "/learn/conditions/": "Conditions we treat",
    "/learn/treatment-options/": "Four ways to receive ketamine",
    "/learn/what-to-expect/": "What to expect, step by step",
    "/learn/safety/": "Safety and side effects",
    "/learn/insurance-and-cost/": "Insurance and cost",
    "/learn/faq/": "Frequently asked questions",
}
HOME = {"/": "Ketamine therapy when other treatments have not helped"}
CONSULTATION_PAGES = {
    "/consultation/": "Ask for a consultation",
    "/consultation/thanks/": "Thank you",
}
STATIC_PAGES = {**HOME, **EDUCATION_PAGES}
ALL_PAGES = {**STATIC_PAGES, **CONSULTATION_PAGES}

# The public navigation: what a visitor can reach from every page.
NAV = [
    ("Home", "/"),
    ("Ketamine therapy", "/learn/ketamine-therapy/"),
    ("Conditions", "/learn/conditions/"),
    ("Treatment options", "/learn/treatment-options/"),
    ("What to expect", "/learn/what-to-expect/"),
    ("Safety", "/learn/safety/"),
    ("Insurance & cost", "/learn/insurance-and-cost/"),
    ("FAQ", "/learn/faq/"),
    ("Request a consultation", "/consultation/"),
]


class _Reader(HTMLParser):
    """What a visitor (or a screen reader) gets from a page: landmarks, headings, links,
    tables, and every address the browser would fetch on its own."""

    HEADINGS = ("h1", "h2", "h3")

    def __init__(self):
        super().__init__()
        self.start_tags: list[tuple[str, dict]] = []
        self.headings: dict[str, list[str]] = {h: [] for h in self.HEADINGS}
        self.links: list[tuple[str, str]] = []  # (text, href)
        self.navs: dict[str, list[tuple[str, str]]] = {}
        # A table's first class (its name) → rows of (tag, text).
        self.tables: dict[str, list[list[tuple[str, str]]]] = {}
        self.ids: set[str] = set()
        self._heading: str | None = None
        self._text: list[str] = []
        self._link: dict | None = None
        self._nav: list[str] = []
        self._table: str | None = None
        self._cell: str | None = None
        self._row: list[tuple[str, str]] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.start_tags.append((tag, attrs))
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag in self.HEADINGS:
            self._heading, self._text = tag, []
        elif tag == "a":
            self._link = {"href": attrs.get("href", ""), "text": []}
        elif tag == "nav":
            self._nav.append(attrs.get("aria-label") or attrs.get("aria-labelledby", ""))
            self.navs.setdefault(self._nav[-1], [])
        elif tag == "table":
            # A table is named by its first class; the others are layout (stack-table).
            self._table = (attrs.get("class") or "").split(" ")[0]
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("th", "td") and self._row is not None:
            self._cell, self._text = tag, []

    def handle_endtag(self, tag):
        if tag == self._heading:
            self.headings[tag].append(_squash(self._text))
            self._heading = None
        elif tag == "a" and self._link is not None:
            link = (_squash(self._link["text"]), self._link["href"])
            self.links.append(link)
            if self._nav:
                self.navs[self._nav[-1]].append(link)
            self._link = None
        elif tag == "nav" and self._nav:
            self._nav.pop()
        elif tag in ("th", "td") and self._cell == tag:
            self._row.append((tag, _squash(self._text)))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._heading or self._cell:
            self._text.append(data)
        if self._link is not None:
            self._link["text"].append(data)

    def tags(self, name):
        return [attrs for tag, attrs in self.start_tags if tag == name]


def _squash(parts) -> str:
    return " ".join("".join(parts).split())


# The h2s every education page shares: the next step, the sources and the crisis resources.
SHARED_H2 = {"Wondering whether ketamine could help you?", "Sources", "If you need help now"}


def _sections(page: _Reader) -> list[str]:
    """The page's own section headings (h2), without the ones every page shares."""
    return [heading for heading in page.headings["h2"] if heading not in SHARED_H2]


def _read(response) -> _Reader:
    reader = _Reader()
    reader.feed(response.content.decode())
    return reader


def _text(response) -> str:
    """The page's visible words, tags removed and spaces squashed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


# --- Every page ----------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "h1"), list(ALL_PAGES.items()))
def test_every_public_page_opens_for_anonymous_visitors_with_its_one_h1(client, url, h1):
    response = client.get(url)

    assert response.status_code == 200
    page = _read(response)
    assert page.headings["h1"] == [h1]
    # Landmarks: a banner, the site navigation, the main content and a footer; a skip link.
    for landmark in ("header", "main", "footer"):
        assert len(page.tags(landmark)) == 1, landmark
    assert page.tags("main")[0]["id"] == "main"
    assert page.links[0] == ("Skip to content", "#main")
    assert page.tags("html")[0]["lang"] == "en"


@pytest.mark.parametrize("url", list(ALL_PAGES))
def test_every_public_page_has_the_site_navigation_and_sign_in_links(client, url):
    page = _read(client.get(url))

    assert page.navs["Site"] == NAV
    assert page.navs["Sign in"] == [
        ("Patient sign-in", "/accounts/login/patient/"),
        ("Staff sign-in", "/accounts/login/"),
    ]
    current = [attrs["href"] for attrs in page.tags("a") if attrs.get("aria-current") == "page"]
    expected = {"/consultation/thanks/": "/consultation/", "/learn/": None}.get(url, url)
    assert current == ([expected] if expected else [])


@pytest.mark.parametrize("url", list(ALL_PAGES))
def test_crisis_resources_and_the_consultation_request_are_on_every_page(client, url):
    response = client.get(url)
    text = _text(response)

    assert "If you need help now" in text
    assert "988 Suicide & Crisis Lifeline: Call or text 988 (US), any time, day or night." in text
    assert (
        "Emergency: If you are in immediate danger, call 911 or go to the nearest emergency room."
        in text
    )
    footer = response.content.decode().split("<footer", 1)[1]
    assert "988" in footer  # in the footer, where every page shows it
    assert "/consultation/" in [href for _, href in _read(response).links]


@pytest.mark.parametrize("url", list(ALL_PAGES))
def test_every_page_gives_the_clinics_number_to_call_when_it_is_set(client, settings, url):
    settings.CLINIC_PHONE = "(212) 555-0142"
    settings.CLINIC_NAME = "Harbor Ketamine Clinic"

    footer = client.get(url).content.decode().split("<footer", 1)[1]

    assert (
        'To talk to Harbor Ketamine Clinic: <a href="tel:2125550142" class="clinic-phone">'
        "(212) 555-0142</a>." in footer
    )
    settings.CLINIC_PHONE = ""
    assert "tel:" not in client.get(url).content.decode()


def test_the_thank_you_page_offers_a_call(client, settings):
    settings.CLINIC_PHONE = "(212) 555-0142"

    page = client.get("/consultation/thanks/").content.decode()

    assert (
        'If you would rather talk to us first, call the clinic on <a href="tel:2125550142" '
        'class="clinic-phone">(212) 555-0142</a>.' in page
    )


@pytest.mark.parametrize("url", list(ALL_PAGES))
def test_no_page_makes_the_browser_fetch_anything_from_elsewhere(client, url):
    page = _read(client.get(url))

    fetched = [attrs["src"] for _, attrs in page.start_tags if "src" in attrs]
    fetched += [attrs.get("href", "") for attrs in page.tags("link")]
    fetched += [attrs.get("srcset", "") for _, attrs in page.start_tags if "srcset" in attrs]
    assert fetched == [
        "/static/core/favicon.svg",
        "/static/core/favicon.ico",
        "/static/core/ketacare.css",
    ]
    assert page.tags("script") == [] and page.tags("iframe") == [] and page.tags("img") == []
    assert "@import" not in client.get(url).content.decode()


def test_the_stylesheet_loads_nothing_from_elsewhere():
    css = (settings.BASE_DIR / "clinic/core/static/core/ketacare.css").read_text()

    assert "@import" not in css
    assert re.findall(r"url\(\s*['\"]?(?:https?:)?//", css) == []
    assert "@font-face" not in css


@pytest.mark.parametrize("url", list(STATIC_PAGES))
def test_the_home_and_education_pages_read_nothing_from_the_database(
    client, url, django_assert_num_queries
):
    with django_assert_num_queries(0):
        response = client.get(url)
    assert response.status_code == 200


@pytest.mark.parametrize("url", list(EDUCATION_PAGES))
def test_education_pages_are_the_same_for_everyone_and_may_be_cached(client, actors, url):
    anonymous = client.get(url)
    parts = {part.strip() for part in anonymous.headers["Cache-Control"].split(",")}
    assert parts == {"public", "max-age=600"}
    for who in ("patient_principal", "nurse", "clinic_admin"):
        client.logout()
        signed_in = client_as(client, actors[who]).get(url)
        assert signed_in.status_code == 200, who
        assert signed_in.content == anonymous.content, who
        # A signed-in response may carry the session cookie: no shared cache keeps it.
        assert signed_in.headers["Cache-Control"] == "no-store, private", who


@pytest.mark.parametrize("url", list(EDUCATION_PAGES))
def test_education_pages_only_answer_reads(client, url):
    assert client.post(url).status_code == 405


@pytest.mark.parametrize("url", list(STATIC_PAGES))
def test_education_pages_may_be_indexed_but_the_consultation_form_may_not(client, url):
    assert 'name="robots"' not in client.get(url).content.decode()
    for form_page in CONSULTATION_PAGES:
        assert '<meta name="robots" content="noindex">' in client.get(form_page).content.decode()


@pytest.mark.parametrize("url", list(ALL_PAGES))
def test_every_data_table_labels_its_headers(client, url):
    page = _read(client.get(url))
    for attrs in page.tags("th"):
        assert attrs.get("scope") in ("col", "row"), url


# --- Who gets what at "/" --------------------------------------------------------------------


def test_an_anonymous_visitor_gets_the_public_home_page(client):
    response = client.get("/")
    page = _read(response)
    text = _text(response)

    assert response.status_code == 200
    assert "About 30% of people with depression do not get better" in text
    assert "4–6 weeks" in text
    assert page.headings["h3"] == [
        "What ketamine therapy is and how it works",
        "Conditions we treat",
        "Four ways to receive ketamine",
        "What to expect, step by step",
        "Safety and side effects",
        "Insurance and cost",
        "Frequently asked questions",
    ]
    assert ("Request a consultation", "/consultation/") in page.links


def test_signed_in_staff_still_get_their_dashboard_at_home(client, nurse):
    body = client_as(client, nurse).get("/").content.decode()

    assert "My patients" in body
    assert "Ketamine therapy when other treatments have not helped" not in body


def test_a_patient_principal_is_sent_to_the_portal(client, actors):
    response = client_as(client, actors["patient_principal"]).get("/")

    assert response.status_code == 302
    assert response.headers["Location"] == reverse("portal:home")


# --- What the pages say ----------------------------------------------------------------------

# seed-facts.md, "Conditions treated": condition, evidence, response, note.
SEED_CONDITIONS = [
    (
        "Treatment-resistant depression",
        "strong",
        "60–70%",
        "Esketamine (Spravato) is FDA-approved for treatment-resistant depression.",
    ),
    ("Suicidal ideation", "strong", "75%+", "Suicidal thoughts can ease quickly, within hours."),
    ("PTSD", "moderate–strong", "50–60%", "Especially when other treatments have not worked."),
    ("Anxiety disorders (GAD, social anxiety)", "moderate", "45–55%", "—"),
    (
        "Chronic pain syndromes (CRPS, fibromyalgia, neuropathic pain)",
        "moderate",
        "40–60%",
        "—",
    ),
    ("OCD", "emerging", "35–45%", "Promising early results."),
    ("Bipolar depression", "emerging", "40–50%", "Mania was not triggered in most cases."),
]


def test_the_conditions_table_holds_the_seven_conditions_with_their_evidence_and_response(client):
    table = _read(client.get("/learn/conditions/")).tables["conditions"]

    header, *rows = table
    assert header == [
        ("th", "Condition"),
        ("th", "Evidence"),
        ("th", "Typical response rate"),
        ("th", "Note"),
    ]
    assert [(row[0][0], row[1][0], row[2][0]) for row in rows] == [("th", "td", "td")] * 7
    got = [(c[0][1], c[1][1].lower(), c[2][1], c[3][1]) for c in rows]
    assert got == SEED_CONDITIONS


def test_the_conditions_page_explains_what_response_means(client):
    text = _text(client.get("/learn/conditions/"))

    # clinical-reference §8.1: response = at least 50% reduction from baseline [H1].
    assert "improve by at least half" in text
    assert "about 40% reach remission" in text


# seed-facts.md, "Practical questions patients ask", plus the obvious ones.
SEED_FAQ_TOPICS = [
    "How long does the relief last?",
    "Does insurance cover ketamine therapy?",
    "How is ketamine different from antidepressants?",
    "Can I keep taking my antidepressants and seeing my therapist?",
    "How do I schedule a consultation?",
]
OTHER_FAQ_TOPICS = [
    "Can I drive after a session?",
    "How many sessions will I need?",
    "Is ketamine addictive?",
    "What side effects can ketamine cause?",
]


def test_the_faq_answers_every_question_patients_ask(client):
    response = client.get("/learn/faq/")
    questions = _read(response).headings["h2"]
    text = _text(response)

    for question in SEED_FAQ_TOPICS + OTHER_FAQ_TOPICS:
        assert question in questions
    # The answers carry the facts: relief, series and maintenance; insurance; driving.
    assert "relief lasts from days to weeks" in text
    assert "6 infusions over 2–3 weeks" in text and "every 2–8 weeks" in text
    assert "IV ketamine is used off-label and is mostly self-pay" in text
    assert "esketamine (Spravato) is covered by most insurance plans" in text
    assert "until the next day, after a restful night's sleep" in text
    assert "4–6 weeks" in text
    assert "psychological dependence" in text and "rare at treatment doses" in text


def test_the_ketamine_therapy_page_explains_the_mechanism(client):
    text = _text(client.get("/learn/ketamine-therapy/"))

    for term in (
        "NMDA receptors",
        "glutamate",
        "synaptic plasticity",
        "BDNF",
        "mTOR pathway",
        "neuroinflammation",
        "monoamines",
        "4–6 weeks",
        "64% of patients had relief within 24 hours",
    ):
        assert term in text, term


def test_the_routes_page_describes_all_four_routes(client):
    response = client.get("/learn/treatment-options/")
    page = _read(response)
    text = _text(response)

    assert _sections(page) == [
        "IV infusion",
        "IM injection",
        "Esketamine nasal spray (Spravato)",
        "At-home sublingual tablets",
    ]
    assert [row[0][1] for row in page.tables["routes"][1:]] == _sections(page)
    assert "usually over 40 minutes" in text  # 0.5 mg/kg over 40 min [A1], [A2]
    assert "6–8 sessions over 2–4 weeks" in text
    assert "about 93%" in text  # IM bioavailability [B2]
    assert "about 15–20 minutes after the injection" in text
    assert "2019" in text and "5 minutes apart" in text  # [C2]
    assert "about 30% under the tongue" in text  # SL bioavailability [B4], [B5]
    assert "treatment monitor" in text
    # Observation times: policy-defaults.md, "Preparation and discharge".
    assert "at least 30 minutes after the infusion ends" in text
    assert "at least 1 hour after the injection" in text
    assert "watched for at least 2 hours before you leave" in text


def test_the_experience_page_gives_the_founding_and_the_clinic_fasting_times(client):
    response = client.get("/learn/what-to-expect/")
    page = _read(response)
    text = _text(response)

    assert _sections(page) == [
        "Screening",
        "Preparation",
        "The setting",
        "The session",
        "Recovery and integration",
        "Maintenance",
    ]
    assert "not eating for 4–6 hours before an IV or IM session" in text
    # policy-defaults.md: IV/IM no solid food 4 h, clear liquids until 2 h; esketamine no food
    # 2 h, no liquids 30 min [C3].
    assert page.tables["fasting"][1:] == [
        [
            ("th", "IV infusion"),
            ("td", "No solid food for 4 hours before"),
            ("td", "Clear liquids only, until 2 hours before"),
        ],
        [
            ("th", "IM injection"),
            ("td", "No solid food for 4 hours before"),
            ("td", "Clear liquids only, until 2 hours before"),
        ],
        [
            ("th", "Esketamine nasal spray"),
            ("td", "No food for 2 hours before"),
            ("td", "Nothing to drink for 30 minutes before"),
        ],
    ]
    assert "We will tell you the exact times for each appointment" in text
    assert "every 2–8 weeks" in text
    assert "eye mask" in text and "headphones with calming music" in text


def test_the_experience_page_follows_the_clinic_s_own_policy(client, settings):
    settings.CLINIC_POLICY = {
        "scheduling": {"fasting_solids_min": {"iv": 360}, "iv_observation_min": 45}
    }
    page = _read(client.get("/learn/what-to-expect/"))

    assert page.tables["fasting"][1][1] == ("td", "No solid food for 6 hours before")
    assert page.tables["fasting"][2][1] == ("td", "No solid food for 4 hours before")
    assert "at least 45 minutes after an infusion ends" in _text(
        client.get("/learn/what-to-expect/")
    )


def test_the_safety_page_covers_side_effects_and_who_should_not_have_it(client):
    text = _text(client.get("/learn/safety/"))

    for fact in (
        "Dissociation",
        "Higher blood pressure and heart rate",
        "Nausea",
        "Dizziness or blurred vision",
        "Temporary confusion",
        "Bladder problems",
        "Tolerance",
        "Psychological dependence",
        "high blood pressure that is not under control",
        "certain heart conditions",
        "a history of psychosis",
        "trained professionals",
    ):
        assert fact in text, fact


def test_the_insurance_page_explains_coverage_superbills_and_what_to_ask(client):
    response = client.get("/learn/insurance-and-cost/")
    page = _read(response)
    text = _text(response)

    assert _sections(page) == [
        "IV ketamine: mostly self-pay",
        "Esketamine (Spravato): usually covered",
        "Superbills: claiming back what you paid",
        "How to check your coverage",
    ]
    assert "out-of-network" in text and "prior authorization" in text
    assert "$" not in text  # no prices invented


# --- Sources -----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", list(STATIC_PAGES))
def test_every_citation_points_at_an_entry_of_the_page_s_numbered_sources(client, url):
    response = client.get(url)
    page = _read(response)
    body = response.content.decode()

    cited = {href[len("#source-") :] for _, href in page.links if href.startswith("#source-")}
    listed = {i[len("source-") :] for i in page.ids if i.startswith("source-")}
    if url == "/learn/":
        assert cited == listed == set()
        return
    assert "Sources" in page.headings["h2"]
    assert cited == listed == {str(n) for n in range(1, len(listed) + 1)}
    assert re.search(r'<ol>\s*<li id="source-1">', body)


def test_the_safety_page_cites_the_asa_and_fda_warnings_as_given(client):
    text = _text(client.get("/learn/safety/"))

    # clinical-reference.md §11, [A16] and [A17].
    assert (
        "American Society of Anesthesiologists, ketamine safe-use guidance (Feb 2025) — "
        "https://asahq.org/advocating-for-you/guidance/ketamine-safe-use [A16]"
    ) in text
    assert (
        "FDA 10 Oct 2023 warning on compounded ketamine for psychiatric disorders and FDA 16 Feb "
        "2022 alert on compounded nasal ketamine"
    ) in text


def test_source_references_are_those_of_the_clinical_reference():
    assert SOURCES["A14"].reference == (
        "Swainson J et al. CANMAT task force recommendations for esketamine and racemic ketamine "
        "in adults with MDD. Can J Psychiatry 2021;66(2):113"
    )
    assert SOURCES["A14"].urls == ("http://pubmed.ncbi.nlm.nih.gov/33174760/",)
    assert SOURCES["C15"].urls == (
        "https://spravatorems.com",
        "https://www.spravatorems.com/outpatient-hcs.html",
        "https://www.spravatorems.com/inpatient-hcs.html",
        "https://www.spravatorems.com/patients.html",
    )
    assert SOURCES["C14"].urls == ()


def test_citations_are_numbered_in_order_of_first_use_and_refuse_unknown_keys():
    citations = Citations()

    assert [citations.number(k) for k in ("C2", "A1", "C2", "PE")] == [1, 2, 1, 3]
    assert [(n, s.key) for n, s in citations] == [(1, "C2"), (2, "A1"), (3, "PE")]
    with pytest.raises(KeyError):
        citations.number("Z99")


@pytest.mark.parametrize(
    ("minutes", "words"),
    [
        (240, "4 hours"),
        (120, "2 hours"),
        (60, "1 hour"),
        (90, "1 hour 30 minutes"),
        (30, "30 minutes"),
        (1, "1 minute"),
        (0, "0 minutes"),
    ],
)
def test_durations_are_said_in_plain_words(minutes, words):
    assert duration_words(minutes) == words


def test_templates_cite_only_known_sources():
    templates = Path(__file__).resolve().parents[1] / "templates" / "public_site"
    keys = set()
    for template in templates.glob("*.html"):
        for tag in re.findall(r"{%\s*cite ([^%]+)%}", template.read_text()):
            keys.update(re.findall(r'"(\w+)"', tag))
    assert keys and keys <= set(SOURCES)
