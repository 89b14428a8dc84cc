"""bot/formatting.py: the shared words, and escapes equal to discord.py's."""

from __future__ import annotations

from datetime import UTC, date, datetime

import discord
from hypothesis import given
from hypothesis import strategies as st

from bot.formatting import (
    cut,
    day_text,
    hours_text,
    inert,
    one_line,
    plural,
    rounded_hours_text,
    runs,
    safe,
    timestamp,
    week_text,
    weeks_text,
)


def test_plural() -> None:
    assert [plural(n, "goal") for n in (0, 1, 2)] == ["0 goals", "1 goal", "2 goals"]


def test_dates_are_english_on_every_weekday() -> None:
    days = [date(2026, 11, 16 + i) for i in range(7)]
    assert [day_text(d) for d in days] == [
        f"{w} {16 + i} Nov" for i, w in enumerate(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))
    ]
    assert week_text(date(2027, 1, 4)) == "week of 4 Jan"


def test_hours_as_typed_and_as_worked_out() -> None:
    assert [hours_text(h) for h in (0, 1.5, 0.25, 1 / 3)] == ["0 h", "1.5 h", "0.25 h", "0.33 h"]
    assert [rounded_hours_text(h) for h in (6, 4.26, 0.04)] == ["6 h", "4.3 h", "0 h"]
    assert [weeks_text(w) for w in (1, 0.7, -2, 1.04)] == [
        "1 week",
        "0.7 weeks",
        "2 weeks",
        "1 week",
    ]


def test_timestamp_styles() -> None:
    moment = datetime(2026, 11, 18, 12, tzinfo=UTC)
    assert timestamp(moment) == "<t:1795003200:F>"
    assert timestamp(moment, "R") == "<t:1795003200:R>"


def test_one_line() -> None:
    assert one_line("  read\n\tchapter   2 ") == "read chapter 2"
    assert one_line("") == ""


def test_cut() -> None:
    assert cut("short", 5) == "short"
    assert cut("read chapter 2", 6) == "read…"  # no space left before the mark
    assert len(cut("x" * 300, 100)) == 100


def test_runs() -> None:
    assert runs([1, 2, 3, 7, 9, 10]) == [(1, 3), (7, 7), (9, 10)]
    assert runs([]) == []


MARKS = st.text(alphabet="ab _*~`|\\>#-[]()<@!&:/.0123456789\n everyonehttps", max_size=60)


@given(MARKS)
def test_safe_is_discords_escapes(text: str) -> None:
    expected = discord.utils.escape_mentions(discord.utils.escape_markdown(text))
    assert safe(text) == expected


def test_safe_and_inert_on_hostile_text() -> None:
    hostile = "@everyone **bold** <@123456789012345678> [x](https://evil) @here"
    for escaped in (safe(hostile), inert(hostile)):
        assert "@everyone" not in escaped and "@here" not in escaped and "**" not in escaped
    assert "https://evil" in safe(hostile)  # links stay whole
    assert "\\<@" in inert(hostile)
