"""The `/plan show` chart: planned cumulative hours against hours of modules finished, with the
target and the projected finish marked. Same card, palette and header as ``bot.charts``; pure
rendering (plain data in, PNG bytes out), safe in worker threads."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from matplotlib.artist import Artist
from matplotlib.dates import AutoDateLocator, date2num, num2date
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

from bot import charts
from bot.charts import (
    BAR,
    CARD,
    CARD_EDGE,
    GRID,
    LINE,
    TEXT_FAINT,
    TEXT_MUTED,
    drawable_text,
    week_label,
)

PLANNED = TEXT_FAINT


@dataclass(frozen=True, slots=True)
class PlanChartData:
    name: str
    course: str
    start: date
    target: date
    today: date
    total_hours: float
    # (local day finished, the module's hours), oldest first.
    finished: tuple[tuple[date, float], ...]
    projected: date | None

    def __post_init__(self) -> None:
        if not math.isfinite(self.total_hours) or self.total_hours < 0:
            raise ValueError("total_hours must be a finite number >= 0")


def _fmt_hours(value: float, _pos: int | None = None) -> str:
    return f"{value:.0f} h" if value >= 10 or value == int(value) else f"{value:.1f} h"


def _fmt_day(value: float, _pos: int | None = None) -> str:
    day = num2date(value).date()
    return f"{week_label(day)} {day.year % 100:02d}"  # English month names whatever the locale


def plan_figure(data: PlanChartData) -> Figure:
    """The figure behind `render_plan_chart` (public so tests can inspect its artists)."""
    done = sum(h for _, h in data.finished)
    last = max(data.target, data.today, data.projected or data.today)
    first = min(data.start, *(d for d, _ in data.finished)) if data.finished else data.start
    span = max((last - first).days, 14)
    right = last + timedelta(days=max(span // 20, 3))

    facts = [f"{_fmt_hours(done)} of {_fmt_hours(data.total_hours)} done"]
    facts.append(f"target {week_label(data.target)} {data.target.year}")
    if data.projected is not None:
        facts.append(f"projected {week_label(data.projected)} {data.projected.year}")
    handles: list[Artist] = [
        Line2D([], [], color=PLANNED, linewidth=2.0, linestyle="--"),
        Line2D([], [], color=BAR, linewidth=2.6),
        Line2D([], [], color=LINE, linewidth=2.0, linestyle=":"),
    ]
    labels = ["Planned", "Finished", "Projected"]

    fig = charts._new_figure()
    charts._add_header(
        fig,
        drawable_text(data.name) or "Plan",
        drawable_text(data.course, 48),
        facts,
        handles,
        labels,
    )
    ax = fig.add_axes(charts._PLOT)
    ax.set_facecolor("none")
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.spines["bottom"].set_visible(True)
    ax.spines["bottom"].set_color(CARD_EDGE)
    ax.tick_params(length=0, labelsize=10, labelcolor=TEXT_MUTED, pad=7)
    ax.set_axisbelow(True)
    ax.grid(axis="y", color=GRID, linewidth=0.9)

    x = date2num
    ax.plot(
        [x(data.start), x(data.target)],
        [0, data.total_hours],
        color=PLANNED,
        linewidth=2.0,
        linestyle="--",
        zorder=2,
    )
    steps_x = [x(data.start)]
    steps_y = [0.0]
    total = 0.0
    for day, hours in data.finished:
        steps_x.append(x(day))
        steps_y.append(total)
        total += hours
        steps_x.append(x(day))
        steps_y.append(total)
    steps_x.append(x(data.today))
    steps_y.append(total)
    ax.fill_between(steps_x, steps_y, color=BAR, alpha=0.18, linewidth=0, zorder=1)
    ax.plot(steps_x, steps_y, color=BAR, linewidth=2.6, zorder=3, solid_joinstyle="round")
    if data.projected is not None and data.projected > data.today:
        ax.plot(
            [x(data.today), x(data.projected)],
            [total, data.total_hours],
            color=LINE,
            linewidth=2.0,
            linestyle=":",
            zorder=3,
        )
        ax.plot(
            [x(data.projected)],
            [data.total_hours],
            marker="o",
            markersize=8,
            color=LINE,
            markeredgecolor=CARD,
            zorder=4,
            clip_on=False,
        )
    ax.axvline(x(data.target), color=PLANNED, linewidth=1.2, zorder=1)
    ax.text(
        x(data.target),
        data.total_hours * 1.04 or 1,
        " target",
        color=TEXT_MUTED,
        fontsize=10,
        ha="left",
        va="bottom",
        parse_math=False,
    )
    ax.axvline(x(data.today), color=CARD_EDGE, linewidth=1.0, linestyle="-", zorder=1)

    ax.set_xlim(x(first), x(right))
    ax.set_ylim(0, max(data.total_hours * 1.12, 1.0))
    locator = AutoDateLocator(minticks=4, maxticks=9)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(FuncFormatter(_fmt_day))
    ax.yaxis.set_major_formatter(FuncFormatter(_fmt_hours))
    return fig


def render_plan_chart(data: PlanChartData) -> bytes:
    """The plan as a WIDTH_PX x HEIGHT_PX PNG."""
    return charts._to_png(plan_figure(data))
