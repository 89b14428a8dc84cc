"""/progress figures through the service: per-week aggregates, averages, streak, chart."""

from __future__ import annotations

import struct
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.clock import FrozenClock
from bot.errors import InvalidInput
from bot.services.checkins import CheckInService
from bot.services.goals import GoalsService
from bot.services.progress import ProgressService
from db.engine import Database
from db.repositories.checkins import CheckInsRepository
from db.repositories.goals import GoalsRepository
from db.repositories.guild_settings import GuildSettingsRepository

GUILD = 1_100_000_000_000_000_001
USER = 1_200_000_000_000_000_002
OTHER = 1_200_000_000_000_000_003
THIS_MONDAY = date(2026, 11, 16)
WEEK = timedelta(days=7)


class World:
    def __init__(self, database: Database, clock: FrozenClock) -> None:
        engine = database.engine
        settings = GuildSettingsRepository(engine)
        self.settings = settings
        self.clock = clock
        self.goals = GoalsService(GoalsRepository(engine), settings, clock)
        self.checkins = CheckInService(CheckInsRepository(engine), settings, clock)
        self.progress = ProgressService(
            GoalsRepository(engine), CheckInsRepository(engine), settings, clock
        )


@pytest.fixture
def world(database: Database, clock: FrozenClock) -> World:
    return World(database, clock)


NOW = datetime(2026, 11, 18, 12, tzinfo=UTC)


async def test_weeks_are_listed_oldest_first_ending_this_week(world: World) -> None:
    progress = await world.progress.progress(GUILD, USER, 3)
    assert [w.week_start for w in progress.weeks] == [
        THIS_MONDAY - 2 * WEEK,
        THIS_MONDAY - WEEK,
        THIS_MONDAY,
    ]
    assert all(w.hours is None and w.goals_set == 0 for w in progress.weeks)
    assert progress.streak == 0 and progress.last_check_in is None
    assert progress.average_hours == 0


async def test_weekly_hours_goals_average_and_streak(world: World) -> None:
    # Two weeks ago: one check-in (4 h), one goal done of two.
    world.clock.set(NOW - 2 * WEEK)
    g = await world.goals.add(GUILD, USER, "old goal", None)
    await world.goals.add(GUILD, USER, "old open", None)
    await world.goals.mark_done(GUILD, USER, g.id)
    await world.checkins.record(GUILD, USER, hours=4)
    # Last week: nothing. This week: two days, 1.5 h + 0.5 h, one goal open.
    world.clock.set(NOW - timedelta(days=1))
    await world.checkins.record(GUILD, USER, hours=1.5)
    world.clock.set(NOW)
    await world.checkins.record(GUILD, USER, hours=0.5)
    await world.goals.add(GUILD, USER, "this week", 2)
    await world.checkins.record(GUILD, OTHER, hours=50)

    progress = await world.progress.progress(GUILD, USER, 4)
    assert [(w.hours, w.check_ins, w.goals_done, w.goals_set) for w in progress.weeks] == [
        (None, 0, 0, 0),
        (4.0, 1, 1, 2),
        (None, 0, 0, 0),
        (2.0, 2, 0, 1),
    ]
    assert progress.this_week.hours == 2.0
    assert progress.total_hours == 6.0 and progress.average_hours == 1.5
    assert progress.streak == 1
    assert progress.last_check_in == NOW


async def test_checked_in_without_hours_is_zero_not_missing(world: World) -> None:
    await world.checkins.record(GUILD, USER, done="read")
    assert (await world.progress.progress(GUILD, USER, 1)).this_week.hours == 0.0


async def test_weeks_before_the_range_do_not_count(world: World) -> None:
    world.clock.set(NOW - 3 * WEEK)
    await world.checkins.record(GUILD, USER, hours=9)
    world.clock.set(NOW)
    progress = await world.progress.progress(GUILD, USER, 2)
    assert progress.total_hours == 0 and len(progress.weeks) == 2


async def test_weeks_follow_the_guild_week_start(world: World) -> None:
    await world.settings.update(GUILD, NOW, week_start=6)  # Sunday
    await world.checkins.record(GUILD, USER, hours=1)
    progress = await world.progress.progress(GUILD, USER, 1)
    assert progress.this_week.week_start == date(2026, 11, 15)
    assert progress.this_week.hours == 1.0


async def test_data_filed_under_an_earlier_week_start_still_counts(world: World) -> None:
    await world.checkins.record(GUILD, USER, hours=2)  # filed under Monday 16 Nov
    await world.goals.add(GUILD, USER, "monday goal", None)
    await world.settings.update(GUILD, NOW, week_start=6)
    progress = await world.progress.progress(GUILD, USER, 2)
    assert progress.this_week.week_start == date(2026, 11, 15)
    assert (progress.this_week.hours, progress.this_week.goals_set) == (2.0, 1)
    assert progress.streak == 1


async def test_other_guilds_are_not_counted(world: World) -> None:
    await world.checkins.record(GUILD + 1, USER, hours=5)
    progress = await world.progress.progress(GUILD, USER, 1)
    assert progress.this_week.hours is None and progress.last_check_in is None


@pytest.mark.parametrize("weeks", [0, 53, -1])
async def test_range_is_1_to_52_weeks(world: World, weeks: int) -> None:
    with pytest.raises(InvalidInput):
        await world.progress.progress(GUILD, USER, weeks)


async def test_fifty_two_weeks_are_allowed(world: World) -> None:
    assert len((await world.progress.progress(GUILD, USER, 52)).weeks) == 52


async def test_chart_is_a_png_of_the_expected_size(world: World) -> None:
    await world.checkins.record(GUILD, USER, hours=3)
    progress = await world.progress.progress(GUILD, USER, 8)
    png = await world.progress.chart(progress, "Ada @everyone")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (1000, 500)
    assert 5_000 < len(png) < 1_000_000


async def test_chart_data_carries_the_name_and_weeks(world: World) -> None:
    await world.checkins.record(GUILD, USER, hours=3)
    progress = await world.progress.progress(GUILD, USER, 2)
    data = ProgressService.chart_data(progress, "Ada")
    assert data.display_name == "Ada"
    assert [(p.week_start, p.hours) for p in data.weeks] == [
        (THIS_MONDAY - WEEK, None),
        (THIS_MONDAY, 3.0),
    ]
