"""The public education pages: one entry per page, in the order of the public navigation.

The name is the URL name in the `learn` namespace and the template is
`public_site/learn_<name>.html`; the title is the page's one h1. Pure Python: no Django.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    title: str
    nav_label: str
    summary: str

    @property
    def url_name(self) -> str:
        return f"learn:{self.name}"

    @property
    def template(self) -> str:
        return f"public_site/learn_{self.name}.html"


PAGES: tuple[Page, ...] = (
    Page(
        "ketamine_therapy",
        "ketamine-therapy/",
        "What ketamine therapy is and how it works",
        "Ketamine therapy",
        "A different kind of antidepressant: what it does in the brain and why it can work fast.",
    ),
    Page(
        "conditions",
        "conditions/",
        "Conditions we treat",
        "Conditions",
        "Depression that has not responded to treatment, PTSD, anxiety, chronic pain and more, "
        "with the strength of the evidence for each.",
    ),
    Page(
        "routes",
        "treatment-options/",
        "Four ways to receive ketamine",
        "Treatment options",
        "IV infusion, injection, esketamine nasal spray and at-home tablets: what each involves.",
    ),
    Page(
        "experience",
        "what-to-expect/",
        "What to expect, step by step",
        "What to expect",
        "From the first safety screening to preparation, the session, recovery, integration "
        "and maintenance.",
    ),
    Page(
        "safety",
        "safety/",
        "Safety and side effects",
        "Safety",
        "Side effects in the short and long term, who should not have ketamine, and how we "
        "keep you safe.",
    ),
    Page(
        "insurance",
        "insurance-and-cost/",
        "Insurance and cost",
        "Insurance & cost",
        "What insurance usually covers, what a superbill is, and what to ask your insurer.",
    ),
    Page(
        "faq",
        "faq/",
        "Frequently asked questions",
        "FAQ",
        "How long relief lasts, how many sessions, driving, side effects, and more.",
    ),
)

PAGES_BY_NAME: dict[str, Page] = {page.name: page for page in PAGES}

# The topic index at /learn/ (not in the navigation: the home page lists the topics too).
INDEX_TITLE = "Learn about ketamine therapy"
