"""Reading an X12 835 remittance advice (ASC X12 005010X221A1, "Health Care Claim Payment/
Advice"): what a payer paid, on which claims, and why the rest was not paid. Pure: no Django.

Only what posting needs is read:
- BPR: the payment's total (BPR02), how it was paid (BPR04: ACH, CHK, NON for no payment) and
  its date (BPR16, CCYYMMDD);
- TRN: the check or EFT trace number (TRN02);
- N1*PR: the payer's name;
- per claim (loop 2100): CLP01 the patient control number (our claim number, sent as CLM01),
  CLP02 the claim status, CLP03 the amount charged, CLP04 the amount paid, CLP05 the
  patient's responsibility, CLP07 the payer's claim control number; and the CAS adjustments of
  the claim and its service lines (loop 2110), as group code, reason code and amount.

Claim status codes (CLP02), from the implementation guide: 1, 2, 3 processed as primary,
secondary, tertiary; 4 denied; 19, 20, 21 processed as primary, secondary, tertiary and
forwarded to another payer; 22 reversal of a previous payment; 23 not our claim, forwarded;
25 predetermination only. Adjustment group codes (CAS01): CO contractual obligation, CR
correction, OA other, PI payer-initiated reduction, PR patient responsibility. The reason
codes (CAS02) are the published Claim Adjustment Reason Codes, kept as given."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

PROCESSED = {"1", "2", "3", "19", "20", "21"}
DENIED = {"4"}
STATUS_WORDS = {
    "1": "processed as primary",
    "2": "processed as secondary",
    "3": "processed as tertiary",
    "4": "denied",
    "19": "processed as primary, forwarded",
    "20": "processed as secondary, forwarded",
    "21": "processed as tertiary, forwarded",
    "22": "reversal of a previous payment",
    "23": "not our claim, forwarded",
    "25": "predetermination only",
}
GROUP_CODES = {"CO", "CR", "OA", "PI", "PR"}


class RemittanceError(ValueError):
    """The file is not an 835 this reader can post from; the message says why."""


@dataclass(frozen=True)
class Adjustment:
    group: str  # CO, CR, OA, PI, PR
    reason: str  # a Claim Adjustment Reason Code
    cents: int  # negative undoes an earlier adjustment


@dataclass
class ClaimPayment:
    patient_control_number: str
    status_code: str
    charged_cents: int
    paid_cents: int
    patient_responsibility_cents: int
    payer_claim_number: str
    adjustments: list[Adjustment] = field(default_factory=list)

    @property
    def status_words(self) -> str:
        return STATUS_WORDS.get(self.status_code, f"status {self.status_code}")

    def adjusted_cents(self, groups: set[str]) -> int:
        return sum(a.cents for a in self.adjustments if a.group in groups)


@dataclass
class Remittance:
    payer_name: str
    paid_cents: int
    method: str  # BPR04: ACH, CHK, NON, ...
    paid_on: datetime.date | None
    trace_number: str
    claims: list[ClaimPayment] = field(default_factory=list)


def _cents(value: str, where: str) -> int:
    try:
        amount = Decimal(value or "0")
    except InvalidOperation as error:
        raise RemittanceError(f"{where}: {value!r} is not an amount.") from error
    return int((amount * 100).to_integral_value())


def _date(value: str, where: str) -> datetime.date | None:
    if not value:
        return None
    try:
        return datetime.datetime.strptime(value, "%Y%m%d").date()
    except ValueError as error:
        raise RemittanceError(f"{where}: {value!r} is not a date (CCYYMMDD).") from error


def _segments(text: str) -> list[list[str]]:
    text = text.lstrip("\ufeff").strip()
    if not text.startswith("ISA") or len(text) < 106:
        raise RemittanceError("Not an X12 file: it does not begin with an ISA segment.")
    element = text[3]
    terminator = text[105]
    rows = []
    for raw in text.split(terminator):
        raw = raw.strip("\r\n ")
        if raw:
            rows.append(raw.split(element))
    return rows


def _at(segment: list[str], index: int) -> str:
    return segment[index].strip() if len(segment) > index else ""


def parse_835(text: str) -> Remittance:
    segments = _segments(text)
    if not any(s[0] == "ST" and _at(s, 1) == "835" for s in segments):
        raise RemittanceError("Not a remittance: the file has no ST*835 transaction.")
    remittance = Remittance(payer_name="", paid_cents=0, method="", paid_on=None, trace_number="")
    current: ClaimPayment | None = None
    in_payer_name = False
    for segment in segments:
        tag = segment[0]
        if tag == "BPR":
            remittance.paid_cents = _cents(_at(segment, 2), "BPR02")
            remittance.method = _at(segment, 4)
            remittance.paid_on = _date(_at(segment, 16), "BPR16")
        elif tag == "TRN":
            remittance.trace_number = _at(segment, 2)
        elif tag == "N1":
            in_payer_name = _at(segment, 1) == "PR"
            if in_payer_name:
                remittance.payer_name = _at(segment, 2)
        elif tag == "CLP":
            current = ClaimPayment(
                patient_control_number=_at(segment, 1),
                status_code=_at(segment, 2),
                charged_cents=_cents(_at(segment, 3), "CLP03"),
                paid_cents=_cents(_at(segment, 4), "CLP04"),
                patient_responsibility_cents=_cents(_at(segment, 5), "CLP05"),
                payer_claim_number=_at(segment, 7),
            )
            if not current.patient_control_number:
                raise RemittanceError("A CLP segment has no patient control number (CLP01).")
            remittance.claims.append(current)
        elif tag == "CAS" and current is not None:
            group = _at(segment, 1)
            if group not in GROUP_CODES:
                raise RemittanceError(f"CAS01: {group!r} is not an adjustment group code.")
            # Up to six (reason, amount, quantity) triples follow the group code.
            for start in range(2, min(len(segment), 20), 3):
                reason = _at(segment, start)
                if reason:
                    cents = _cents(_at(segment, start + 1), "CAS amount")
                    current.adjustments.append(Adjustment(group, reason, cents))
        elif tag in ("PLB", "SE"):
            current = None
    if remittance.paid_on is None:
        raise RemittanceError("BPR16: the payment has no date.")
    return remittance
