"""Moved: intake's writes are in `screening.services`, its reads in `screening.selectors`.
Other apps' tests still import these names from here."""

from clinic.screening.services import (
    intake_link_create,  # re-export: remove after the renovation
    intake_save,  # re-export: remove after the renovation
    intake_start,  # re-export: remove after the renovation
)

__all__ = ["intake_link_create", "intake_save", "intake_start"]
