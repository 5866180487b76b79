"""Self-pay packages: a course sold at one price (six infusions for the price of five, say)
is spread over the sessions it covers, so each session's charge, its superbill and the
account show what that session really cost. Pure: no Django.

Session k of n costs price // n; the cents the division leaves go on the last session, so the
n charges add up to the package price exactly. Within a session, the share is spread over its
lines in proportion to their fee-schedule amounts (rounded down to the cent; the rest goes on
the line with the largest amount), so the codes keep their relative weight on a superbill."""

from __future__ import annotations


def session_share_cents(price_cents: int, sessions: int, number: int) -> int:
    """What session `number` (1..sessions) of a package costs."""
    if sessions < 1 or not 1 <= number <= sessions:
        raise ValueError("a package session's number runs from 1 to its count of sessions")
    base = price_cents // sessions
    return base + (price_cents - base * sessions if number == sessions else 0)


def spread_cents(share_cents: int, list_amounts: list[int]) -> list[int]:
    """The share split over lines in proportion to their list amounts; the parts add up to
    the share. Lines whose list amounts are all zero share it equally."""
    if not list_amounts:
        return []
    total = sum(list_amounts)
    weights = list_amounts if total > 0 else [1] * len(list_amounts)
    weight_total = sum(weights)
    parts = [share_cents * weight // weight_total for weight in weights]
    largest = weights.index(max(weights))
    parts[largest] += share_cents - sum(parts)
    return parts
