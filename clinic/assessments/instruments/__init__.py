"""The validated instruments, by API code. Pure Python: nothing here imports Django.

`REGISTRY` maps each code of calculators.md §1 to its Instrument; `get_instrument(code)`
raises KeyError for an unknown code.
"""

from __future__ import annotations

from clinic.assessments.instruments import (
    cadss,
    cssrs_screen,
    gad7,
    madrs,
    moaas,
    modified_aldrete,
    pcl5,
    phq9,
    qids_sr16,
)
from clinic.assessments.instruments.base import (
    DEFAULT_POLICY,
    Answer,
    AnswerError,
    Instrument,
    ScoreResult,
    ScoringPolicy,
)

REGISTRY: dict[str, Instrument] = {
    module.INSTRUMENT.code: module.INSTRUMENT
    for module in (
        phq9,
        gad7,
        pcl5,
        qids_sr16,
        madrs,
        cadss,
        cssrs_screen,
        moaas,
        modified_aldrete,
    )
}

ALL_CODES: tuple[str, ...] = tuple(REGISTRY)


def get_instrument(code: str) -> Instrument:
    """The instrument with this API code; KeyError when there is none."""
    try:
        return REGISTRY[code]
    except KeyError:
        raise KeyError(f"Unknown instrument {code!r}; known: {', '.join(ALL_CODES)}.") from None


__all__ = [
    "ALL_CODES",
    "DEFAULT_POLICY",
    "REGISTRY",
    "Answer",
    "AnswerError",
    "Instrument",
    "ScoreResult",
    "ScoringPolicy",
    "get_instrument",
]
