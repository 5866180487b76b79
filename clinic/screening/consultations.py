"""Moved: consultation requests' writes are in `screening.services`, their reads in
`screening.selectors`. Other apps still import these names from here."""

from clinic.screening.selectors import (
    consultation_status_counts,  # re-export: remove after the renovation
)
from clinic.screening.services import (
    consultation_request_create,  # re-export: remove after the renovation
)

__all__ = ["consultation_request_create", "consultation_status_counts"]
