"""What /goal, /checkin and /progress show: user text escaped, within Discord's limits."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.domain.weeks import StudyWeek
from bot.formatting import safe
from bot.services.checkins import CheckInResult
from bot.services.goals import WeekGoals
from bot.services.progress import Progress, WeekProgress
from cogs._study_text import checkin_text
from cogs.checkin import progress_embed
from cogs.goals import choice_name, goal_lines, progress_bar, week_embed
from db.repositories.checkins import CheckIn
from db.repositories.goals import Goal

NOW = datetime(2026, 11, 18, 12, tzinfo=UTC)
WEEK = StudyWeek(date(2026, 11, 16), ZoneInfo("UTC"))
SNOWFLAKE = 1_200_000_000_000_000_002


def goal(i: int, text: str, *, done: bool = False, hours: float | None = None) -> Goal:
    return Goal(
        id=i,
        guild_id=1,
        user_id=2,
        week_key=WEEK.key,
        slot=i,
        text=text,
        hours=hours,
        done_at=NOW if done else None,
        carried_from=None,
        created_at=NOW,
    )


def test_progress_bar_has_one_segment_per_goal() -> None:
    assert progress_bar(3, 5) == "▰▰▰▱▱ 3/5"
    assert progress_bar(0, 1) == "▱ 0/1"
    assert progress_bar(10, 10) == "▰" * 10 + " 10/10"


def test_ten_goals_of_markdown_fit_the_list_embed() -> None:
    # Every character doubles when escaped: 10 × 400 would overflow a description.
    goals = tuple(goal(i, "*_~|`" * 40, done=i % 2 == 0, hours=80.0) for i in range(1, 11))
    embed = week_embed(WeekGoals(WEEK, goals), "x" * 32, "this")
    assert embed.description is not None
    assert len(embed.description) <= 4096
    assert len(embed) <= 6000
    assert len(embed.title or "") <= 256
    assert all("\\*" in line for line in goal_lines(goals))


def test_short_goals_are_shown_whole_with_status_and_hours() -> None:
    goals = (goal(1, "Read chapter 2", done=True, hours=2), goal(2, "Quiz"))
    lines = goal_lines(goals)
    assert lines == ["✅ Read chapter 2 · 2 h", "⬜ Quiz"]


def test_goal_text_cannot_ping_or_format() -> None:
    (line,) = goal_lines((goal(1, f"@everyone **bold** <@{SNOWFLAKE}> @here"),))
    assert "@everyone" not in line and "@here" not in line
    assert f"<@{SNOWFLAKE}>" not in line
    assert "\\*\\*bold\\*\\*" in line


def test_empty_week_says_how_to_start() -> None:
    embed = week_embed(WeekGoals(WEEK, ()), "Sam", "this")
    assert embed.description is not None and "/goal add" in embed.description


def test_choice_names_fit_discords_limit() -> None:
    assert len(choice_name(goal(1, "y" * 200))) == 100
    assert choice_name(goal(2, "short", done=True)) == "✅ short"


def test_check_in_reply_shows_week_hours_and_streak() -> None:
    checkin = CheckIn(
        id=1,
        guild_id=1,
        user_id=2,
        local_day=date(2026, 11, 18),
        week_key=WEEK.key,
        hours=1.5,
        done=None,
        next_steps=None,
        blockers=None,
        mood=None,
        revision=2,
        created_at=NOW,
        updated_at=NOW,
    )
    text = checkin_text(CheckInResult(checkin, WEEK, 3.5, 4))
    assert "Updated" in text and "Wed 18 Nov" in text
    assert "3.5 h" in text and "4 weeks" in text


def test_progress_embed_fields() -> None:
    weeks = tuple(
        WeekProgress(date(2026, 11, 2 + 7 * i), float(i) if i else None, i, i, 2) for i in range(3)
    )
    progress = Progress(1, 2, weeks, WEEK, streak=2, last_check_in=NOW)
    embed = progress_embed(progress, safe("Ada_@everyone"))
    fields = {field.name: field.value for field in embed.fields}
    assert fields["Goals this week"] == "▰▰ 2/2"
    assert fields["Hours this week"] == "2 h"
    assert fields["Weekly average"] == "1 h"
    assert fields["Streak"] == "🔥 2 weeks"
    assert fields["Last check-in"] == f"<t:{int(NOW.timestamp())}:R>"
    assert embed.image.url == "attachment://progress.png"
    assert "@everyone" not in (embed.title or "")
