"""Course plans through the services on a real database: pace kept across time away, a change
of week start and a DST week, the group's standings, and the week's share added once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.app import build_services
from bot.clock import FrozenClock
from bot.services import Services
from db.engine import Database

GUILD = 1_100_000_000_000_000_001
SAM = 1_200_000_000_000_000_002
ADA = 1_200_000_000_000_000_003
START = datetime(2026, 10, 5, 12, tzinfo=UTC)  # a Monday


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
async def services(database: Database, clock: FrozenClock) -> Services:
    built = build_services(database, clock)
    await built.plans.import_pack(GUILD, "meta-back-end")
    return built


async def check_in_weekly(
    services: Services, clock: FrozenClock, user: int, hours: list[float]
) -> None:
    """One check-in in each of the coming weeks (Wednesdays), leaving the clock after them."""
    for week, value in enumerate(hours):
        clock.set(START + timedelta(weeks=week, days=2))
        if value:
            await services.checkins.record(GUILD, user, hours=value)


async def test_pace_kept_skips_weeks_away_and_the_target_moves(
    services: Services, clock: FrozenClock
) -> None:
    await services.plans.start(GUILD, SAM, "meta-back-end", "2027-06-30", None)
    await check_in_weekly(services, clock, SAM, [4, 4, 0, 0, 8, 8])
    # Away for the two empty weeks (19 Oct to 2 Nov), booked as they began.
    clock.set(datetime(2026, 10, 19, 0, tzinfo=UTC))
    await services.away.go(GUILD, SAM, 2)
    clock.set(datetime(2026, 11, 16, 9, tzinfo=UTC))  # a Monday: six finished weeks
    view = await services.plans.show(GUILD, SAM)
    # The last four weeks not away: 8, 8, 4, 4.
    assert view.assessment.pace_kept == pytest.approx(6.0)
    assert view.assessment.target == date(2027, 7, 14)
    assert await services.checkins.streak(GUILD, SAM) == 4


async def test_a_change_of_week_start_keeps_earlier_check_ins_counting(
    services: Services, clock: FrozenClock
) -> None:
    await services.plans.start(GUILD, SAM, "meta-back-end", None, 6)
    await check_in_weekly(services, clock, SAM, [6, 6, 6, 6])
    await services.guild_settings.set_week_start(GUILD, 6)  # Sunday
    clock.set(datetime(2026, 11, 3, 12, tzinfo=UTC))
    view = await services.plans.show(GUILD, SAM)
    assert view.week.key == date(2026, 11, 1)
    assert view.assessment.pace_kept == pytest.approx(6.0)


async def test_a_dst_week_counts_like_any_other(services: Services, clock: FrozenClock) -> None:
    await services.guild_settings.set_timezone(GUILD, "Europe/Berlin")
    await services.plans.start(GUILD, SAM, "meta-back-end", None, 5)
    await check_in_weekly(services, clock, SAM, [6, 6, 6, 6, 6])  # 25 Oct: clocks go back
    clock.set(datetime(2026, 11, 9, 7, tzinfo=UTC))
    view = await services.plans.show(GUILD, SAM)
    assert view.week.key == date(2026, 11, 9)
    assert view.assessment.pace_kept == pytest.approx(6.0)
    assert view.assessment.on_track


async def test_standings_and_the_summary_figure_name_nobody(
    services: Services, clock: FrozenClock
) -> None:
    await services.plans.start(GUILD, SAM, "meta-back-end", None, 6)
    await services.plans.start(GUILD, ADA, "meta-back-end", None, 6)
    await check_in_weekly(services, clock, SAM, [7, 7, 7])
    standings = {s.user_id: s for s in await services.plans.standings(GUILD)}
    assert standings[SAM].assessment.on_track and not standings[ADA].assessment.on_track
    assert standings[SAM].next_module == "Introduction to Back-End Development"
    assert await services.plans.on_track_figure(GUILD) == "1 of 2 members on plans"
    notes = await services.plans.nudge_notes(GUILD, [SAM, ADA])
    assert "behind your plan" in notes[ADA] and "behind pace" in notes[ADA]


async def test_the_weeks_share_is_added_once(services: Services, clock: FrozenClock) -> None:
    await services.plans.start(GUILD, SAM, "meta-back-end", None, 20)
    first = await services.plans.add_week_goals(GUILD, SAM)
    assert first.added == (
        "Plan: Introduction to Back-End Development",
        "Plan: Programming in Python",
    )
    again = await services.plans.add_week_goals(GUILD, SAM)
    assert again.added == () and again.plan.added_before
    goals = await services.goals.week_goals(GUILD, SAM)
    assert [(g.text, g.hours) for g in goals.goals] == [
        ("Plan: Introduction to Back-End Development", 18.0),
        ("Plan: Programming in Python", 2.0),
    ]
