"""Schedules, occurrences and nudges repositories on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.domain.weeks import StudyWeek, streak
from db.engine import Database
from db.repositories.member_preferences import MemberPreferencesRepository
from db.repositories.nudges import NudgeRepository
from db.repositories.occurrences import (
    CLAIMED,
    MISSED,
    PENDING,
    SENT,
    NewOccurrence,
    NudgePlan,
    OccurrenceRepository,
)
from db.repositories.schedules import NewSchedule, Schedule, ScheduleRepository
from db.repositories.summaries import StudySummaryRepository

NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)
GUILD = 1_100_000_000_000_000_001
OTHER_GUILD = 1_100_000_000_000_000_002
CHANNEL = 1_300_000_000_000_000_003
MODERATOR = 1_200_000_000_000_000_009


def reminder(guild_id: int = GUILD, channel_id: int = CHANNEL) -> NewSchedule:
    return NewSchedule(guild_id, "reminder", "mon 09:00", channel_id, "Read chapter 3", MODERATOR)


async def add_schedule(database: Database, guild_id: int = GUILD) -> Schedule:
    return await ScheduleRepository(database.engine).add(reminder(guild_id), NOW)


async def pending_occurrence(database: Database, fire_at: datetime = NOW) -> int:
    schedule = await add_schedule(database)
    repo = OccurrenceRepository(database.engine)
    await repo.record([NewOccurrence(schedule.id, fire_at)], NOW)
    (occurrence,) = await repo.for_schedule(schedule.id)
    return occurrence.id


# -- schedules -------------------------------------------------------------------------------


async def test_a_schedule_is_visible_only_in_its_own_guild(database: Database) -> None:
    repo = ScheduleRepository(database.engine)
    schedule = await repo.add(reminder(), NOW)
    assert await repo.get(GUILD, schedule.id) == schedule
    assert await repo.get(OTHER_GUILD, schedule.id) is None
    assert await repo.remove(OTHER_GUILD, schedule.id) is False
    assert await repo.set_paused(OTHER_GUILD, schedule.id, True) is None
    assert (await repo.get(GUILD, schedule.id)) == schedule


async def test_disabling_reports_only_newly_disabled_schedules(database: Database) -> None:
    repo = ScheduleRepository(database.engine)
    schedule = await repo.add(reminder(), NOW)
    first = await repo.disable([schedule.id], "its channel was deleted.")
    second = await repo.disable([schedule.id], "its channel was deleted.")
    assert [s.id for s in first] == [schedule.id] and second == []
    assert await repo.active_zoned() == []


async def test_resuming_clears_paused_and_disabled(database: Database) -> None:
    repo = ScheduleRepository(database.engine)
    schedule = await repo.add(reminder(), NOW)
    await repo.set_paused(GUILD, schedule.id, True)
    await repo.disable([schedule.id], "gone")
    resumed = await repo.set_paused(GUILD, schedule.id, False)
    assert resumed is not None and resumed.active


async def test_default_rhythm_is_created_once_even_when_racing(database: Database) -> None:
    repo = ScheduleRepository(database.engine)
    new = [reminder(), reminder()]
    results = await asyncio.gather(
        *(repo.add_defaults(GUILD, new, NOW, with_pairing=False) for _ in range(4))
    )
    assert sorted(len(r) for r in results) == [0, 0, 0, 2]
    assert await repo.count_for_guild(GUILD) == 2


async def test_default_pairing_is_added_once_after_the_rhythm(database: Database) -> None:
    repo = ScheduleRepository(database.engine)
    assert await repo.add_default_pairing(GUILD, reminder(), NOW) == []  # no rhythm yet
    await repo.add_defaults(GUILD, [reminder()], NOW, with_pairing=False)
    assert len(await repo.add_default_pairing(GUILD, reminder(), NOW)) == 1
    assert await repo.add_default_pairing(GUILD, reminder(), NOW) == []


async def test_zoned_schedules_carry_the_guild_timezone(database: Database) -> None:
    from db.repositories.guild_settings import GuildSettingsRepository

    await GuildSettingsRepository(database.engine).update(
        GUILD, NOW, timezone="Europe/Berlin", week_start=6
    )
    schedule = await add_schedule(database)
    await add_schedule(database, OTHER_GUILD)
    zoned = {
        z.schedule.guild_id: z for z in await ScheduleRepository(database.engine).active_zoned()
    }
    assert (zoned[GUILD].timezone, zoned[GUILD].week_start) == ("Europe/Berlin", 6)
    assert (zoned[OTHER_GUILD].timezone, zoned[OTHER_GUILD].week_start) == ("UTC", 0)
    assert zoned[GUILD].schedule == schedule


# -- occurrences: the state machine ----------------------------------------------------------


async def test_claim_takes_a_pending_occurrence_with_a_lease(database: Database) -> None:
    repo = OccurrenceRepository(database.engine)
    occurrence_id = await pending_occurrence(database)
    claimed = await repo.claim(occurrence_id, "worker-a", NOW, NOW + LEASE)
    assert claimed is not None
    assert (claimed.state, claimed.claimed_by, claimed.lease_until, claimed.attempts) == (
        CLAIMED,
        "worker-a",
        NOW + LEASE,
        1,
    )


async def test_a_held_claim_cannot_be_taken(database: Database) -> None:
    repo = OccurrenceRepository(database.engine)
    occurrence_id = await pending_occurrence(database)
    await repo.claim(occurrence_id, "worker-a", NOW, NOW + LEASE)
    assert await repo.claim(occurrence_id, "worker-b", NOW + LEASE, NOW + 2 * LEASE) is None


async def test_an_expired_lease_is_claimed_again(database: Database) -> None:
    repo = OccurrenceRepository(database.engine)
    occurrence_id = await pending_occurrence(database)
    await repo.claim(occurrence_id, "worker-a", NOW, NOW + LEASE)
    later = NOW + LEASE + timedelta(seconds=1)
    again = await repo.claim(occurrence_id, "worker-b", later, later + LEASE)
    assert again is not None and again.claimed_by == "worker-b" and again.attempts == 2
    # The first worker no longer holds it: it can neither record it nor give it up.
    assert not await repo.mark_sent(
        occurrence_id, "worker-a", message_id=1, sent_at=later, late=False
    )
    assert not await repo.give_up(occurrence_id, "worker-a", "failed")


async def test_of_racing_claimers_exactly_one_wins(database: Database) -> None:
    repo = OccurrenceRepository(database.engine)
    for round_ in range(5):
        occurrence_id = await pending_occurrence(database, NOW + timedelta(hours=round_))
        results = await asyncio.gather(
            *(repo.claim(occurrence_id, f"worker-{i}", NOW, NOW + LEASE) for i in range(6))
        )
        winners = [r.claimed_by for r in results if r is not None]
        assert len(winners) == 1
        stored = await repo.get(occurrence_id)
        assert stored is not None and stored.claimed_by == winners[0] and stored.attempts == 1


async def test_sent_is_final(database: Database) -> None:
    repo = OccurrenceRepository(database.engine)
    occurrence_id = await pending_occurrence(database)
    await repo.claim(occurrence_id, "worker-a", NOW, NOW + LEASE)
    assert await repo.mark_sent(occurrence_id, "worker-a", message_id=77, sent_at=NOW, late=True)
    much_later = NOW + timedelta(days=1)
    assert await repo.claim(occurrence_id, "worker-b", much_later, much_later + LEASE) is None
    assert await repo.mark_missed([occurrence_id], "too-late", much_later) == 0
    stored = await repo.get(occurrence_id)
    assert stored is not None
    assert (stored.state, stored.message_id, stored.late) == (SENT, 77, True)
    assert await repo.due(much_later) == []


async def test_missed_leaves_held_claims_alone(database: Database) -> None:
    repo = OccurrenceRepository(database.engine)
    held = await pending_occurrence(database)
    free = await pending_occurrence(database, NOW + timedelta(minutes=30))
    await repo.claim(held, "worker-a", NOW, NOW + LEASE)
    assert await repo.mark_missed([held, free], "coalesced", NOW) == 1
    assert (await repo.get(held)).state == CLAIMED
    assert (await repo.get(free)).state == MISSED


async def test_recording_a_fire_time_twice_keeps_one_row(database: Database) -> None:
    schedule = await add_schedule(database)
    repo = OccurrenceRepository(database.engine)
    await repo.record([NewOccurrence(schedule.id, NOW)], NOW)
    await repo.record([NewOccurrence(schedule.id, NOW), NewOccurrence(schedule.id, NOW)], NOW)
    assert len(await repo.for_schedule(schedule.id)) == 1


async def test_a_manual_run_is_its_own_occurrence(database: Database) -> None:
    schedule = await add_schedule(database)
    repo = OccurrenceRepository(database.engine)
    await repo.record([NewOccurrence(schedule.id, NOW)], NOW)
    manual = await repo.add_manual(schedule.id, NOW)
    again = await repo.add_manual(schedule.id, NOW)  # a double click at the same instant
    assert manual.manual and again.id == manual.id
    assert len(await repo.for_schedule(schedule.id)) == 2
    assert await repo.latest_fire_times() == {schedule.id: NOW}
    assert await repo.next_fire_times([schedule.id]) == {schedule.id: NOW}


async def test_due_lists_pending_and_abandoned_claims_oldest_first(database: Database) -> None:
    repo = OccurrenceRepository(database.engine)
    abandoned = await pending_occurrence(database, NOW - timedelta(hours=1))
    pending = await pending_occurrence(database, NOW)
    future = await pending_occurrence(database, NOW + timedelta(minutes=1))
    await repo.claim(abandoned, "dead", NOW - timedelta(hours=1), NOW - timedelta(minutes=1))
    due = await repo.due(NOW)
    assert [d.occurrence.id for d in due] == [abandoned, pending]
    assert future not in [d.occurrence.id for d in due]
    assert due[0].schedule.schedule.kind == "reminder"


async def test_wake_times_follow_pending_fires_and_leases(database: Database) -> None:
    repo = OccurrenceRepository(database.engine)
    occurrence_id = await pending_occurrence(database, NOW + timedelta(hours=3))
    stored = await repo.get(occurrence_id)
    assert stored is not None
    assert await repo.wake_times() == {stored.schedule_id: NOW + timedelta(hours=3)}
    await repo.claim(occurrence_id, "w", NOW, NOW + LEASE)
    assert await repo.wake_times([stored.schedule_id]) == {stored.schedule_id: NOW + LEASE}


async def test_dropping_pending_keeps_claimed_and_past(database: Database) -> None:
    schedule = await add_schedule(database)
    repo = OccurrenceRepository(database.engine)
    times = [NOW - timedelta(hours=1), NOW + timedelta(hours=1), NOW + timedelta(hours=2)]
    await repo.record([NewOccurrence(schedule.id, t) for t in times], NOW)
    first_future = (await repo.for_schedule(schedule.id))[1]
    await repo.claim(first_future.id, "w", NOW, NOW + LEASE)
    assert await repo.drop_pending([schedule.id], after=NOW) == 1
    left = [(o.fire_at, o.state) for o in await repo.for_schedule(schedule.id)]
    assert left == [(times[0], PENDING), (times[1], CLAIMED)]


async def test_removing_a_schedule_removes_its_occurrences(database: Database) -> None:
    schedule = await add_schedule(database)
    repo = OccurrenceRepository(database.engine)
    await repo.record([NewOccurrence(schedule.id, NOW)], NOW)
    await ScheduleRepository(database.engine).remove(GUILD, schedule.id)
    assert await repo.for_schedule(schedule.id) == []


# -- nudges ----------------------------------------------------------------------------------


async def sent_prompt(database: Database, users: list[int]) -> int:
    repo = OccurrenceRepository(database.engine)
    occurrence_id = await pending_occurrence(database)
    await repo.claim(occurrence_id, "w", NOW, NOW + LEASE)
    plans = [NudgePlan(user, NOW) for user in users]
    await repo.mark_sent(
        occurrence_id, "w", message_id=5, sent_at=NOW, late=False, guild_id=GUILD, nudges=plans
    )
    return occurrence_id


async def test_nudge_targets_are_members_with_reminders_on(database: Database) -> None:
    prefs = MemberPreferencesRepository(database.engine)
    await prefs.set_reminders(GUILD, 1, True, NOW)
    await prefs.set_reminders(GUILD, 2, False, NOW)
    await prefs.set_reminders(OTHER_GUILD, 3, True, NOW)
    targets = await NudgeRepository(database.engine).targets(GUILD, NOW, timedelta(days=30))
    assert [t.user_id for t in targets] == [1]


async def test_closed_dms_are_skipped_until_preferences_change(database: Database) -> None:
    prefs = MemberPreferencesRepository(database.engine)
    nudges = NudgeRepository(database.engine)
    await prefs.set_reminders(GUILD, 1, True, NOW)
    await nudges.note_closed(GUILD, 1, NOW + timedelta(minutes=1))
    later = NOW + timedelta(hours=1)
    assert await nudges.targets(GUILD, later, timedelta(days=30)) == []
    await prefs.set_reminders(GUILD, 1, True, later)  # they opened DMs and turned it on again
    assert [t.user_id for t in await nudges.targets(GUILD, later, timedelta(days=30))] == [1]


async def test_a_nudge_is_claimed_once(database: Database) -> None:
    occurrence_id = await sent_prompt(database, [1, 2])
    nudges = NudgeRepository(database.engine)
    due = await nudges.due(NOW, 10)
    assert [(n.user_id, n.prompt_message_id) for n in due] == [(1, 5), (2, 5)]
    results = await asyncio.gather(*(nudges.claim(occurrence_id, 1) for _ in range(3)))
    assert sorted(results) == [False, False, True]
    assert await nudges.finish(occurrence_id, 1, "sent", NOW)
    assert [n.user_id for n in await nudges.due(NOW, 10)] == [2]
    assert await nudges.sent_since(GUILD, NOW - timedelta(days=1)) == 1


async def test_nudges_are_not_due_before_their_time(database: Database) -> None:
    repo = OccurrenceRepository(database.engine)
    occurrence_id = await pending_occurrence(database)
    await repo.claim(occurrence_id, "w", NOW, NOW + LEASE)
    later = NOW + timedelta(hours=5)
    await repo.mark_sent(
        occurrence_id, "w", message_id=5, sent_at=NOW, late=False, guild_id=GUILD,
        nudges=[NudgePlan(1, later)],
    )  # fmt: skip
    nudges = NudgeRepository(database.engine)
    assert await nudges.due(NOW, 10) == []
    assert await nudges.next_due() == later


# -- summaries -------------------------------------------------------------------------------


async def add_checkin(database: Database, user_id: int, day: date, hours: float) -> None:
    from db.schema.goals import checkins

    week_key = day - timedelta(days=day.weekday())
    async with database.engine.begin() as conn:
        await conn.execute(
            checkins.insert().values(
                guild_id=GUILD,
                user_id=user_id,
                local_day=day,
                week_key=week_key,
                hours=hours,
                created_at=NOW,
                updated_at=NOW,
            )
        )


@pytest.mark.parametrize(
    ("weeks_ago", "away_ago"),
    [
        ([0, 1, 2, 5], []),  # 3, this week included
        ([1, 2, 4], []),  # 2, ending last week
        ([2, 3], []),  # 0, ended before last week
        ([0, 2, 3], []),  # 1: last week is missing
        ([0], []),
        (list(range(62)), []),  # exactly the weeks one query folds together
        (list(range(1, 64)), []),  # ending last week, continued past the first 62 weeks
        ([*range(130), 131], []),  # continued twice; the week after the gap does not count
        ([0, 2, 3], [1]),  # 3: last week away keeps the streak
        ([2, 3], [0, 1]),  # 2: away this week and last
        ([0, 1, 3], [2, 3]),  # 3: an away week with a check-in counts once
        ([0], [1, 2]),  # 1: away weeks alone add nothing
        ([*range(61), *range(62, 70)], [61]),  # away at the end of the first 62 weeks
        ([*range(1, 62), *range(63, 66)], [62]),  # away at the start of the next 62
        ([0, 1, 4], [2]),  # 2: the week after the away week is missing
    ],
)
async def test_top_streaks_agree_with_the_domain_rule(
    database: Database, weeks_ago: list[int], away_ago: list[int]
) -> None:
    this_week = StudyWeek(date(2026, 11, 16), UTC)
    days = [this_week.start_date - timedelta(weeks=w) + timedelta(days=2) for w in weeks_ago]
    away = {this_week.start_date - timedelta(weeks=w) for w in away_ago}
    for day in days:
        await add_checkin(database, 1, day, 2.0)
    expected = streak(days, this_week, away)
    found = await StudySummaryRepository(database.engine).top_streaks(
        GUILD, this_week.start_date, this_week.end_date, 3, {1: away, 2: away}
    )
    assert found == ([(1, expected)] if expected else [])


async def test_member_hours_and_who_checked_in(database: Database) -> None:
    week = StudyWeek(date(2026, 11, 16), UTC)
    await add_checkin(database, 1, date(2026, 11, 16), 2.0)
    await add_checkin(database, 1, date(2026, 11, 17), 1.5)
    await add_checkin(database, 2, date(2026, 11, 9), 4.0)  # last week
    summaries = StudySummaryRepository(database.engine)
    assert await summaries.member_hours(GUILD, week.start_date, week.end_date) == {1: 3.5}
    assert await summaries.checked_in(GUILD, week.start_date, week.end_date, [1, 2, 3]) == {1}


async def test_open_goals_are_listed_per_member_in_slot_order(database: Database) -> None:
    from db.schema.goals import goals

    async with database.engine.begin() as conn:
        for slot, (user_id, done) in enumerate([(1, False), (1, True), (2, False), (1, False)], 1):
            await conn.execute(
                goals.insert().values(
                    guild_id=GUILD,
                    user_id=user_id,
                    week_key=date(2026, 11, 16),
                    slot=slot,
                    text=f"goal {slot}",
                    done_at=NOW if done else None,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
    found = await StudySummaryRepository(database.engine).open_goals(
        GUILD, date(2026, 11, 16), date(2026, 11, 22), [1, 3]
    )
    assert found == {1: ["goal 1", "goal 4"]}
