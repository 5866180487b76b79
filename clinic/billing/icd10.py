"""ICD-10-CM codes for the problem list: validation, billable leaves, search, suggestions.

Pure (no Django). The code set is the full CMS ICD-10-CM tabular shipped inside the maintained
`simple-icd-10-cm` package (April 2026 release: FY2026 with its April update), never a
hand-typed list. Only billable codes may be recorded: a category or subcategory with no
children (a "leaf"); a header such as F33 or Z91.5 is refused with the codes under it
(docs/clinical/billing.md §3, §7 rule 5). F42.0 and F42.1 are WHO ICD-10 codes that ICD-10-CM
does not have; some US sites still list them [P25], so they are refused with that reason.

Loading the tabular takes about 2.5 s, so it happens on first use, once per process.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from types import ModuleType

CODE_SET = "ICD-10-CM April 2026"
# Letter, two characters, then up to four more after the dot (dots and case are forgiven).
CODE_SHAPE = re.compile(r"[A-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?")
SEARCH_LIMIT = 20

# WHO ICD-10 codes mistaken for ICD-10-CM ones [P25]: the reason is the answer.
WHO_ONLY = {
    "F42.0": (
        "F42.0 is a WHO ICD-10 code that ICD-10-CM does not have. For obsessive-compulsive "
        "disorder use F42.2 (mixed obsessional thoughts and acts), F42.8 (other) or F42.9 "
        "(unspecified)."
    ),
    "F42.1": (
        "F42.1 is a WHO ICD-10 code that ICD-10-CM does not have. For obsessive-compulsive "
        "disorder use F42.2 (mixed obsessional thoughts and acts), F42.8 (other) or F42.9 "
        "(unspecified)."
    ),
}

# What the intake's indication suggests (docs/clinical/billing.md §3, clinical-reference.md
# §9.2). A suggestion, never an entry: the prescriber picks the code that fits the episode.
# Treatment-resistant depression has no code of its own: MDD codes with the documented trials.
SUGGESTED_FOR_INDICATION: dict[str, tuple[str, ...]] = {
    "treatment_resistant_depression": ("F33.1", "F33.2", "F32.1", "F32.2"),
    "depression_with_suicidal_ideation": ("F33.2", "F32.2", "R45.851"),
    "major_depression": ("F33.1", "F33.2", "F32.1", "F32.2", "F32.9"),
    "ptsd": ("F43.10", "F43.12"),
    "generalized_anxiety": ("F41.1",),
    "social_anxiety": ("F40.10", "F40.11"),
    "ocd": ("F42.2", "F42.8", "F42.9"),
    "bipolar_depression": ("F31.30", "F31.31", "F31.32", "F31.4", "F31.81"),
    "chronic_pain": ("G89.4", "G89.29", "M79.7"),
}


class CodeError(ValueError):
    """The text is not a billable ICD-10-CM code; `message` says why, in the clinic's words."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Icd10Code:
    code: str  # with its dot, as printed on a claim form: "F33.1"
    description: str


@functools.cache
def _code_set() -> ModuleType:
    import simple_icd_10_cm  # ~2.5 s: parses the whole tabular

    return simple_icd_10_cm


def normalized(text: str) -> str:
    """Upper case, no spaces; the dot after the third character put back ("f331" -> "F33.1")."""
    code = re.sub(r"\s+", "", text or "").upper()
    bare = code.replace(".", "")
    return bare if len(bare) <= 3 else f"{bare[:3]}.{bare[3:]}"


def _billable(cm: ModuleType, code: str) -> bool:
    return bool(cm.is_category_or_subcategory(code) and cm.is_leaf(code))


def billable_code(text: str) -> Icd10Code:
    """The billable ICD-10-CM code the text names, or CodeError saying why not."""
    code = normalized(text)
    if not code:
        raise CodeError("Enter an ICD-10-CM code, e.g. F33.1.")
    if code in WHO_ONLY:
        raise CodeError(WHO_ONLY[code])
    if not CODE_SHAPE.fullmatch(code):
        raise CodeError(f"{text.strip()!r} is not shaped like an ICD-10-CM code (e.g. F33.1).")
    cm = _code_set()
    if not cm.is_valid_item(code):
        raise CodeError(f"{code} is not in the ICD-10-CM code set ({CODE_SET}).")
    if not _billable(cm, code):
        below = [c for c in cm.get_descendants(code) if _billable(cm, c)]
        shown = ", ".join(below[:8]) + (", …" if len(below) > 8 else "")
        raise CodeError(
            f"{code} ({cm.get_description(code)}) is a heading, not a billable code. "
            f"Choose a more specific code: {shown}."
        )
    return Icd10Code(code=code, description=cm.get_description(code))


@functools.cache
def _billable_index() -> tuple[tuple[str, str, str], ...]:
    """(code, description, lower-case description) for every billable code, in code order."""
    cm = _code_set()
    return tuple(
        (code, cm.get_description(code), cm.get_description(code).lower())
        for code in cm.get_all_codes(with_dots=True)
        if cm.is_category_or_subcategory(code) and cm.is_leaf(code)
    )


def search(text: str, *, limit: int = SEARCH_LIMIT) -> list[Icd10Code]:
    """Billable codes whose code starts with the text, then those whose description holds
    every word of it ("recurrent moderate depress"). Empty text finds nothing."""
    words = (text or "").lower().split()
    if not words:
        return []
    prefix = normalized(text)
    found: list[Icd10Code] = []
    seen: set[str] = set()
    if CODE_SHAPE.fullmatch(prefix) or re.fullmatch(r"[A-Z][0-9]?", prefix):
        for code, description, _ in _billable_index():
            if code.startswith(prefix):
                found.append(Icd10Code(code, description))
                seen.add(code)
                if len(found) >= limit:
                    return found
    for code, description, lowered in _billable_index():
        if code not in seen and all(word in lowered for word in words):
            found.append(Icd10Code(code, description))
            if len(found) >= limit:
                break
    return found


def suggestions(indication: str) -> list[Icd10Code]:
    """The billable codes the intake's indication suggests, with their descriptions."""
    return [billable_code(code) for code in SUGGESTED_FOR_INDICATION.get(indication, ())]
