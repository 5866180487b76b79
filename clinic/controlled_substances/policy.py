"""The clinic's controlled-substance policy, and the business-day arithmetic of its deadlines.

Read from `settings.CLINIC_POLICY["controlled_substances"]` (a dict with any of the keys of
ControlledSubstancePolicy); anything not set keeps the default below. Defaults and sources come
from docs/clinical/policy-defaults.md ("Controlled substances") and clinical-reference.md §10;
the source keys ([J4], [J7], ...) are those of clinical-reference.md §11.

Federal values are floors: a clinic may keep records longer, take inventories more often and
report sooner, never the other way round. The waste witness itself is not a setting: ADR 0007
(and architecture rule 7) make it required; the clinic chooses which roles count as licensed.

Business days are Monday to Friday, less the dates the clinic lists in `non_business_days`
(e.g. federal holidays, as ISO dates). The references give no holiday calendar, so the list is
empty until the clinic sets it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field, fields

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from clinic.accounts.choices import Role

SECTION = "controlled_substances"

# Federal floors (clinical-reference §10): the clinic may be stricter, never laxer.
RETENTION_YEARS_FLOOR = 2  # every record kept ≥ 2 years from its date, 21 CFR 1304.04 [J4]
INVENTORY_INTERVAL_YEARS_CEILING = 2  # a new inventory at least every 2 years, 1304.11 [J7]
DEA_NOTICE_BUSINESS_DAYS_CEILING = 1  # theft/loss: notify DEA in writing within 1 business day [J8]
FORM106_DAYS_CEILING = 45  # DEA Form 106 within 45 days of discovery [J9]


@dataclass(frozen=True)
class ControlledSubstancePolicy:
    # Witness for waste: "a second licensed staff member, required" (policy-defaults.md; common
    # state rule, federal text silent [J5], [J6]). Which roles are licensed to witness.
    witness_roles: tuple[str, ...] = (Role.PRESCRIBER.value, Role.NURSE.value)
    # Count reconciliation at the end of each clinic day (policy-defaults.md, clinic policy).
    daily_count_required: bool = True
    # Initial inventory, then at least every 2 years, 21 CFR 1304.11 [J7].
    inventory_interval_years: int = INVENTORY_INTERVAL_YEARS_CEILING
    # Records kept at least 2 years, readily retrievable, 21 CFR 1304.04 [J4].
    retention_years: int = RETENTION_YEARS_FLOOR
    # Theft or significant loss: DEA notified within 1 business day [J8]; Form 106 within 45
    # days [J9].
    dea_notice_business_days: int = DEA_NOTICE_BUSINESS_DAYS_CEILING
    form106_days: int = FORM106_DAYS_CEILING
    # Dates that are not business days (holidays): none by default, the clinic lists them.
    non_business_days: frozenset[datetime.date] = field(default_factory=frozenset)
    # The clinic's own DEA registration number, printed on inspector exports. Clinic data.
    registrant_dea_number: str = ""

    def is_business_day(self, day: datetime.date) -> bool:
        return day.weekday() < 5 and day not in self.non_business_days

    def business_days_after(self, day: datetime.date, count: int) -> datetime.date:
        """The `count`-th business day after `day` (a Friday's first is the Monday)."""
        current = day
        remaining = count
        while remaining > 0:
            current += datetime.timedelta(days=1)
            if self.is_business_day(current):
                remaining -= 1
        return current

    def dea_notice_due_on(self, discovered_on: datetime.date) -> datetime.date:
        return self.business_days_after(discovered_on, self.dea_notice_business_days)

    def form106_due_on(self, discovered_on: datetime.date) -> datetime.date:
        return discovered_on + datetime.timedelta(days=self.form106_days)

    def next_inventory_due_on(self, last_inventory_on: datetime.date) -> datetime.date:
        """The last day for the next inventory: `inventory_interval_years` after the last."""
        years = self.inventory_interval_years
        try:
            return last_inventory_on.replace(year=last_inventory_on.year + years)
        except ValueError:  # 29 February in a year that has none: the day before
            return last_inventory_on.replace(year=last_inventory_on.year + years, day=28)


def _problem(key: str, message: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"CLINIC_POLICY[{SECTION!r}][{key!r}] {message}")


def _whole(key: str, value, *, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise _problem(key, f"must be a whole number ≥ {low}; got {value!r}.")
    if high is not None and value > high:
        raise _problem(key, f"cannot be more than the federal {high}; got {value!r}.")
    return value


def controlled_substance_policy() -> ControlledSubstancePolicy:
    """The ControlledSubstancePolicy for this clinic: settings over defaults, checked."""
    chosen = dict((getattr(settings, "CLINIC_POLICY", None) or {}).get(SECTION) or {})
    known = {f.name for f in fields(ControlledSubstancePolicy)}
    unknown = sorted(set(chosen) - known)
    if unknown:
        raise ImproperlyConfigured(
            f"CLINIC_POLICY[{SECTION!r}] has unknown keys: {unknown}. Known: {sorted(known)}."
        )
    if "witness_roles" in chosen:
        roles = tuple(str(r) for r in chosen["witness_roles"])
        allowed = {Role.PRESCRIBER.value, Role.NURSE.value}
        if not roles or set(roles) - allowed:
            raise _problem(
                "witness_roles", f"must name licensed clinical roles among {sorted(allowed)}."
            )
        chosen["witness_roles"] = roles
    if "daily_count_required" in chosen and not isinstance(chosen["daily_count_required"], bool):
        raise _problem("daily_count_required", "must be True or False.")
    if "inventory_interval_years" in chosen:
        _whole(
            "inventory_interval_years",
            chosen["inventory_interval_years"],
            low=1,
            high=INVENTORY_INTERVAL_YEARS_CEILING,
        )
    if "retention_years" in chosen:
        _whole("retention_years", chosen["retention_years"], low=RETENTION_YEARS_FLOOR)
    if "dea_notice_business_days" in chosen:
        _whole(
            "dea_notice_business_days",
            chosen["dea_notice_business_days"],
            low=1,
            high=DEA_NOTICE_BUSINESS_DAYS_CEILING,
        )
    if "form106_days" in chosen:
        _whole("form106_days", chosen["form106_days"], low=1, high=FORM106_DAYS_CEILING)
    if "non_business_days" in chosen:
        days = set()
        for value in chosen["non_business_days"]:
            try:
                days.add(
                    value
                    if isinstance(value, datetime.date)
                    else datetime.date.fromisoformat(str(value))
                )
            except ValueError as error:
                raise _problem(
                    "non_business_days", f"has a date that is not ISO: {value!r}."
                ) from (error)
        chosen["non_business_days"] = frozenset(days)
    if "registrant_dea_number" in chosen:
        chosen["registrant_dea_number"] = str(chosen["registrant_dea_number"]).strip().upper()
    return ControlledSubstancePolicy(**chosen)
