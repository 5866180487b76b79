"""The course chart (clinic/outcomes/charts.py): well-formed, accessible, deterministic SVG."""

from __future__ import annotations

import datetime
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from clinic.outcomes.charts import course_chart_svg

REPO = Path(__file__).resolve().parents[3]
SVG = "{http://www.w3.org/2000/svg}"
START = datetime.datetime(2027, 1, 4, 9, 0)

# PHQ-9 severity bands (clinical-reference.md §7.1 [G1]); passed in, as a caller would.
PHQ9_BANDS = (
    ("none/minimal", 0, 4),
    ("mild", 5, 9),
    ("moderate", 10, 14),
    ("moderately severe", 15, 19),
    ("severe", 20, 27),
)


def day(number: int, hours: int = 0) -> datetime.datetime:
    return START + datetime.timedelta(days=number, hours=hours)


POINTS = [(day(-1), 20), (day(1), 9), (day(7), 8), (day(14), 4), (day(21), 12)]
SESSIONS = [day(0), day(2), day(4), day(7), day(9), day(11)]


def chart(**overrides) -> str:
    arguments = {
        "title": "PHQ-9 course",
        "points": POINTS,
        "scale_max": 27,
        "bands": PHQ9_BANDS,
        "baseline": 20,
        "response_reduction_percent": 50,  # policy-defaults.md: response ≥ 50 % [H1], [H4]
        "remission_threshold": ("<", 5),  # PHQ-9 remission < 5 [H4]
        "session_dates": SESSIONS,
    }
    arguments.update(overrides)
    return course_chart_svg(**arguments)


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 (our own output, not untrusted input)


def by_class(root: ET.Element, tag: str, css_class: str) -> list[ET.Element]:
    return [e for e in root.iter(f"{SVG}{tag}") if e.get("class") == css_class]


def texts(root: ET.Element) -> list[str]:
    return ["".join(e.itertext()) for e in root.iter(f"{SVG}text")]


def test_the_chart_is_well_formed_accessible_svg():
    root = parse(chart())
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("viewBox") == "0 0 640 240"
    assert root.get("width") == "100%"
    title, desc = list(root)[:2]
    assert (title.tag, title.text) == (f"{SVG}title", "PHQ-9 course")
    assert desc.tag == f"{SVG}desc"
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    # The default description reads the data out.
    assert "5 scores from 2027-01-03 09:00 to 2027-01-25 09:00" in desc.text
    assert "20, 9, 8, 4, 12" in desc.text
    assert "6 sessions" in desc.text


def test_no_script_and_no_external_resources():
    svg = chart()
    assert "<script" not in svg
    assert "href" not in svg
    assert re.findall(r"https?://[^\"]+", svg) == ["http://www.w3.org/2000/svg"]


@pytest.mark.parametrize("count", [0, 1, 2, 5])
def test_one_circle_per_point(count):
    root = parse(chart(points=POINTS[:count]))
    assert len(list(root.iter(f"{SVG}circle"))) == count


def test_a_line_per_session_date():
    root = parse(chart())
    assert len(by_class(root, "line", "session")) == len(SESSIONS)
    assert len(by_class(parse(chart(session_dates=[])), "line", "session")) == 0
    # Plain dates are accepted too.
    dates = [when.date() for when in SESSIONS[:3]]
    assert len(by_class(parse(chart(session_dates=dates)), "line", "session")) == 3


def test_the_line_joins_the_points_in_time_order():
    shuffled = [POINTS[3], POINTS[0], POINTS[4], POINTS[1], POINTS[2]]
    root = parse(chart(points=shuffled))
    (polyline,) = by_class(root, "polyline", "course-line")
    xs = [float(pair.split(",")[0]) for pair in polyline.get("points").split()]
    assert len(xs) == len(POINTS)
    assert xs == sorted(xs)
    assert chart(points=shuffled) == chart()


def test_threshold_lines():
    root = parse(chart())
    (baseline,) = by_class(root, "line", "baseline")
    (response,) = by_class(root, "line", "response")
    (remission,) = by_class(root, "line", "remission")
    assert baseline.get("stroke-dasharray")  # dashed
    labels = texts(root)
    assert "Baseline 20" in labels
    assert "Response ≤ 10 (−50%)" in labels
    assert "Remission < 5" in labels
    # y is linear in the total, so the 50 % line lies halfway between 0 and the baseline.
    axis_y = max(float(line.get("y1")) for line in root.iter(f"{SVG}line"))
    baseline_y = float(baseline.get("y1"))
    assert float(response.get("y1")) == pytest.approx((axis_y + baseline_y) / 2, abs=0.1)


def test_threshold_lines_are_optional():
    root = parse(chart(baseline=None, remission_threshold=None))
    for css_class in ("baseline", "response", "remission"):
        assert by_class(root, "line", css_class) == []
    root = parse(chart(response_reduction_percent=None, remission_threshold=("<=", 5)))
    assert by_class(root, "line", "response") == []
    assert "Remission ≤ 5" in texts(root)


def test_severity_bands_are_shaded_and_labelled():
    root = parse(chart())
    bands = by_class(root, "rect", "band")
    assert len(bands) == len(PHQ9_BANDS)
    assert [b.find(f"{SVG}title").text for b in bands] == [
        "none/minimal: 0–4",
        "mild: 5–9",
        "moderate: 10–14",
        "moderately severe: 15–19",
        "severe: 20–27",
    ]
    assert [t.text for t in by_class(root, "text", "band-label")] == [b[0] for b in PHQ9_BANDS]
    # Higher totals are drawn higher up (smaller y); bands do not overlap.
    tops = [float(b.get("y")) for b in bands]
    assert tops == sorted(tops, reverse=True)
    assert len(parse(chart(bands=())).findall(f".//{SVG}rect")) == 0


def test_dates_label_the_x_axis():
    root = parse(chart())
    labels = [t for t in texts(root) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", t)]
    assert len(labels) >= 2
    first, last = POINTS[0][0].date(), POINTS[-1][0].date()
    for label in labels:
        assert first <= datetime.date.fromisoformat(label) <= last


def test_text_is_escaped():
    svg = chart(
        title='PHQ-9 <b>"course"</b> & more',
        bands=(("<mild>", 5, 9),),
        y_label="Total <score>",
        chart_id='chart "one" <x>',
    )
    assert "<b>" not in svg
    assert "<mild>" not in svg
    root = parse(svg)
    assert root.find(f"{SVG}title").text == 'PHQ-9 <b>"course"</b> & more'
    assert "<mild>" in texts(root)
    assert "Total <score>" in texts(root)
    assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*-title", root.find(f"{SVG}title").get("id"))
    desc = parse(chart(description="Scores <falling> & rising")).find(f"{SVG}desc")
    assert desc.text == "Scores <falling> & rising"


def test_output_is_deterministic():
    assert chart() == chart()
    assert chart(points=tuple(POINTS), bands=list(PHQ9_BANDS)) == chart()


def test_no_points_shows_a_message():
    root = parse(chart(points=[], baseline=None, session_dates=[]))
    assert "No scores to chart yet." in texts(root)
    assert by_class(root, "polyline", "course-line") == []
    assert "no scores yet" in root.find(f"{SVG}desc").text


def test_one_point_shows_a_message_and_the_point():
    root = parse(chart(points=POINTS[:1], session_dates=[]))
    assert "One score so far: the course appears after the next assessment." in texts(root)
    assert len(list(root.iter(f"{SVG}circle"))) == 1
    assert by_class(root, "polyline", "course-line") == []


def test_points_share_the_scale():
    # A total of 0 sits on the x axis; the instrument's maximum at the top of the plot.
    root = parse(chart(points=[(day(0), 0), (day(7), 27)], baseline=None, bands=()))
    bottom, top = (float(c.get("cy")) for c in root.iter(f"{SVG}circle"))
    axis_y = max(float(line.get("y1")) for line in root.iter(f"{SVG}line"))
    assert bottom == axis_y
    assert top < bottom


def test_charts_imports_no_django():
    code = (
        "import sys, clinic.outcomes.charts; "
        "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))"
    )
    result = subprocess.run(  # noqa: S603 (our own interpreter, a fixed command)
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
