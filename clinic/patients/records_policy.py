"""How long the clinic takes to answer a request for a copy of a patient's record.

Read from `settings.CLINIC_POLICY["records_requests"]` (any of RecordsRequestPolicy's fields).

Source: the HIPAA Privacy Rule's right of access, 45 CFR 164.524(b)(2)(i): a covered entity
must act on a request for access no later than 30 days after receiving it. (b)(2)(ii): if it
cannot, it may extend that time once, by no more than 30 days, provided that within the first
30 days it gives the individual a written statement of the reasons for the delay and the date
by which it will act. A clinic may promise less (some states require less); it may not set
more than the rule's days.
"""

from __future__ import annotations

from dataclasses import dataclass

from clinic.core.policy import policy_with_overrides

SECTION = "records_requests"
RULE_DAYS = 30  # 45 CFR 164.524(b)(2)(i)
RULE_EXTENSION_DAYS = 30  # 45 CFR 164.524(b)(2)(ii): "no more than 30 days", once


@dataclass(frozen=True)
class RecordsRequestPolicy:
    days_to_act: int = RULE_DAYS
    # From how many days before its due date a request shows as "due soon" on the front
    # desk's and the administrator's home. Operational: no published source.
    due_soon_days: int = 7
    # How many days the one extension adds to the first due date (at most the rule's 30).
    extension_days: int = RULE_EXTENSION_DAYS

    def __post_init__(self):
        for name in ("days_to_act", "due_soon_days", "extension_days"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number, 1 or more.")
        if self.days_to_act > RULE_DAYS:
            raise ValueError(
                f"days_to_act may not be more than {RULE_DAYS} (45 CFR 164.524(b)(2)(i))."
            )
        if self.extension_days > RULE_EXTENSION_DAYS:
            raise ValueError(
                f"extension_days may not be more than {RULE_EXTENSION_DAYS} "
                "(45 CFR 164.524(b)(2)(ii))."
            )


DEFAULT_POLICY = RecordsRequestPolicy()


def records_request_policy() -> RecordsRequestPolicy:
    return policy_with_overrides(SECTION, DEFAULT_POLICY)
