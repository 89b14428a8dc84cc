"""Check-ins through the service: one per local day, merging, validation, week hours, streak."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.clock import FrozenClock
from bot.errors import InvalidInput
from bot.services.checkins import CheckInService
from db.engine import Database
from db.repositories.checkins import CheckInsRepository
from db.repositories.guild_settings import GuildSettingsRepository
from db.repositories.member_preferences import MemberPreferencesRepository

GUILD = 1_100_000_000_000_000_001
USER = 1_200_000_000_000_000_002
OTHER = 1_200_000_000_000_000_003
WEEK = timedelta(days=7)


@pytest.fixture
def repository(database: Database) -> CheckInsRepository:
    return CheckInsRepository(database.engine)


@pytest.fixture
def preferences(database: Database) -> MemberPreferencesRepository:
    return MemberPreferencesRepository(database.engine)


@pytest.fixture
def service(
    database: Database, clock: FrozenClock, repository: CheckInsRepository
) -> CheckInService:
    return CheckInService(repository, GuildSettingsRepository(database.engine), clock)


async def test_check_in_records_the_given_answers(service: CheckInService) -> None:
    result = await service.record(
        GUILD, USER, hours=2.5, done=" videos ", next_steps="quiz", blockers="", mood=4
    )
    c = result.checkin
    assert (c.hours, c.done, c.next_steps, c.blockers, c.mood) == (2.5, "videos", "quiz", None, 4)
    assert c.local_day == date(2026, 11, 18) and c.week_key == date(2026, 11, 16)
    assert not c.is_update and result.week_hours == 2.5 and result.streak == 1


async def test_a_check_in_without_answers_still_counts(service: CheckInService) -> None:
    result = await service.record(GUILD, USER)
    assert result.checkin.hours is None and result.streak == 1 and result.week_hours == 0


async def test_second_check_in_the_same_day_updates_it(
    service: CheckInService, clock: FrozenClock, repository: CheckInsRepository
) -> None:
    await service.record(GUILD, USER, hours=1, done="reading", mood=2)
    clock.advance(timedelta(hours=6))
    result = await service.record(GUILD, USER, hours=3, blockers="tired")
    c = result.checkin
    assert c.is_update
    assert (c.hours, c.done, c.blockers, c.mood) == (3.0, "reading", "tired", 2)
    assert len(await repository.for_member(GUILD, USER)) == 1
    assert result.week_hours == 3.0


@pytest.mark.parametrize("count", [2, 10])
async def test_concurrent_check_ins_leave_exactly_one_row(
    service: CheckInService, repository: CheckInsRepository, count: int
) -> None:
    results = await asyncio.gather(
        *(service.record(GUILD, USER, hours=float(i)) for i in range(count))
    )
    rows = await repository.for_member(GUILD, USER)
    assert len(rows) == 1 and rows[0].revision == count
    assert sorted(r.checkin.revision for r in results) == list(range(1, count + 1))


async def test_member_timezone_decides_the_day(
    service: CheckInService,
    clock: FrozenClock,
    preferences: MemberPreferencesRepository,
    repository: CheckInsRepository,
) -> None:
    await preferences.set_timezone(GUILD, USER, "America/New_York", clock.now())
    for member in (USER, OTHER):
        clock.set(datetime(2026, 11, 18, 16, 0, tzinfo=UTC))  # 11:00 in New York
        await service.record(GUILD, member, hours=1)
        clock.set(datetime(2026, 11, 19, 4, 30, tzinfo=UTC))  # 23:30 in New York, 18 Nov
        await service.record(GUILD, member, hours=2)
    new_yorker = await repository.for_member(GUILD, USER)
    utc_member = await repository.for_member(GUILD, OTHER)
    assert [c.local_day for c in new_yorker] == [date(2026, 11, 18)]
    assert [c.local_day for c in utc_member] == [date(2026, 11, 18), date(2026, 11, 19)]


async def test_member_day_rolls_over_at_their_midnight(
    service: CheckInService,
    clock: FrozenClock,
    preferences: MemberPreferencesRepository,
    repository: CheckInsRepository,
) -> None:
    await preferences.set_timezone(GUILD, USER, "America/New_York", clock.now())
    clock.set(datetime(2026, 11, 19, 4, 30, tzinfo=UTC))  # 23:30 on 18 Nov
    await service.record(GUILD, USER, hours=1)
    clock.set(datetime(2026, 11, 19, 5, 30, tzinfo=UTC))  # 00:30 on 19 Nov
    await service.record(GUILD, USER, hours=1)
    days = [c.local_day for c in await repository.for_member(GUILD, USER)]
    assert days == [date(2026, 11, 18), date(2026, 11, 19)]


async def test_week_follows_the_guild_even_for_a_member_timezone(
    service: CheckInService,
    clock: FrozenClock,
    preferences: MemberPreferencesRepository,
    database: Database,
) -> None:
    await GuildSettingsRepository(database.engine).update(
        GUILD, clock.now(), timezone="Europe/Berlin"
    )
    await preferences.set_timezone(GUILD, USER, "America/Los_Angeles", clock.now())
    clock.set(datetime(2026, 11, 22, 23, 30, tzinfo=UTC))  # Mon 00:30 Berlin, Sun 15:30 LA
    result = await service.record(GUILD, USER)
    assert result.checkin.local_day == date(2026, 11, 22)
    assert result.checkin.week_key == date(2026, 11, 23)


async def test_week_hours_add_up_the_days(service: CheckInService, clock: FrozenClock) -> None:
    clock.set(datetime(2026, 11, 16, 9, tzinfo=UTC))
    await service.record(GUILD, USER, hours=1.5)
    clock.set(datetime(2026, 11, 17, 9, tzinfo=UTC))
    await service.record(GUILD, USER, hours=2)
    await service.record(GUILD, OTHER, hours=7)
    clock.set(datetime(2026, 11, 18, 9, tzinfo=UTC))
    assert (await service.record(GUILD, USER)).week_hours == 3.5


# ------------------------------------------------------------------------------ streak


async def check_in_weeks_ago(service: CheckInService, clock: FrozenClock, *ago: int) -> None:
    now = clock.now()
    for weeks in ago:
        clock.set(now - weeks * WEEK)
        await service.record(GUILD, USER, hours=1)
    clock.set(now)


async def test_streak_counts_consecutive_weeks_ending_this_week(
    service: CheckInService, clock: FrozenClock
) -> None:
    await check_in_weeks_ago(service, clock, 3, 2, 1)
    assert (await service.record(GUILD, USER)).streak == 4


async def test_streak_may_end_last_week(service: CheckInService, clock: FrozenClock) -> None:
    await check_in_weeks_ago(service, clock, 2, 1)
    assert await service.streak(GUILD, USER) == 2


async def test_a_missed_week_breaks_the_streak(service: CheckInService, clock: FrozenClock) -> None:
    await check_in_weeks_ago(service, clock, 4, 3, 1)
    assert await service.streak(GUILD, USER) == 1
    await check_in_weeks_ago(service, clock, 5)
    assert await service.streak(GUILD, USER) == 1


async def test_streak_is_zero_after_two_quiet_weeks(
    service: CheckInService, clock: FrozenClock
) -> None:
    await check_in_weeks_ago(service, clock, 3, 2)
    assert await service.streak(GUILD, USER) == 0


async def test_several_check_ins_in_one_week_count_once(
    service: CheckInService, clock: FrozenClock
) -> None:
    clock.set(datetime(2026, 11, 16, 9, tzinfo=UTC))
    await service.record(GUILD, USER)
    clock.set(datetime(2026, 11, 17, 9, tzinfo=UTC))
    assert (await service.record(GUILD, USER)).streak == 1


# -------------------------------------------------------------------------- validation


@pytest.mark.parametrize("hours", [-0.1, 100.5, math.nan, math.inf])
async def test_hours_outside_0_to_100_are_refused(service: CheckInService, hours: float) -> None:
    with pytest.raises(InvalidInput, match="hours must be a number between 0 and 100"):
        await service.record(GUILD, USER, hours=hours)


@pytest.mark.parametrize("mood", [0, 6, -3])
async def test_mood_outside_1_to_5_is_refused(service: CheckInService, mood: int) -> None:
    with pytest.raises(InvalidInput, match=r"1 .*5"):
        await service.record(GUILD, USER, mood=mood)


async def test_notes_longer_than_1000_are_refused(
    service: CheckInService, repository: CheckInsRepository
) -> None:
    with pytest.raises(InvalidInput, match="1000"):
        await service.record(GUILD, USER, blockers="b" * 1001)
    assert await repository.for_member(GUILD, USER) == []


async def test_form_answers_are_parsed(service: CheckInService) -> None:
    result = await service.record_form(
        GUILD, USER, hours=" 2,5 ", done="docs", next_steps="", blockers="", mood=" 5 "
    )
    assert (result.checkin.hours, result.checkin.mood, result.checkin.done) == (2.5, 5, "docs")


@pytest.mark.parametrize("hours", ["lots", "101", "-2", "nan", "1e9"])
async def test_form_hours_must_be_a_number_in_range(service: CheckInService, hours: str) -> None:
    with pytest.raises(InvalidInput, match="hours must be a number between 0 and 100"):
        await service.record_form(GUILD, USER, hours=hours)


@pytest.mark.parametrize("mood", ["great", "0", "6", "4.5", "-1"])
async def test_form_mood_must_be_1_to_5(service: CheckInService, mood: str) -> None:
    with pytest.raises(InvalidInput, match="Mood"):
        await service.record_form(GUILD, USER, mood=mood)


async def test_empty_form_fields_keep_earlier_answers(service: CheckInService) -> None:
    await service.record(GUILD, USER, hours=2, done="notes", mood=3)
    result = await service.record_form(GUILD, USER, blockers="wifi")
    c = result.checkin
    assert (c.hours, c.done, c.mood, c.blockers) == (2.0, "notes", 3, "wifi")
