"""Tests for bot.charts: PNG structure, titles, labels, edge cases, thread safety."""

from __future__ import annotations

import ast
import asyncio
import io
import itertools
import logging
import math
import struct
import threading
import warnings
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.image import imread

from bot import charts
from bot.charts import (
    DPI,
    HEIGHT_PX,
    MAX_NAME_CHARS,
    MAX_WEEKS,
    MAX_X_LABELS,
    WIDTH_PX,
    GroupChartData,
    GroupWeek,
    ProgressChartData,
    WeekPoint,
    aligned_ticks,
    chart_title,
    date_range_text,
    drawable_text,
    fill_missing_weeks,
    group_figure,
    progress_figure,
    render_group_chart,
    render_progress_chart,
    thin_labels,
    week_label,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MONDAY = date(2026, 10, 5)
MIN_BYTES = 12_000
MAX_BYTES = 150_000


# --------------------------------------------------------------------------- helpers


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, after checking the PNG's framing."""
    assert png[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", png[8:16])
    assert (length, kind) == (13, b"IHDR")
    ihdr = png[16:29]
    (crc,) = struct.unpack(">I", png[29:33])
    assert crc == zlib.crc32(kind + ihdr)
    width, height, bit_depth, colour_type, _comp, _filter, _interlace = struct.unpack(
        ">IIBBBBB", ihdr
    )
    assert (bit_depth, colour_type) == (8, 6)  # 8-bit RGBA: transparent corners
    assert png[-12:] == b"\x00\x00\x00\x00IEND\xaeB`\x82"
    return width, height


def assert_chart_png(png: bytes) -> None:
    assert png_size(png) == (WIDTH_PX, HEIGHT_PX)
    assert MIN_BYTES <= len(png) <= MAX_BYTES, len(png)


def weeks(
    count: int, make: Callable[[int], tuple[float | None, int, int]]
) -> tuple[WeekPoint, ...]:
    return tuple(WeekPoint(MONDAY + timedelta(weeks=i), *make(i)) for i in range(count))


def progress(name: str = "Sam", count: int = 8) -> ProgressChartData:
    return ProgressChartData(
        name, weeks(count, lambda i: (None if i % 7 == 4 else 2.5 + (i * 3) % 7, i % 4, 4))
    )


def group(name: str = "Back-End Crew", count: int = 8, **kw: object) -> GroupChartData:
    return GroupChartData(
        name,
        tuple(
            GroupWeek(MONDAY + timedelta(weeks=i), 10 + i % 5, 40.0 + 3.5 * i, 20 + i // 3)
            for i in range(count)
        ),
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def strict_warnings(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Any warning is an error, and matplotlib must log nothing at WARNING or above."""
    with caplog.at_level(logging.WARNING), warnings.catch_warnings():
        warnings.simplefilter("error")
        yield
    noisy = [r for r in caplog.records if r.name.startswith("matplotlib")]
    assert not noisy, [r.getMessage() for r in noisy]


# --------------------------------------------------------------------------- PNG output


def test_progress_chart_is_a_1000x500_png() -> None:
    png = render_progress_chart(progress(count=12))
    assert_chart_png(png)
    assert (WIDTH_PX, HEIGHT_PX, DPI) == (1000, 500, 100)


def test_group_chart_is_a_1000x500_png() -> None:
    assert_chart_png(render_group_chart(group()))


def test_output_is_deterministic() -> None:
    data = progress(count=12)
    assert render_progress_chart(data) == render_progress_chart(data)
    assert render_group_chart(group()) == render_group_chart(group())


def test_corners_are_transparent_and_the_card_is_opaque() -> None:
    """A solid card with transparent rounded corners reads the same on dark and light themes."""
    pixels = imread(io.BytesIO(render_progress_chart(progress())))
    assert pixels.shape == (HEIGHT_PX, WIDTH_PX, 4)
    for y, x in ((0, 0), (0, WIDTH_PX - 1), (HEIGHT_PX - 1, 0), (HEIGHT_PX - 1, WIDTH_PX - 1)):
        assert pixels[y, x, 3] == 0
    card = np.array([int(charts.CARD[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    for y, x in ((10, 500), (250, 8), (490, 990)):  # inside the card, away from the ink
        assert pixels[y, x, 3] == pytest.approx(1.0)
        assert np.allclose(pixels[y, x, :3], card, atol=1 / 255)


def _luminance(colour: str) -> float:
    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(int(colour[i : i + 2], 16) / 255) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize(
    ("colour", "minimum"),
    [
        (charts.TEXT, 7.0),
        (charts.TEXT_MUTED, 4.5),
        (charts.TEXT_FAINT, 4.5),
        (charts.BAR, 3.0),  # WCAG non-text contrast
        (charts.LINE, 3.0),
        (charts.LINE_FAINT, 3.0),
    ],
)
def test_palette_contrast_on_the_card(colour: str, minimum: float) -> None:
    assert _contrast(colour, charts.CARD) >= minimum


# --------------------------------------------------------------------------- titles and text


def test_chart_title_formats() -> None:
    assert chart_title("Sam", date(2026, 10, 6), date(2026, 11, 24)) == (
        "Sam — 6 Oct to 24 Nov 2026"
    )
    assert chart_title("Sam", date(2025, 12, 29), date(2026, 2, 16)) == (
        "Sam — 29 Dec 2025 to 16 Feb 2026"
    )
    assert chart_title("Sam", date(2026, 3, 2), date(2026, 3, 2)) == "Sam — week of 2 Mar 2026"


def test_week_label_and_range() -> None:
    assert week_label(date(2026, 3, 3)) == "3 Mar"
    assert week_label(date(2026, 12, 28)) == "28 Dec"
    with pytest.raises(ValueError):
        date_range_text(date(2026, 3, 9), date(2026, 3, 2))


def test_dollar_signs_are_literal() -> None:
    assert chart_title("$money$", MONDAY, MONDAY) == "$money$ — week of 5 Oct 2026"
    assert drawable_text(r"$\frac{1}{2}$ ^_^") == r"$\frac{1}{2}$ ^_^"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Sam 🚀🔥", "Sam"),
        ("👩‍💻 Ana", "Ana"),  # emoji ZWJ sequence
        ("Ana\u200dMaría", "AnaMaría"),
        ("José Ñúñez", "José Ñúñez"),
        ("Алёна Ω", "Алёна Ω"),
        ("𝐒𝐚𝐦 ｗｉｄｅ", "Sam wide"),  # compatibility forms the font lacks
        ("evil\u202eexe.txt", "evilexe.txt"),  # bidi override dropped
        ("two\nlines\tand  spaces ", "two lines and spaces"),
        ("山田 Taro", "□□ Taro"),  # a script the font lacks
    ],
)
def test_drawable_text(name: str, expected: str) -> None:
    assert drawable_text(name) == expected


@pytest.mark.parametrize("name", ["", "   ", "🚀🚀", "山田太郎", "\u200b\u200d"])
def test_undrawable_names_fall_back(name: str) -> None:
    assert chart_title(name, MONDAY, MONDAY, fallback="Progress") == (
        "Progress — week of 5 Oct 2026"
    )


def test_long_names_are_truncated_with_an_ellipsis() -> None:
    name = "Maximilian Alexander Featherstonehaugh-Smythe"
    cleaned = drawable_text(name)
    assert len(cleaned) == MAX_NAME_CHARS
    assert cleaned.endswith("…")
    assert name.startswith(cleaned[:-1])
    assert drawable_text("a" * MAX_NAME_CHARS) == "a" * MAX_NAME_CHARS
    # Never cut a base letter from its accent.
    accented = "e" * 30 + "e\u0301x"
    assert drawable_text(accented) == "e" * 30 + "…"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80), st.integers(min_value=1, max_value=64))
def test_drawable_text_only_emits_drawable_characters(text: str, max_chars: int) -> None:
    cleaned = drawable_text(text, max_chars)
    assert len(cleaned) <= max_chars
    assert cleaned == cleaned.strip()
    covered = charts._font_coverage()
    assert all(ord(c) in covered for c in cleaned), cleaned
    assert "\n" not in cleaned


def test_figure_title_is_the_chart_title_without_mathtext() -> None:
    data = progress("$money$ Sam", count=8)
    fig = progress_figure(data)
    title = fig.texts[0]
    assert title.get_text() == chart_title(
        data.display_name, data.weeks[0].week_start, data.weeks[-1].week_start
    )
    assert title.get_parse_math() is False


def test_group_title_names_the_group_only() -> None:
    fig = group_figure(group("Night Owls 🦉"))
    assert fig.texts[0].get_text() == "Night Owls — 5 Oct to 23 Nov 2026"
    assert fig.texts[0].get_parse_math() is False


def test_wide_titles_are_fitted_inside_the_card() -> None:
    fig = progress_figure(progress("W" * 40, count=52))
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    title = fig.texts[0]
    box = title.get_window_extent(renderer)
    assert box.x1 <= WIDTH_PX * charts._RIGHT + 1
    assert title.get_text().endswith(" — 5 Oct 2026 to 27 Sep 2027")
    assert "…" in title.get_text()


def test_facts_row_never_overlaps_the_legend() -> None:
    fig = progress_figure(progress("Sam", count=52))
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    facts = fig.texts[1]
    legend = fig.legends[0]
    assert facts.get_text().split("  ·  ")[0].endswith(" h studied")
    assert facts.get_window_extent(renderer).x1 < legend.get_window_extent(renderer).x0


# --------------------------------------------------------------------------- labels and scales


def test_thin_labels_keeps_everything_when_few() -> None:
    labels = [f"{i} Mar" for i in range(1, 13)]
    assert thin_labels(labels) == labels
    assert thin_labels([]) == []


def test_thin_labels_for_a_year() -> None:
    labels = [str(i) for i in range(52)]
    thinned = thin_labels(labels, 13)
    kept = [i for i, label in enumerate(thinned) if label]
    assert len(thinned) == 52
    assert len(kept) <= 13
    assert kept[-1] == 51  # the latest week always has its label
    assert len({b - a for a, b in itertools.pairwise(kept)}) == 1
    assert all(thinned[i] == labels[i] for i in kept)


def test_thin_labels_rejects_zero() -> None:
    with pytest.raises(ValueError):
        thin_labels(["a"], 0)


@given(st.integers(min_value=0, max_value=200), st.integers(min_value=1, max_value=40))
def test_thin_labels_properties(n: int, max_labels: int) -> None:
    labels = [f"w{i}" for i in range(n)]
    thinned = thin_labels(labels, max_labels)
    kept = [i for i, label in enumerate(thinned) if label]
    assert len(thinned) == n
    assert len(kept) <= max_labels or thinned == labels
    if n <= max_labels:
        assert thinned == labels
    if n:
        assert kept[-1] == n - 1
        assert len({b - a for a, b in itertools.pairwise(kept)}) <= 1


def test_x_tick_labels_on_the_chart() -> None:
    data = progress(count=12)
    fig = progress_figure(data)
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels == [week_label(w.week_start) for w in data.weeks]
    assert labels[0] == "5 Oct"

    fig = progress_figure(progress(count=52))
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert 1 < len(labels) <= MAX_X_LABELS
    assert labels[-1] == week_label(MONDAY + timedelta(weeks=51))


@pytest.mark.parametrize(
    ("hours_max", "goals_max"), [(0, 0), (0.4, 1), (9.5, 5), (80, 10), (23.7, 2), (100, 0)]
)
def test_aligned_ticks(hours_max: float, goals_max: int) -> None:
    hours, goals = aligned_ticks(hours_max, goals_max, left_unit=0.5, right_unit=1)
    assert len(hours) == len(goals) in (4, 5, 6)  # shared gridlines
    assert hours[0] == goals[0] == 0
    assert hours[-1] >= hours_max
    assert goals[-1] >= goals_max
    assert all(math.isclose(h * 2, round(h * 2)) for h in hours)  # half hours
    assert all(g == int(g) for g in goals)  # whole goals


def test_goal_axis_has_integer_ticks_and_shares_gridlines() -> None:
    fig = progress_figure(progress(count=12))
    bars, line = fig.axes
    goal_ticks = line.get_yticks()
    assert all(t == int(t) for t in goal_ticks)
    assert len(goal_ticks) == len(bars.get_yticks())
    assert [t.get_text() for t in bars.get_yticklabels()][-1].endswith(" h")


# --------------------------------------------------------------------------- data


def test_fill_missing_weeks() -> None:
    a, b = WeekPoint(MONDAY, 1.0), WeekPoint(MONDAY + timedelta(weeks=3), 2.0)
    filled = fill_missing_weeks([a, b], WeekPoint)
    assert [w.week_start for w in filled] == [MONDAY + timedelta(weeks=i) for i in range(4)]
    assert filled[1] == WeekPoint(MONDAY + timedelta(weeks=1))
    odd = WeekPoint(MONDAY + timedelta(days=10))  # week start changed: left alone
    assert fill_missing_weeks([a, odd], WeekPoint) == [a, odd]


def test_gaps_render_as_empty_weeks() -> None:
    data = ProgressChartData(
        "Sam", (WeekPoint(MONDAY, 2.0), WeekPoint(MONDAY + timedelta(weeks=4), 3.0))
    )
    fig = progress_figure(data)
    assert len(fig.axes[0].get_xticklabels()) == 5
    assert "checked in 2 of 5 weeks" in fig.texts[1].get_text()


@pytest.mark.parametrize(
    "bad",
    [
        lambda: WeekPoint(MONDAY, -1.0),
        lambda: WeekPoint(MONDAY, math.nan),
        lambda: WeekPoint(MONDAY, math.inf),
        lambda: WeekPoint(MONDAY, 1.0, goals_done=-1),
        lambda: GroupWeek(MONDAY, checked_in=-1),
        lambda: GroupWeek(MONDAY, members=-2),
        lambda: ProgressChartData("Sam", ()),
        lambda: ProgressChartData("Sam", weeks(MAX_WEEKS + 1, lambda i: (1.0, 0, 0))),
        lambda: ProgressChartData("Sam", (WeekPoint(MONDAY), WeekPoint(MONDAY))),
        lambda: ProgressChartData(
            "Sam", (WeekPoint(MONDAY + timedelta(weeks=1)), WeekPoint(MONDAY))
        ),
        lambda: ProgressChartData(  # two points, but a span of 53 weeks
            "Sam", (WeekPoint(MONDAY), WeekPoint(MONDAY + timedelta(weeks=52)))
        ),
        lambda: GroupChartData("G", (GroupWeek(MONDAY),), hours_kind="mean"),  # type: ignore[arg-type]
    ],
)
def test_invalid_data_is_rejected(bad: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        bad()


def test_data_is_frozen_and_lists_become_tuples() -> None:
    data = ProgressChartData("Sam", list(progress().weeks))  # type: ignore[arg-type]
    assert isinstance(data.weeks, tuple)
    with pytest.raises(AttributeError):
        data.display_name = "Other"  # type: ignore[misc]
    hash(data)


# --------------------------------------------------------------------------- edge cases


PROGRESS_EDGE_CASES = {
    "all zeros": ProgressChartData("Zero", weeks(8, lambda i: (0.0, 0, 0))),
    "no check-ins": ProgressChartData("Nobody", weeks(8, lambda i: (None, 0, 0))),
    "one week": ProgressChartData("Solo", weeks(1, lambda i: (3.5, 1, 2))),
    "52 weeks": ProgressChartData(
        "Year", weeks(52, lambda i: (None if i % 9 == 0 else (i * 7) % 13 + 0.5, i % 6, 6))
    ),
    "goals but no hours": ProgressChartData("G", weeks(4, lambda i: (None, i, 4))),
    "huge hours": ProgressChartData("Big", weeks(6, lambda i: (99.5, 40, 80))),
    "tiny hours": ProgressChartData("Tiny", weeks(6, lambda i: (0.1 * i, 0, 0))),
    "long name": ProgressChartData("W" * 200, weeks(8, lambda i: (1.0, 1, 1))),
    "emoji name": ProgressChartData("🔥 Sam 👩‍💻🚀 ✨", weeks(8, lambda i: (1.0, 1, 1))),
    "cjk name": ProgressChartData("山田太郎", weeks(8, lambda i: (1.0, 1, 1))),
    "dollars": ProgressChartData("$money$", weeks(8, lambda i: (1.0, 1, 1))),
    "mathtext": ProgressChartData(r"$\frac{a}{$$ \sqrt{ ^_^ %", weeks(3, lambda i: (1.0, 1, 1))),
    "control chars": ProgressChartData("a\x00b\x1b[31m\u202e\n", weeks(3, lambda i: (1.0, 1, 1))),
    "empty name": ProgressChartData("", weeks(3, lambda i: (1.0, 1, 1))),
    "across new year": ProgressChartData(
        "Sam", tuple(WeekPoint(date(2025, 12, 15) + timedelta(weeks=i), 2.0) for i in range(8))
    ),
}

GROUP_EDGE_CASES = {
    "typical": group(),
    "median": group(hours_kind="median"),
    "nobody": GroupChartData(
        "Quiet", tuple(GroupWeek(MONDAY + timedelta(weeks=i)) for i in range(8))
    ),
    "one week": GroupChartData("Tiny", (GroupWeek(MONDAY, 1, 0.5, 1),)),
    "no member counts": GroupChartData(
        "G", tuple(GroupWeek(MONDAY + timedelta(weeks=i), i, i * 2.0) for i in range(8))
    ),
    "missing hours": GroupChartData(
        "G",
        tuple(GroupWeek(MONDAY + timedelta(weeks=i), 3, None if i % 2 else 5.0) for i in range(8)),
    ),
    "emoji and dollars": group("🦉 $Night$ Owls 🌙" * 5),
    "52 weeks": group(count=52),
}


@pytest.mark.usefixtures("strict_warnings")
@pytest.mark.parametrize("case", list(PROGRESS_EDGE_CASES), ids=list(PROGRESS_EDGE_CASES))
def test_progress_edge_cases_render_cleanly(case: str) -> None:
    assert_chart_png(render_progress_chart(PROGRESS_EDGE_CASES[case]))


@pytest.mark.usefixtures("strict_warnings")
@pytest.mark.parametrize("case", list(GROUP_EDGE_CASES), ids=list(GROUP_EDGE_CASES))
def test_group_edge_cases_render_cleanly(case: str) -> None:
    assert_chart_png(render_group_chart(GROUP_EDGE_CASES[case]))


def test_guard_matplotlib_does_warn_about_missing_glyphs() -> None:
    """Sanity check for the tests above: unfiltered emoji would warn, so silence is meaningful."""
    fig = Figure(figsize=(2, 1))
    FigureCanvasAgg(fig)
    fig.text(0.1, 0.5, "Sam 🚀")
    with pytest.warns(UserWarning, match="Glyph"):
        fig.savefig(io.BytesIO(), format="png")


def test_empty_data_shows_a_note() -> None:
    fig = progress_figure(PROGRESS_EDGE_CASES["no check-ins"])
    notes = [t.get_text() for t in fig.axes[0].texts]
    assert notes == ["No check-ins or goals in these weeks yet"]
    assert len(progress_figure(progress()).axes[0].texts) == 0


# --------------------------------------------------------------------------- concurrency


def _eight_charts() -> list[tuple[Callable[..., bytes], object]]:
    return [
        (render_progress_chart, progress("Sam", 12)),
        (render_progress_chart, PROGRESS_EDGE_CASES["52 weeks"]),
        (render_progress_chart, PROGRESS_EDGE_CASES["emoji name"]),
        (render_progress_chart, PROGRESS_EDGE_CASES["dollars"]),
        (render_group_chart, group()),
        (render_group_chart, GROUP_EDGE_CASES["median"]),
        (render_group_chart, GROUP_EDGE_CASES["nobody"]),
        (render_progress_chart, PROGRESS_EDGE_CASES["one week"]),
    ]


def test_concurrent_renders_in_threads_match_serial_renders() -> None:
    jobs = _eight_charts()
    expected = [render(data) for render, data in jobs]
    start = threading.Barrier(len(jobs))

    def run(job: tuple[Callable[..., bytes], object]) -> bytes:
        render, data = job
        start.wait(timeout=30)
        return render(data)

    for _ in range(2):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
                results = list(pool.map(run, jobs))
        for png, want in zip(results, expected, strict=True):
            assert_chart_png(png)
            assert png == want


async def test_renders_off_the_event_loop_with_to_thread() -> None:
    pngs = await asyncio.gather(
        *(asyncio.to_thread(render, data) for render, data in _eight_charts())
    )
    assert len(set(pngs)) == len(pngs)
    for png in pngs:
        assert_chart_png(png)


def test_module_imports_no_pyplot_discord_or_database() -> None:
    tree = ast.parse(Path(charts.__file__).read_text(encoding="utf-8"))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    banned = ("matplotlib.pyplot", "discord", "db", "sqlalchemy", "aiosqlite", "asyncpg")
    assert not [m for m in modules if m.split(".")[0] in banned or m.startswith(banned[0])]
