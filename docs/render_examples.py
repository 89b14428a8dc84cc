"""Render the example charts in docs/ (run: .venv/bin/python docs/render_examples.py)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from bot.charts import (
    GroupChartData,
    GroupWeek,
    ProgressChartData,
    WeekPoint,
    render_group_chart,
    render_progress_chart,
)
from bot.plan_chart import PlanChartData, render_plan_chart

HERE = Path(__file__).resolve().parent
LAST_WEEK = date(2026, 11, 23)  # a Monday


def week(i: int, count: int) -> date:
    return LAST_WEEK - timedelta(weeks=count - 1 - i)


def progress_example() -> ProgressChartData:
    # (hours or None for no check-in, goals done, goals set): a learner over 12 weeks.
    rows = [
        (3.5, 2, 3),
        (5.0, 3, 3),
        (6.5, 3, 4),
        (4.0, 2, 4),
        (None, 0, 2),
        (2.5, 1, 3),
        (7.0, 4, 4),
        (8.5, 4, 5),
        (6.0, 3, 4),
        (9.5, 5, 5),
        (7.5, 4, 5),
        (5.5, 2, 4),
    ]
    return ProgressChartData(
        display_name="Sam Rivera",
        weeks=tuple(
            WeekPoint(week(i, len(rows)), hours, done, goals_set)
            for i, (hours, done, goals_set) in enumerate(rows)
        ),
    )


def group_example() -> GroupChartData:
    # (members who checked in, total hours, group size): a group over 8 weeks.
    rows = [
        (14, 61.5, 22),
        (17, 74.0, 23),
        (15, 66.5, 23),
        (12, 48.0, 24),
        (16, 71.5, 24),
        (19, 88.0, 25),
        (18, 80.5, 25),
        (20, 93.5, 26),
    ]
    return GroupChartData(
        group_name="Meta Back-End Study Group",
        weeks=tuple(
            GroupWeek(week(i, len(rows)), checked_in, hours, members)
            for i, (checked_in, hours, members) in enumerate(rows)
        ),
    )


def plan_example() -> PlanChartData:
    # The Meta Back-End pack started in September for the end of April, three courses done.
    return PlanChartData(
        name="Sam Rivera",
        course="Meta Back-End Developer Professional Certificate",
        start=date(2026, 9, 7),
        target=date(2027, 4, 30),
        today=date(2026, 12, 7),
        total_hours=194.0,
        finished=((date(2026, 10, 2), 18.0), (date(2026, 11, 6), 30.0), (date(2026, 11, 29), 16.0)),
        projected=date(2027, 5, 24),
    )


def main() -> None:
    outputs = {
        HERE / "progress-chart.png": render_progress_chart(progress_example()),
        HERE / "summary-chart.png": render_group_chart(group_example()),
        HERE / "plan-chart.png": render_plan_chart(plan_example()),
    }
    for path, png in outputs.items():
        path.write_bytes(png)
        print(f"wrote {path.name} ({len(png) / 1024:.1f} KB)")  # noqa: T201


if __name__ == "__main__":
    main()
