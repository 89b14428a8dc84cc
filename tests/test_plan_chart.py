"""The /plan show chart: a card-sized PNG with the planned, finished and projected lines."""

from __future__ import annotations

import struct
from datetime import date, timedelta

import pytest
from matplotlib.lines import Line2D

from bot.charts import HEIGHT_PX, WIDTH_PX
from bot.plan_chart import PlanChartData, plan_figure, render_plan_chart

START = date(2026, 9, 1)
TODAY = date(2026, 12, 7)


def data(**changes: object) -> PlanChartData:
    values: dict[str, object] = {
        "name": "Sam",
        "course": "Meta Back-End Developer Professional Certificate",
        "start": START,
        "target": date(2027, 4, 15),
        "today": TODAY,
        "total_hours": 194.0,
        "finished": ((date(2026, 9, 20), 18.0), (date(2026, 10, 30), 30.0)),
        "projected": date(2027, 5, 20),
    }
    values.update(changes)
    return PlanChartData(**values)  # type: ignore[arg-type]


def size(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    return struct.unpack(">II", png[16:24])


def lines(figure: object) -> list[Line2D]:
    (ax,) = figure.axes  # type: ignore[attr-defined]
    return [line for line in ax.get_lines() if len(line.get_xdata()) > 1]


def test_renders_a_card_sized_png() -> None:
    assert size(render_plan_chart(data())) == (WIDTH_PX, HEIGHT_PX)


def test_the_finished_line_climbs_by_each_module_and_ends_today() -> None:
    figure = plan_figure(data())
    planned, finished, projected = lines(figure)[:3]
    assert list(planned.get_ydata()) == [0, 194.0]
    assert list(finished.get_ydata()) == [0.0, 0.0, 18.0, 18.0, 48.0, 48.0]
    assert list(projected.get_ydata()) == [48.0, 194.0]


@pytest.mark.parametrize(
    "changes",
    [
        {"finished": (), "projected": None},
        {"projected": TODAY},
        {"name": "$x$ 🎓 \u202e" + "n" * 80, "course": "<@1> **bold**"},
        {"start": TODAY, "target": TODAY + timedelta(days=1), "finished": ()},
        {"total_hours": 0.0, "finished": ()},
        {"finished": ((START - timedelta(days=30), 5.0),)},
    ],
)
def test_edge_cases_still_render(changes: dict[str, object]) -> None:
    assert size(render_plan_chart(data(**changes))) == (WIDTH_PX, HEIGHT_PX)


def test_refuses_impossible_totals() -> None:
    with pytest.raises(ValueError, match="total_hours"):
        data(total_hours=float("nan"))
