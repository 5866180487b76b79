# ruff: noqa: E501 -- references are kept verbatim from clinical-reference.md §11, one per line.
"""The sources the public education pages cite, and the numbered list each page shows.

Each entry is a source key of clinical-reference.md §11 (docs/clinical), with its reference
and URLs exactly as given there. One more entry, "PE", stands for the two patient-education
articles the clinic's service was commissioned from (seed-facts.md): the typical figures they
give (response rates, evidence levels, timings) summarise published research and are not the
result of any single study, which the page says.

A page cites with `{% cite "A1" "A2" %}` (templatetags/learn.py); the sources list at the
foot of the page numbers them in the order they are first cited. Pure Python: no Django.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    key: str
    reference: str
    urls: tuple[str, ...] = ()
    note: str = ""


def _source(key: str, reference: str, *urls: str, note: str = "") -> Source:
    return Source(key=key, reference=reference, urls=tuple(urls), note=note)


FOUNDING_ARTICLES = _source(
    "PE",
    "The two patient-education articles on ketamine therapy this clinic's service was "
    "commissioned from. Their figures are typical ranges summarising published research, "
    "not the result of a single study.",
)

_SOURCES = (
    FOUNDING_ARTICLES,
    _source(
        "A1",
        "Andrade C. Ketamine for depression, 1: clinical summary of issues related to efficacy, adverse effects, and mechanism of action. J Clin Psychiatry 2017;78:e852",
        "https://legacy.psychiatrist.com/?p=10106",
    ),
    _source(
        "A2",
        "Fava M et al. Double-blind, placebo-controlled, dose-ranging trial of IV ketamine as adjunctive therapy in TRD. Mol Psychiatry 2020",
        "https://www.nature.com/articles/s41380-018-0256-5",
    ),
    _source(
        "A5",
        "Secondary summary of Sanacora et al. 2017 APA consensus",
        "https://www.lopezpsychiatry.com/use-of-ketamine/",
    ),
    _source(
        "A7",
        "Andrade C. Ketamine for depression, 5: potential pharmacokinetic and pharmacodynamic drug interactions. J Clin Psychiatry 2017;78(7)",
        "https://www.psychiatrist.com/JCP/article/Pages/2017/v78n07/17f11802.aspx",
    ),
    _source(
        "A8",
        "Frontiers in Psychiatry 2020 (benzodiazepine dose and ketamine response)",
        "https://www.frontiersin.org/articles/10.3389/fpsyt.2020.00844/full",
    ),
    _source(
        "A9",
        "Murrough JW et al. Rapid and longer-term antidepressant effects of repeated ketamine infusions in TRD. Biol Psychiatry 2013",
        "https://research.rug.nl/nl/publications/rapid-and-longer-term-antidepressant-effects-of-repeated-ketamine",
    ),
    _source(
        "A10",
        "Anand A et al. Ketamine versus ECT for nonpsychotic TRD (ELEKT-D). NEJM 2023",
        "https://pubmed.ncbi.nlm.nih.gov/37224232/",
    ),
    _source(
        "A12",
        "KARMA-Dep 2 news summary (JAMA Psychiatry 2025)",
        "https://particle.news/story/blinded-trial-finds-no-added-benefit-from-repeated-ketamine-infusions-for-hospitalized-depression",
        note="(also HealthDay; URL not retained)",
    ),
    _source(
        "A13",
        "Sanacora G et al. A consensus statement on the use of ketamine in the treatment of mood disorders. JAMA Psychiatry 2017;74(4):399–405",
        "https://jamanetwork.com/journals/jamapsychiatry/article-abstract/2605202",
    ),
    _source(
        "A14",
        "Swainson J et al. CANMAT task force recommendations for esketamine and racemic ketamine in adults with MDD. Can J Psychiatry 2021;66(2):113",
        "http://pubmed.ncbi.nlm.nih.gov/33174760/",
    ),
    _source(
        "A16",
        "American Society of Anesthesiologists, ketamine safe-use guidance (Feb 2025)",
        "https://asahq.org/advocating-for-you/guidance/ketamine-safe-use",
    ),
    _source(
        "A17",
        "FDA 10 Oct 2023 warning on compounded ketamine for psychiatric disorders and FDA 16 Feb 2022 alert on compounded nasal ketamine",
        note="read via simhcottumwa.org and scrippsnews.com summaries (URLs not retained)",
    ),
    _source(
        "B1",
        "Chilukuri H et al. 2014 (IV vs IM ketamine)",
        "https://pubmed.ncbi.nlm.nih.gov/24701015/",
    ),
    _source(
        "B2",
        "Ketamine pharmacokinetics summary (citing Clements 1982)",
        "https://primidi.com/ketamine/pharmacokinetics",
    ),
    _source(
        "B4",
        "Yanagihara Y et al. 2003 (bioavailability by route) via gpsych.bmj.com reference page (URL not retained)",
    ),
    _source(
        "B5",
        "Chong C et al. (SL/oral bioavailability)",
        "https://www.ketamine.com/bioavailability.html",
    ),
    _source(
        "B9",
        "Hull TD et al. 2022, at-home sublingual ketamine telehealth (Mindbloom) and related cohorts",
        "https://www.moreblossom.com/trials/drozdz-2022-sublingual-ketamine-telehealth-retrospective",
    ),
    _source(
        "C2",
        "Spravato HCP dosing & administration (TRD)",
        "https://www.spravatohcp.com/dosing-and-administration",
    ),
    _source(
        "C3",
        "Spravato patient site (spravato.com; food/liquid, nasal-steroid, driving instructions) (exact URL not retained)",
    ),
    _source(
        "C6",
        "Spravato HCP MDSI dosing",
        "https://www.spravatohcp.com/mdsi/dosing-and-administration",
    ),
    _source(
        "C8",
        "US Medicine, esketamine BP data",
        "https://www.usmedicine.com/2021online-dir/inc/html/33.html",
    ),
    _source(
        "C9",
        "Spravato US PI (mirror), W&P 5.1–5.3",
        "http://www.120ty.net/bencandy.php?aid=58243&fid=134&page=5",
    ),
    _source(
        "C10",
        "FDA REMS@FDA, Spravato REMS",
        "https://www.accessdata.fda.gov/scripts/cder/rems/index.cfm?event=IndvRemsDetails.page&REMS=386",
    ),
    _source(
        "C11",
        "Spravato US PI (mirror), contraindications/special populations",
        "http://www.120ty.net/bencandy.php?aid=58243&fid=134&page=2",
    ),
    _source(
        "C12",
        "Spravato US PI (mirror), hepatic impairment",
        "http://www.120ty.net/bencandy.php?aid=58243&fid=134&page=14",
    ),
    _source(
        "C13",
        "CMS billing article A59250 (label update 10/18/2023, respiratory depression) (URL not retained)",
    ),
    _source("C14", "Spravato Medication Guide (joomag copy; URL not retained)"),
    _source(
        "C15",
        "Spravato REMS site",
        "https://spravatorems.com",
        "https://www.spravatorems.com/outpatient-hcs.html",
        "https://www.spravatorems.com/inpatient-hcs.html",
        "https://www.spravatorems.com/patients.html",
    ),
    _source(
        "C17",
        'Monotherapy approval coverage (hcn.health "Spravato approved as monotherapy" trends story; iamaimed; bespoketreatment; openminds) (URLs not retained)',
    ),
    _source(
        "D3",
        "Zanos P et al. Ketamine and ketamine metabolite pharmacology. Pharmacol Rev 2018, Table 1",
        "https://pmc.ncbi.nlm.nih.gov/articles/PMC6020109/table/T1/",
    ),
    _source(
        "E6",
        "Yale retrospective haemodynamics study, Gen Hosp Psychiatry 2024, PMID 38991311",
        "https://pubmed.ncbi.nlm.nih.gov/38991311/",
        note="(read via litmetric)",
    ),
    _source(
        "E11",
        "Clinic pre/post-treatment instruction pages: amg-ketamine, newlifeketamine, changepain, ketwell, nervanamedical (URLs not retained)",
    ),
    _source(
        "E12",
        "ASA fasting guideline summary (Kaiser Permanente page; neetpgai) (URLs not retained)",
    ),
    _source(
        "H1",
        "Daly EJ et al. SUSTAIN-1, JAMA Psychiatry 2019;76(9):893–903",
        "https://pmc.ncbi.nlm.nih.gov/articles/PMC6551577",
    ),
    _source(
        "H2",
        "Murrough JW et al. Antidepressant efficacy of ketamine in TRD: a two-site RCT. Am J Psychiatry 2013 (PMID 23982301)",
        "https://www.scribd.com/document/143076815/Ketamine-Abstract",
        "https://vdocuments.pub/ni-hms-572203.html",
    ),
    _source(
        "H5",
        "Newport DJ et al. Ketamine and other NMDA antagonists: meta-analysis. Am J Psychiatry 2015",
        "https://www.doi.org/10.1176/APPI.AJP.2015.15040465",
    ),
    _source(
        "H6",
        "Kishimoto T et al. Psychol Med 2016 meta-analysis",
        "https://pmc.ncbi.nlm.nih.gov/articles/PMC5116384",
    ),
    _source("I5", 'Osmind, "Spravato J-code"', "https://www.osmind.org/blog/spravato-j-code"),
    _source(
        "I6", "UnitedHealthcare esketamine policy (via openpayer); neolytix (URLs not retained)"
    ),
    _source("I7", "Highmark esketamine medical policy ICD-10 list (URL not retained)"),
)

SOURCES: dict[str, Source] = {source.key: source for source in _SOURCES}


class Citations:
    """The sources one page cites, numbered in the order of their first citation."""

    def __init__(self) -> None:
        self._keys: list[str] = []

    def number(self, key: str) -> int:
        """The number of `key` on this page; an unknown key is a mistake in the page."""
        if key not in SOURCES:
            raise KeyError(f"Unknown source key {key!r}: add it to clinic/public_site/sources.py.")
        if key not in self._keys:
            self._keys.append(key)
        return self._keys.index(key) + 1

    def __iter__(self) -> Iterator[tuple[int, Source]]:
        return ((number, SOURCES[key]) for number, key in enumerate(self._keys, start=1))

    def __len__(self) -> int:
        return len(self._keys)
