"""PNG charts for `/progress` and the weekly summary (README.md, Commands).

Pure rendering: frozen dataclasses of plain data in, PNG bytes out. Nothing here imports discord or
the database.

Every render builds its own `matplotlib.figure.Figure` on its own Agg canvas and never touches
pyplot or `rcParams`, so renders share no mutable state and can run concurrently in worker threads
(`await asyncio.to_thread(render_progress_chart, data)`).

The image is a solid dark rounded card with transparent corners, so it reads the same in Discord's
dark (#2b2d31) and light (#ffffff) themes. User text (display names, group names) is drawn
literally: mathtext is off ("$money$" stays "$money$"), control and bidi characters are dropped,
characters the bundled DejaVu Sans cannot draw (emoji) are removed so matplotlib never warns
about missing glyphs, and long names are shortened with "…".
"""

from __future__ import annotations

import functools
import io
import itertools
import math
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal, TypeVar

from matplotlib import font_manager
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import FancyBboxPatch, Patch
from matplotlib.ticker import FuncFormatter

from bot.formatting import day_month as week_label
from bot.formatting import plural

__all__ = [
    "DPI",
    "HEIGHT_PX",
    "MAX_NAME_CHARS",
    "MAX_WEEKS",
    "MAX_X_LABELS",
    "WIDTH_PX",
    "GroupChartData",
    "GroupWeek",
    "ProgressChartData",
    "WeekPoint",
    "aligned_ticks",
    "chart_title",
    "date_range_text",
    "drawable_text",
    "fill_missing_weeks",
    "group_figure",
    "progress_figure",
    "render_group_chart",
    "render_progress_chart",
    "thin_labels",
    "week_label",
]

WIDTH_PX = 1000
HEIGHT_PX = 500
DPI = 100
MAX_WEEKS = 52
MAX_NAME_CHARS = 32  # Discord display names and nicknames are at most 32 characters
MAX_X_LABELS = 13

# Palette: a dark card with its own contrast; the corners outside the card are transparent.
CARD = "#1e1f22"
CARD_EDGE = "#3a3c42"
TEXT = "#f2f3f5"
TEXT_MUTED = "#b5bac1"
TEXT_FAINT = "#8a8e98"
GRID = "#34363c"
BAR = "#5b73e8"
BAR_BACK = "#343a58"
LINE = "#f0b232"
LINE_FAINT = "#8a6a2c"

_FONT_FAMILY = "DejaVu Sans"
_TITLE_SIZE = 17.0
_TITLE_MIN_SIZE = 13.0
_SUBTITLE_SIZE = 11.0
_ELLIPSIS = "…"
_MISSING_GLYPH = "□"
_WEEK = timedelta(days=7)
_RING_MAX_WEEKS = 20  # with more weeks, "goals set" is drawn as dashes rather than rings
_DENSE_WEEKS = 26  # with more weeks, the line has no point markers
_MIN_SLOTS = 5  # the x-axis is never narrower than this many weeks (keeps one bar slim)
_BAR_WIDTH = 0.62

# Layout in figure fractions (the figure is WIDTH_PX x HEIGHT_PX).
_LEFT = 0.045
_RIGHT = 0.955
_TITLE_Y = 0.905
_SUBTITLE_Y = 0.825
_PLOT = (0.085, 0.1, 0.83, 0.64)  # left, bottom, width, height


# --------------------------------------------------------------------------- data


def _check_hours(value: float | None, what: str) -> None:
    if value is not None and (not math.isfinite(value) or value < 0):
        raise ValueError(f"{what} must be a finite number >= 0 or None, got {value!r}")


def _check_count(value: int | None, what: str) -> None:
    if value is not None and value < 0:
        raise ValueError(f"{what} must be >= 0, got {value!r}")


@dataclass(frozen=True, slots=True)
class WeekPoint:
    """One study week of one member. `hours` is None when the member did not check in."""

    week_start: date
    hours: float | None = None
    goals_done: int = 0
    goals_set: int = 0

    def __post_init__(self) -> None:
        _check_hours(self.hours, "hours")
        _check_count(self.goals_done, "goals_done")
        _check_count(self.goals_set, "goals_set")


@dataclass(frozen=True, slots=True)
class GroupWeek:
    """One study week of a group: how many members checked in, and their hours.

    `hours` is the total or the median (see `GroupChartData.hours_kind`); None leaves a gap in
    the line. `members`, when known, is the group's size that week (a faint bar behind).
    """

    week_start: date
    checked_in: int = 0
    hours: float | None = None
    members: int | None = None

    def __post_init__(self) -> None:
        _check_count(self.checked_in, "checked_in")
        _check_hours(self.hours, "hours")
        _check_count(self.members, "members")


_Week = TypeVar("_Week", WeekPoint, GroupWeek)


def fill_missing_weeks(weeks: Sequence[_Week], make_empty: Callable[[date], _Week]) -> list[_Week]:
    """`weeks` with `make_empty(week_start)` inserted for each whole week missing between two.

    A gap that is not a whole number of weeks (the guild changed its week start) is left alone.
    """
    out: list[_Week] = []
    for i, week in enumerate(weeks):
        if i:
            previous = weeks[i - 1].week_start
            gap = (week.week_start - previous).days
            if gap > 7 and gap % 7 == 0:
                out.extend(make_empty(previous + _WEEK * k) for k in range(1, gap // 7))
        out.append(week)
    return out


def _check_weeks(weeks: Sequence[_Week], make_empty: Callable[[date], _Week]) -> None:
    if not weeks:
        raise ValueError("a chart needs at least one week")
    starts = [w.week_start for w in weeks]
    if any(b <= a for a, b in itertools.pairwise(starts)):
        raise ValueError("weeks must be in strictly increasing order of week_start")
    if len(fill_missing_weeks(weeks, make_empty)) > MAX_WEEKS:
        raise ValueError(f"a chart shows at most {MAX_WEEKS} weeks")


@dataclass(frozen=True, slots=True)
class ProgressChartData:
    """A member's last N weeks (1–52), oldest first. Missing weeks in between are drawn empty."""

    display_name: str
    weeks: tuple[WeekPoint, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "weeks", tuple(self.weeks))
        _check_weeks(self.weeks, WeekPoint)


@dataclass(frozen=True, slots=True)
class GroupChartData:
    """A group's recent weeks (the weekly summary uses 8), oldest first. Nobody is named."""

    group_name: str
    weeks: tuple[GroupWeek, ...]
    hours_kind: Literal["total", "median"] = "total"

    def __post_init__(self) -> None:
        object.__setattr__(self, "weeks", tuple(self.weeks))
        if self.hours_kind not in ("total", "median"):
            raise ValueError(f"hours_kind must be 'total' or 'median', got {self.hours_kind!r}")
        _check_weeks(self.weeks, GroupWeek)


# --------------------------------------------------------------------------- text


@functools.cache
def _font_coverage() -> frozenset[int]:
    """Code points that both the regular and the bold DejaVu Sans can draw."""
    charmaps = []
    for weight in ("normal", "bold"):
        path = font_manager.findfont(
            FontProperties(family=_FONT_FAMILY, weight=weight), fallback_to_default=False
        )
        charmaps.append(frozenset(font_manager.get_font(path).get_charmap()))
    return charmaps[0] & charmaps[1]


def drawable_text(text: str, max_chars: int = MAX_NAME_CHARS) -> str:
    """`text` reduced to what the chart font can draw, on one line, at most `max_chars` long.

    Line breaks and tabs become spaces; format characters (zero-width joiners, bidi overrides)
    are dropped. A character the font lacks becomes its compatibility form when the font has
    that (𝐒𝐚𝐦 → Sam), else is dropped when it is an emoji, symbol or mark, else (a letter or
    digit of a script the font lacks) shows as "□". Runs of spaces collapse; the result is cut
    with "…".
    """
    if max_chars < 1:
        raise ValueError("max_chars must be >= 1")
    covered = _font_coverage()
    out: list[str] = []
    for ch in text:
        category = unicodedata.category(ch)
        if ch.isspace() or category in ("Cc", "Zl", "Zp"):
            out.append(" ")
        elif category in ("Cf", "Cs", "Co", "Cn"):
            continue
        elif ord(ch) in covered:
            out.append(ch)
        else:
            folded = unicodedata.normalize("NFKC", ch)
            if folded != ch and all(ord(c) in covered for c in folded):
                out.append(folded)
            elif category[0] in "LN":
                out.append(_MISSING_GLYPH)
    cleaned = " ".join("".join(out).split())
    # A combining mark whose base character was dropped would float over nothing.
    while cleaned and unicodedata.combining(cleaned[0]):
        cleaned = cleaned[1:].lstrip()
    return _truncate(cleaned, max_chars)


def _truncate(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    cut = max_chars - 1
    while cut > 0 and unicodedata.combining(text[cut]):  # keep marks with their base
        cut -= 1
    return text[:cut].rstrip() + _ELLIPSIS


def _display_name(name: str, fallback: str) -> str:
    cleaned = drawable_text(name)
    return cleaned if any(c not in f" {_MISSING_GLYPH}" for c in cleaned) else fallback


def date_range_text(first: date, last: date) -> str:
    """'6 Oct to 24 Nov 2026', '29 Dec 2025 to 16 Feb 2026', or 'week of 6 Oct 2026'."""
    if last < first:
        raise ValueError("last must not be before first")
    if first == last:
        return f"week of {week_label(first)} {first.year}"
    if first.year == last.year:
        return f"{week_label(first)} to {week_label(last)} {last.year}"
    return f"{week_label(first)} {first.year} to {week_label(last)} {last.year}"


def chart_title(name: str, first: date, last: date, *, fallback: str = "Progress") -> str:
    """The chart heading, "Sam — 6 Oct to 24 Nov 2026"; `first` and `last` are week starts.

    The name goes through `drawable_text`; when nothing drawable is left (an all-emoji name, or a
    script the font lacks) `fallback` stands in for it. The rendered title may be set smaller,
    or the name shortened further, when the glyphs are too wide for the card.
    """
    return f"{_display_name(name, fallback)} — {date_range_text(first, last)}"


def thin_labels(labels: Sequence[str], max_labels: int = MAX_X_LABELS) -> list[str]:
    """Blank out labels so at most `max_labels` remain, evenly spaced, always keeping the last."""
    if max_labels < 1:
        raise ValueError("max_labels must be >= 1")
    n = len(labels)
    if n <= max_labels:
        return list(labels)
    step = math.ceil(n / max_labels)
    return [label if (n - 1 - i) % step == 0 else "" for i, label in enumerate(labels)]


def _fmt_hours(hours: float) -> str:
    rounded = round(hours, 1)
    return f"{rounded:,.0f}" if rounded == int(rounded) else f"{rounded:,.1f}"


# --------------------------------------------------------------------------- scales

_STEP_BASES = (1.0, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)


def _nice_step(raw: float, unit: float) -> float:
    """The smallest step >= `raw` that is 1, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten and a
    whole multiple of `unit` (falling back to the next multiple of `unit`)."""
    raw = max(raw, unit)
    exponent = math.floor(math.log10(raw))
    for power in (exponent, exponent + 1):
        for base in _STEP_BASES:
            step = round(base * 10.0**power, 9)
            multiple = step / unit
            if step >= raw * (1 - 1e-9) and abs(multiple - round(multiple)) < 1e-9:
                return step
    return round(unit * math.ceil(raw / unit - 1e-9), 9)


def aligned_ticks(
    left_max: float, right_max: float, *, left_unit: float = 0.5, right_unit: float = 1.0
) -> tuple[list[float], list[float]]:
    """Ticks from 0 for two y-axes that share gridlines; the last tick is each axis's top.

    Both axes get the same number of intervals (3 to 5), each with its own nice step that is a
    whole multiple of its unit (half hours, whole goals, whole members); the interval count
    chosen is the one leaving the least empty headroom above the two maxima.
    """
    if left_unit <= 0 or right_unit <= 0:
        raise ValueError("units must be > 0")
    best: tuple[float, int, float, float] | None = None
    for count in (4, 5, 3):
        left_step = _nice_step(left_max / count, left_unit)
        right_step = _nice_step(right_max / count, right_unit)
        waste = count * left_step / max(left_max, left_unit) + count * right_step / max(
            right_max, right_unit
        )
        if best is None or waste < best[0] - 1e-9:
            best = (waste, count, left_step, right_step)
    assert best is not None
    _, count, left_step, right_step = best
    return (
        [round(i * left_step, 9) for i in range(count + 1)],
        [round(i * right_step, 9) for i in range(count + 1)],
    )


# --------------------------------------------------------------------------- drawing


def _new_figure() -> Figure:
    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, facecolor="none")
    FigureCanvasAgg(fig)
    inset = 1.0 / DPI  # keep the 1 px border inside the image
    fig.add_artist(
        FancyBboxPatch(
            (inset, inset),
            WIDTH_PX / DPI - 2 * inset,
            HEIGHT_PX / DPI - 2 * inset,
            boxstyle="round,pad=0,rounding_size=0.16",
            transform=fig.dpi_scale_trans,
            facecolor=CARD,
            edgecolor=CARD_EDGE,
            linewidth=1.0,
            zorder=-100,
        )
    )
    return fig


def _add_header(
    fig: Figure,
    title_name: str,
    title_range: str,
    facts: list[str],
    handles: list[Artist],
    labels: list[str],
) -> None:
    """Title on the first row; facts (left) and the legend (right) on the second row.

    The title shrinks, then its name shortens, until it fits the card; facts are dropped from
    the end until they clear the legend.
    """
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    suffix = f" — {title_range}"
    title = fig.text(
        _LEFT,
        _TITLE_Y,
        title_name + suffix,
        ha="left",
        va="center",
        color=TEXT,
        fontsize=_TITLE_SIZE,
        fontweight="bold",
        fontfamily=_FONT_FAMILY,
        parse_math=False,
    )
    max_width = (_RIGHT - _LEFT) * WIDTH_PX
    name = title_name
    size = _TITLE_SIZE
    while title.get_window_extent(renderer).width > max_width:
        if size > _TITLE_MIN_SIZE:
            size -= 1
            title.set_fontsize(size)
        elif len(name) > 1:
            name = _truncate(name.removesuffix(_ELLIPSIS), len(name) - 1)
            title.set_text(name + suffix)
        else:
            break

    legend = fig.legend(
        handles,
        labels,
        loc="center right",
        bbox_to_anchor=(_RIGHT + 0.008, _SUBTITLE_Y),
        ncols=len(handles),
        frameon=False,
        labelcolor=TEXT_MUTED,
        handlelength=1.3,
        handleheight=0.9,
        handletextpad=0.5,
        columnspacing=1.4,
        borderaxespad=0.0,
        prop={"family": _FONT_FAMILY, "size": 10},
    )
    legend_left = legend.get_window_extent(renderer).x0
    subtitle = fig.text(
        _LEFT,
        _SUBTITLE_Y,
        "",
        ha="left",
        va="center",
        color=TEXT_MUTED,
        fontsize=_SUBTITLE_SIZE,
        fontfamily=_FONT_FAMILY,
        parse_math=False,
    )
    for keep in range(len(facts), 0, -1):
        subtitle.set_text("  ·  ".join(facts[:keep]))
        if subtitle.get_window_extent(renderer).x1 + 24 <= legend_left:
            break


def _fmt_tick_hours(value: float, _pos: int | None = None) -> str:
    return f"{_fmt_hours(value)} h"


def _fmt_tick_count(value: float, _pos: int | None = None) -> str:
    return str(round(value))


@dataclass(frozen=True, slots=True)
class _Combo:
    """What a bar-plus-line chart draws; both charts go through `_combo_figure`."""

    weeks: list[date]  # week starts, one per bar
    bars: list[float]
    back_bars: list[float] | None  # faint bars behind the bars (group size)
    line: list[float]  # NaN leaves a gap
    rings: list[float] | None  # hollow markers on the line's axis (goals set)
    bar_ticks: list[float]
    line_ticks: list[float]
    bars_are_hours: bool  # else the bars are counts and the line is hours


def _draw_combo(fig: Figure, combo: _Combo) -> Axes:
    n = len(combo.weeks)
    xs = list(range(n))
    ax = fig.add_axes(_PLOT)
    ax2 = ax.twinx()
    for axis in (ax, ax2):
        axis.set_facecolor("none")
        for spine in axis.spines.values():
            spine.set_visible(False)
        axis.tick_params(length=0, labelsize=10, labelfontfamily=_FONT_FAMILY, pad=7)
    ax.spines["bottom"].set_visible(True)
    ax.spines["bottom"].set_color(CARD_EDGE)
    ax.spines["bottom"].set_linewidth(1.2)
    ax.set_axisbelow(True)
    ax.grid(axis="y", color=GRID, linewidth=0.9)
    pad = max(0.0, (_MIN_SLOTS - n) / 2)
    ax.set_xlim(-0.6 - pad, n - 0.4 + pad)
    labels = thin_labels([week_label(week) for week in combo.weeks])
    shown = [(x, label) for x, label in zip(xs, labels, strict=True) if label]
    ax.set_xticks([x for x, _ in shown], [label for _, label in shown])
    ax.tick_params(axis="x", labelcolor=TEXT_MUTED)
    ax2.tick_params(axis="x", bottom=False, labelbottom=False)

    if combo.back_bars is not None:
        ax.bar(xs, combo.back_bars, width=_BAR_WIDTH, color=BAR_BACK, zorder=1.5, linewidth=0)
    ax.bar(xs, combo.bars, width=_BAR_WIDTH, color=BAR, zorder=2, linewidth=0)

    if combo.rings is not None:
        if n <= _RING_MAX_WEEKS:
            ring = ax2.plot(xs, combo.rings, marker="o", markersize=11, markeredgewidth=1.6)
        else:  # many weeks: a dash as wide as the bar
            bar_pt = _BAR_WIDTH * _PLOT[2] * WIDTH_PX / (n + 2 * pad) * 72 / DPI
            ring = ax2.plot(xs, combo.rings, marker="_", markersize=bar_pt, markeredgewidth=2.0)
        ring[0].set(
            linestyle="none",
            markerfacecolor="none",
            markeredgecolor=LINE_FAINT,
            zorder=3,
            clip_on=False,
        )
    dense = n > _DENSE_WEEKS
    ax2.plot(
        xs,
        combo.line,
        color=LINE,
        linewidth=2.0 if dense else 2.4,
        marker="none" if dense else "o",
        markersize=7,
        markerfacecolor=LINE,
        markeredgecolor=CARD,
        markeredgewidth=1.4,
        solid_joinstyle="round",
        solid_capstyle="round",
        zorder=4,
        clip_on=False,
    )

    hours_fmt, count_fmt = FuncFormatter(_fmt_tick_hours), FuncFormatter(_fmt_tick_count)
    for axis, ticks, fmt, color in (
        (ax, combo.bar_ticks, hours_fmt if combo.bars_are_hours else count_fmt, TEXT_MUTED),
        (ax2, combo.line_ticks, count_fmt if combo.bars_are_hours else hours_fmt, LINE),
    ):
        axis.set_ylim(0, ticks[-1])
        axis.set_yticks(ticks)
        axis.yaxis.set_major_formatter(fmt)
        axis.tick_params(axis="y", labelcolor=color)
    return ax


def _empty_note(ax: Axes, text: str) -> None:
    ax.text(
        0.5,
        0.5,
        text,
        transform=ax.transAxes,
        ha="center",
        va="center",
        color=TEXT_FAINT,
        fontsize=12,
        fontfamily=_FONT_FAMILY,
        bbox={"boxstyle": "round,pad=0.5", "facecolor": CARD, "edgecolor": "none"},
    )


def _combo_figure(
    title_name: str,
    facts: list[str],
    handles: list[Artist],
    labels: list[str],
    combo: _Combo,
    empty: str | None,
) -> Figure:
    """A card: the header over the weeks `combo` covers, the chart, and `empty` written on it
    when there is nothing to draw."""
    fig = _new_figure()
    title_range = date_range_text(combo.weeks[0], combo.weeks[-1])
    _add_header(fig, title_name, title_range, facts, handles, labels)
    ax = _draw_combo(fig, combo)
    if empty is not None:
        _empty_note(ax, empty)
    return fig


def _line_handle() -> Line2D:
    return Line2D([], [], color=LINE, linewidth=2.4, marker="o", markersize=6)


def _to_png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def progress_figure(data: ProgressChartData) -> Figure:
    """The figure behind `render_progress_chart` (public so tests can inspect its artists)."""
    points = fill_missing_weeks(data.weeks, WeekPoint)
    hours = [p.hours for p in points]
    done = [p.goals_done for p in points]
    goals_set = [p.goals_set for p in points]
    total = sum(h for h in hours if h is not None)
    hours_max = max((h for h in hours if h is not None), default=0.0)
    goals_max = max([*done, *goals_set])

    facts = [f"{_fmt_hours(total)} h studied"]
    if sum(goals_set):
        facts.append(f"{sum(done)} of {plural(sum(goals_set), 'goal')} done")
    elif sum(done):
        facts.append(f"{plural(sum(done), 'goal')} done")
    checked = sum(h is not None for h in hours)
    facts.append(f"checked in {checked} of {plural(len(points), 'week')}")

    handles: list[Artist] = [Patch(facecolor=BAR, edgecolor="none"), _line_handle()]
    labels = ["Hours studied", "Goals done"]
    if any(goals_set):
        dashes = len(points) > _RING_MAX_WEEKS
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker="_" if dashes else "o",
                markersize=12 if dashes else 9,
                markerfacecolor="none",
                markeredgecolor=LINE_FAINT,
                markeredgewidth=2.0 if dashes else 1.6,
            )
        )
        labels.append("Goals set")

    hour_ticks, goal_ticks = aligned_ticks(hours_max, goals_max, left_unit=0.5, right_unit=1)
    combo = _Combo(
        weeks=[p.week_start for p in points],
        bars=[h or 0.0 for h in hours],
        back_bars=None,
        line=[float(d) for d in done],
        rings=[float(g) for g in goals_set] if any(goals_set) else None,
        bar_ticks=hour_ticks,
        line_ticks=goal_ticks,
        bars_are_hours=True,
    )
    empty = None if total or goals_max else "No check-ins or goals in these weeks yet"
    name = _display_name(data.display_name, "Progress")
    return _combo_figure(name, facts, handles, labels, combo, empty)


def group_figure(data: GroupChartData) -> Figure:
    """The figure behind `render_group_chart` (public so tests can inspect its artists)."""
    points = fill_missing_weeks(data.weeks, GroupWeek)
    checked = [p.checked_in for p in points]
    members = [p.members for p in points]
    hours = [p.hours for p in points]
    has_members = any(m is not None for m in members)
    count_max = max([*checked, *(m for m in members if m is not None)])
    hours_max = max((h for h in hours if h is not None), default=0.0)

    latest = points[-1]
    if latest.members is not None:
        who = f"{latest.checked_in} of {plural(latest.members, 'member')} checked in"
    else:
        who = f"{plural(latest.checked_in, 'member')} checked in"
    facts = [f"Week of {week_label(latest.week_start)}: {who}"]
    if latest.hours is not None:
        amount = _fmt_hours(latest.hours)
        facts.append(f"{amount} h in total" if data.hours_kind == "total" else f"median {amount} h")

    handles: list[Artist] = [Patch(facecolor=BAR, edgecolor="none")]
    labels = ["Checked in"]
    if has_members:
        handles.append(Patch(facecolor=BAR_BACK, edgecolor="none"))
        labels.append("Members")
    handles.append(_line_handle())
    labels.append("Total hours" if data.hours_kind == "total" else "Median hours")

    count_ticks, hour_ticks = aligned_ticks(count_max, hours_max, left_unit=1, right_unit=0.5)
    combo = _Combo(
        weeks=[p.week_start for p in points],
        bars=[float(c) for c in checked],
        back_bars=[float(m or 0) for m in members] if has_members else None,
        line=[math.nan if h is None else h for h in hours],
        rings=None,
        bar_ticks=count_ticks,
        line_ticks=hour_ticks,
        bars_are_hours=False,
    )
    empty = None if count_max or hours_max else "No check-ins in these weeks yet"
    name = _display_name(data.group_name, "Study group")
    return _combo_figure(name, facts, handles, labels, combo, empty)


def render_progress_chart(data: ProgressChartData) -> bytes:
    """A member's weekly hours (bars) and goals done (line) as a WIDTH_PX x HEIGHT_PX PNG."""
    return _to_png(progress_figure(data))


def render_group_chart(data: GroupChartData) -> bytes:
    """A group's weekly check-ins (bars) and total or median hours (line) as a PNG."""
    return _to_png(group_figure(data))
