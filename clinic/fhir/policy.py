"""The clinic's policy for records that leave by FHIR Bulk Data export: how long the files of a
finished export stay downloadable.

Read from `settings.CLINIC_POLICY["bulk_export"]` (a dict with any of the fields of
BulkExportPolicy); anything not set keeps the default below. No published source: the Bulk Data
IG leaves expiry to the server (its manifest's files may be deleted "after a period of time"), so
this is an operational choice. The default, a day, lets a client that polls at intervals (or
overnight) fetch what it asked for, while a second copy of patients' records does not outlive
the transfer by more than that; `manage.py expire_bulk_exports` deletes the files after it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from clinic.core.policy import policy_with_overrides

SECTION = "bulk_export"


@dataclass(frozen=True)
class BulkExportPolicy:
    # Hours from an export's end until its files are gone: 1 to 168 (a week).
    download_valid_hours: int = 24

    def __post_init__(self) -> None:
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 168:
                raise ValueError(f"{item.name} must be a whole number of hours from 1 to 168.")


DEFAULT_POLICY = BulkExportPolicy()


def bulk_export_policy() -> BulkExportPolicy:
    """The policy in force: the default with `CLINIC_POLICY["bulk_export"]` applied."""
    return policy_with_overrides(SECTION, DEFAULT_POLICY)
