"""A server-rendered SVG chart of one instrument's course. Pure Python: no Django import.

No JavaScript and no external assets: the SVG is inlined in a page and scales with the width
of its container. The same input always gives the same string (a test checks it), so pages
can be cached and compared. Everything the chart knows arrives as arguments: the severity
bands (so this module does not import the instrument library), the baseline, the clinic's
response percent and remission threshold (from `OutcomePolicy`), and the session dates.

Times are placed by their wall-clock date and time, so convert aware datetimes to the clinic's
time zone before charting; a plain date is placed at its midnight.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from html import escape

When = datetime.datetime | datetime.date

WIDTH = 640
HEIGHT = 240
LEFT = 48  # room for the y-axis labels and title
RIGHT = 112  # room for the band labels
TOP = 14
BOTTOM = 40  # room for the date labels
PLOT_LEFT = LEFT
PLOT_RIGHT = WIDTH - RIGHT
PLOT_TOP = TOP
PLOT_BOTTOM = HEIGHT - BOTTOM

BAND_FILLS = ("#e6f4ea", "#fdf6d8", "#fde8cf", "#fbd9d3", "#f1d3e6", "#e3dcf3")
INK = "#1f2937"
MUTED = "#4b5563"
POINT = "#1d4ed8"
BASELINE_STROKE = "#374151"
RESPONSE_STROKE = "#047857"
REMISSION_STROKE = "#6d28d9"
SESSION_STROKE = "#b45309"
SESSION_TICK = 10  # px: height of a session tick mark above the x axis
MIN_LABEL_GAP = 11  # px between threshold labels, so they never overprint


@dataclass(frozen=True)
class _Line:
    value: float
    label: str
    css_class: str
    stroke: str
    dash: str | None


def course_chart_svg(
    *,
    title: str,
    points: Sequence[tuple[When, int | float]],
    scale_max: int | float,
    bands: Sequence[tuple[str, int | float, int | float]] = (),
    baseline: int | float | None = None,
    response_reduction_percent: Decimal | int | float | None = None,
    remission_threshold: tuple[str, int | float] | None = None,
    session_dates: Sequence[When] = (),
    description: str | None = None,
    y_label: str = "Total",
    chart_id: str = "course-chart",
) -> str:
    """One instrument's course as an SVG string (viewBox 640 × 240, width 100 %).

    - points: (taken_at, total) pairs; drawn in time order as circles joined by a line.
    - scale_max: the instrument's largest total (the top of the y axis; the bottom is 0).
    - bands: severity bands (label, low, high), inclusive integer totals; each is shaded from
      low − 0.5 to high + 0.5 so that a total sits inside its band.
    - baseline: draws a dashed baseline line; with response_reduction_percent, also the
      response threshold line at baseline × (1 − percent / 100).
    - remission_threshold: (comparison, value) with comparison "<", "<=" or "≤"; drawn at value.
    - session_dates: a tick mark above the x axis for each session.
    - description: the accessible <desc>; a plain-text account of the data by default.
    - chart_id: prefix of the ids of <title> and <desc>; unique on a page with several charts.
    """
    ordered = sorted(points, key=lambda point: _days(point[0]))
    sessions = sorted(session_dates, key=_days)
    scale_top = float(scale_max) if scale_max and scale_max > 0 else 1.0
    key = _safe_id(chart_id)

    def y_of(value: float) -> float:
        clamped = min(max(float(value), 0.0), scale_top)
        return PLOT_BOTTOM - clamped / scale_top * (PLOT_BOTTOM - PLOT_TOP)

    times = [_days(when) for when, _ in ordered] + [_days(when) for when in sessions]
    if times:
        low, high = min(times), max(times)
        if high - low < 1:
            middle = (low + high) / 2
            low, high = middle - 1, middle + 1
        pad = (high - low) * 0.04
        low, high = low - pad, high + pad
    else:
        low, high = 0.0, 1.0

    def x_of(when: When) -> float:
        return PLOT_LEFT + (_days(when) - low) / (high - low) * (PLOT_RIGHT - PLOT_LEFT)

    lines = _threshold_lines(baseline, response_reduction_percent, remission_threshold)
    if description is None:
        description = _default_description(title, ordered, lines, sessions, y_label)

    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" preserveAspectRatio="xMidYMid meet" role="img" '
        f'aria-labelledby="{key}-title {key}-desc" class="course-chart" '
        f'font-family="system-ui, sans-serif" font-size="10">',
        f'<title id="{key}-title">{escape(title)}</title>',
        f'<desc id="{key}-desc">{escape(description)}</desc>',
    ]

    # Severity bands, labelled in the right margin.
    out.append('<g class="bands">')
    for index, (label, band_low, band_high) in enumerate(bands):
        top = y_of(float(band_high) + 0.5)
        bottom = y_of(float(band_low) - 0.5)
        fill = BAND_FILLS[index % len(BAND_FILLS)]
        out.append(
            f'<rect class="band" x="{_n(PLOT_LEFT)}" y="{_n(top)}" '
            f'width="{_n(PLOT_RIGHT - PLOT_LEFT)}" height="{_n(bottom - top)}" fill="{fill}">'
            f"<title>{escape(f'{label}: {_v(band_low)}–{_v(band_high)}')}</title></rect>"
        )
        out.append(
            f'<text class="band-label" x="{_n(PLOT_RIGHT + 6)}" y="{_n((top + bottom) / 2 + 3)}" '
            f'fill="{MUTED}">{escape(str(label))}</text>'
        )
    out.append("</g>")

    # Axes, y ticks and the y-axis title.
    out.append(f'<g class="axes" stroke="{MUTED}" stroke-width="1">')
    out.append(
        f'<line x1="{_n(PLOT_LEFT)}" y1="{_n(PLOT_TOP)}" '
        f'x2="{_n(PLOT_LEFT)}" y2="{_n(PLOT_BOTTOM)}"/>'
    )
    out.append(
        f'<line x1="{_n(PLOT_LEFT)}" y1="{_n(PLOT_BOTTOM)}" '
        f'x2="{_n(PLOT_RIGHT)}" y2="{_n(PLOT_BOTTOM)}"/>'
    )
    out.append("</g>")
    out.append(f'<g class="y-ticks" fill="{MUTED}" text-anchor="end">')
    for value in _y_ticks(scale_top):
        out.append(f'<text x="{_n(PLOT_LEFT - 6)}" y="{_n(y_of(value) + 3)}">{_v(value)}</text>')
    out.append("</g>")
    middle_y = (PLOT_TOP + PLOT_BOTTOM) / 2
    out.append(
        f'<text class="y-label" x="12" y="{_n(middle_y)}" fill="{INK}" text-anchor="middle" '
        f'transform="rotate(-90 12 {_n(middle_y)})">{escape(y_label)}</text>'
    )

    # Date labels on the x axis.
    out.append(f'<g class="x-ticks" fill="{MUTED}" text-anchor="middle">')
    if times:
        for day in _x_tick_days(low, high):
            x = x_of(day)
            out.append(
                f'<line x1="{_n(x)}" y1="{_n(PLOT_BOTTOM)}" x2="{_n(x)}" '
                f'y2="{_n(PLOT_BOTTOM + 4)}" stroke="{MUTED}"/>'
            )
            out.append(f'<text x="{_n(x)}" y="{_n(PLOT_BOTTOM + 16)}">{day.isoformat()}</text>')
    out.append(
        f'<text class="x-label" x="{_n((PLOT_LEFT + PLOT_RIGHT) / 2)}" '
        f'y="{_n(HEIGHT - 6)}" fill="{INK}">Date</text>'
    )
    out.append("</g>")

    # Session tick marks above the x axis.
    out.append(f'<g class="sessions" stroke="{SESSION_STROKE}" stroke-width="2">')
    for number, when in enumerate(sessions, start=1):
        x = x_of(when)
        out.append(
            f'<line class="session" x1="{_n(x)}" y1="{_n(PLOT_BOTTOM)}" x2="{_n(x)}" '
            f'y2="{_n(PLOT_BOTTOM - SESSION_TICK)}">'
            f"<title>Session {number}: {_when(when)}</title></line>"
        )
    out.append("</g>")

    # Baseline, response and remission lines, labelled inside the plot's right edge.
    out.append('<g class="thresholds">')
    previous_label_y = -math.inf
    for line in sorted(lines, key=lambda item: y_of(item.value)):
        y = y_of(line.value)
        label_y = max(y - 4, previous_label_y + MIN_LABEL_GAP)
        previous_label_y = label_y
        dash = f' stroke-dasharray="{line.dash}"' if line.dash else ""
        out.append(
            f'<line class="{line.css_class}" x1="{_n(PLOT_LEFT)}" y1="{_n(y)}" '
            f'x2="{_n(PLOT_RIGHT)}" y2="{_n(y)}" stroke="{line.stroke}" '
            f'stroke-width="1.5"{dash}/>'
        )
        out.append(
            f'<text class="{line.css_class}-label" x="{_n(PLOT_RIGHT - 4)}" y="{_n(label_y)}" '
            f'fill="{line.stroke}" text-anchor="end">{escape(line.label)}</text>'
        )
    out.append("</g>")

    # The course itself.
    out.append('<g class="course">')
    if len(ordered) >= 2:
        coordinates = " ".join(f"{_n(x_of(when))},{_n(y_of(total))}" for when, total in ordered)
        out.append(
            f'<polyline class="course-line" points="{coordinates}" fill="none" '
            f'stroke="{POINT}" stroke-width="2" stroke-linejoin="round"/>'
        )
    for when, total in ordered:
        out.append(
            f'<circle class="point" cx="{_n(x_of(when))}" cy="{_n(y_of(total))}" r="3.5" '
            f'fill="{POINT}"><title>{_when(when)}: {_v(total)}</title></circle>'
        )
    out.append("</g>")

    message = None
    if not ordered:
        message = "No scores to chart yet."
    elif len(ordered) == 1:
        message = "One score so far: the course appears after the next assessment."
    if message:
        out.append(
            f'<text class="message" x="{_n((PLOT_LEFT + PLOT_RIGHT) / 2)}" '
            f'y="{_n(PLOT_TOP + 16)}" fill="{INK}" text-anchor="middle" '
            f'font-size="12">{escape(message)}</text>'
        )

    out.append("</svg>")
    return "\n".join(out)


# --------------------------------------------------------------------------- helpers


def _threshold_lines(
    baseline: int | float | None,
    response_reduction_percent: Decimal | int | float | None,
    remission_threshold: tuple[str, int | float] | None,
) -> list[_Line]:
    lines: list[_Line] = []
    if baseline is not None:
        label = f"Baseline {_v(baseline)}"
        lines.append(_Line(float(baseline), label, "baseline", BASELINE_STROKE, "6 4"))
        if response_reduction_percent is not None:
            percent = Decimal(str(response_reduction_percent))
            response_at = Decimal(str(baseline)) * (1 - percent / 100)
            lines.append(
                _Line(
                    float(response_at),
                    f"Response ≤ {_v(response_at)} (−{_v(percent)}%)",
                    "response",
                    RESPONSE_STROKE,
                    None,
                )
            )
    if remission_threshold is not None:
        comparison, value = remission_threshold
        symbol = "<" if comparison == "<" else "≤"
        label = f"Remission {symbol} {_v(value)}"
        lines.append(_Line(float(value), label, "remission", REMISSION_STROKE, "2 3"))
    return lines


def _default_description(
    title: str,
    ordered: Sequence[tuple[When, int | float]],
    lines: Sequence[_Line],
    sessions: Sequence[When],
    y_label: str,
) -> str:
    if not ordered:
        parts = [f"{title}: no scores yet."]
    else:
        first, last = _when(ordered[0][0]), _when(ordered[-1][0])
        values = ", ".join(_v(total) for _, total in ordered)
        count = "1 score" if len(ordered) == 1 else f"{len(ordered)} scores"
        parts = [f"{title}: {count} from {first} to {last} ({y_label.lower()}s: {values})."]
    parts.extend(f"{line.label}." for line in lines)
    if sessions:
        count = "1 session" if len(sessions) == 1 else f"{len(sessions)} sessions"
        parts.append(f"{count}: {', '.join(_when(when) for when in sessions)}.")
    return " ".join(parts)


def _days(when: When) -> float:
    """Days since 0001-01-01 by wall-clock date and time (no time-zone conversion)."""
    if isinstance(when, datetime.datetime):
        seconds = when.hour * 3600 + when.minute * 60 + when.second + when.microsecond / 1e6
        return when.date().toordinal() + seconds / 86400
    return float(when.toordinal())


def _when(when: When) -> str:
    if isinstance(when, datetime.datetime):
        return when.strftime("%Y-%m-%d %H:%M")
    return when.isoformat()


def _x_tick_days(low: float, high: float, most: int = 5) -> list[datetime.date]:
    # The padded axis of a year-1 or year-9999 point reaches past the calendar: stay inside it.
    first = max(math.ceil(low), 1)
    last = min(math.floor(high), datetime.date.max.toordinal())
    if last < first:
        return []
    step = max(1, math.ceil((last - first + 1) / most))
    return [datetime.date.fromordinal(day) for day in range(first, last + 1, step)]


def _y_ticks(scale_top: float, most: int = 6) -> list[float]:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000):
        if scale_top / step <= most:
            break
    return [float(value) for value in range(0, int(scale_top) + 1, step)]


def _n(value: float) -> str:
    """A coordinate with one decimal: stable text for the same input."""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def _v(value: Decimal | int | float) -> str:
    """A score or threshold for reading: 10, 7.5 (one decimal at most, half up)."""
    number = Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return str(number.to_integral()) if number == number.to_integral() else str(number)


def _safe_id(text: str) -> str:
    key = re.sub(r"[^A-Za-z0-9_-]", "-", text) or "course-chart"
    return key if key[0].isalpha() else f"c-{key}"
