"""Firing occurrences exactly once: due posts, restarts, catch-up, crashes, broken channels,
DM nudges and what each kind of post says. Real database (both backends), fake Discord."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.clock import FrozenClock
from bot.services.announcements import ADD_GOAL, CHECK_IN, Pairing
from bot.services.nudges import nudge_due
from bot.services.occurrences import LEASE, MAX_ATTEMPTS, nonce_for
from db.engine import Database
from db.repositories.occurrences import CLAIMED, MISSED, PENDING, SENT
from db.schema.goals import checkins, goals
from tests.scheduling import (
    ANNOUNCEMENTS,
    CHANNEL,
    GUILD,
    MODERATOR,
    FakeDiscord,
    Rig,
    make_rig,
)

# The clock fixture: Wednesday 18 November 2026, 12:00 UTC (study week of Monday 16 Nov).
AT_13 = datetime(2026, 11, 18, 13, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def rig(database: Database, clock: FrozenClock) -> Rig:
    return make_rig(database, clock)


async def add(
    rig: Rig, kind: str = "reminder", when: str = "daily 13:00", *, channel: int = CHANNEL
) -> int:
    message = "Read chapter 3" if kind == "reminder" else None
    info = await rig.schedules.add(GUILD, kind, when, channel, message, MODERATOR)
    return info.schedule.id


async def states(rig: Rig, schedule_id: int) -> dict[datetime, str]:
    return {o.fire_at: o.state for o in await rig.occurrences.history(schedule_id)}


# -- firing ----------------------------------------------------------------------------------


async def test_a_due_occurrence_is_posted_once(rig: Rig) -> None:
    schedule_id = await add(rig)
    rig.clock.set(AT_13)
    (result,) = await rig.scheduler.run_due()
    assert await rig.scheduler.run_due() == []
    (sent,) = rig.discord.messages
    assert (result.status, result.message_id) == ("sent", sent.message_id)
    assert sent.post.content == "Read chapter 3" and sent.channel_id == CHANNEL
    assert sent.nonce == nonce_for(schedule_id, AT_13, False) and len(sent.nonce) <= 25
    (occurrence, upcoming) = await rig.occurrences.history(schedule_id)
    assert (occurrence.state, occurrence.message_id, occurrence.late) == (
        SENT,
        sent.message_id,
        False,
    )
    assert (upcoming.fire_at, upcoming.state) == (AT_13 + timedelta(days=1), PENDING)


async def test_nothing_is_posted_before_its_time(rig: Rig) -> None:
    await add(rig)
    rig.clock.set(AT_13 - timedelta(seconds=1))
    assert await rig.scheduler.run_due() == []
    assert rig.discord.messages == []


async def test_nonces_differ_between_occurrences() -> None:
    nonces = {
        nonce_for(1, AT_13, False),
        nonce_for(1, AT_13, True),
        nonce_for(2, AT_13, False),
        nonce_for(1, AT_13 + timedelta(days=1), False),
    }
    assert len(nonces) == 4


async def test_a_restart_never_reposts_a_sent_occurrence(rig: Rig) -> None:
    await add(rig)
    rig.clock.set(AT_13 + timedelta(minutes=5))
    await rig.scheduler.run_due()
    restarted = rig.restarted()
    await restarted.occurrences.rebuild()
    assert await restarted.scheduler.run_due() == []
    assert len(rig.discord.messages) == 1


async def test_two_processes_firing_at_once_post_once(
    database: Database, clock: FrozenClock
) -> None:
    discord = FakeDiscord(dedupe_nonces=False)  # the claim alone must prevent a second post
    first = make_rig(database, clock, discord)
    second = first.restarted()
    await add(first)
    clock.set(AT_13)
    results = await asyncio.gather(first.scheduler.run_due(), second.scheduler.run_due())
    assert len(discord.messages) == 1
    assert [r.status for batch in results for r in batch].count("sent") == 1


async def test_a_crash_between_posting_and_recording_does_not_duplicate(rig: Rig) -> None:
    schedule_id = await add(rig)
    rig.clock.set(AT_13)
    # The first process claims and posts, then dies before recording the message id.
    (firing,) = await rig.occurrences.due()
    claim = await rig.occurrences.claim(firing, "process-that-died")
    assert claim is not None
    first_id = await rig.discord.post(GUILD, CHANNEL, rig.announcements.reminder("x"), claim.nonce)
    # After its lease a restarted process takes over and posts with the same nonce.
    rig.clock.advance(LEASE + timedelta(seconds=1))
    restarted = rig.restarted()
    await restarted.occurrences.rebuild()
    (result,) = await restarted.scheduler.run_due()
    assert (result.status, result.message_id) == ("sent", first_id)
    assert len(rig.discord.messages) == 1
    occurrence = (await rig.occurrences.history(schedule_id))[0]
    assert (occurrence.state, occurrence.message_id, occurrence.attempts) == (SENT, first_id, 2)


async def test_a_live_claim_is_not_taken_over(rig: Rig) -> None:
    await add(rig)
    rig.clock.set(AT_13)
    (firing,) = await rig.occurrences.due()
    await rig.occurrences.claim(firing, "still-working")
    rig.clock.advance(LEASE - timedelta(seconds=5))
    assert await rig.restarted().scheduler.run_due() == []
    assert rig.discord.messages == []


# -- catch-up after downtime -----------------------------------------------------------------


async def test_a_miss_inside_the_window_is_posted_late_once(rig: Rig) -> None:
    schedule_id = await add(rig)
    rig.clock.set(AT_13 + timedelta(hours=3))  # the bot was down from 12:00 to 16:00
    restarted = rig.restarted()
    await restarted.occurrences.rebuild()
    await restarted.scheduler.run_due()
    await restarted.scheduler.run_due()
    (sent,) = rig.discord.messages
    assert sent.post.content is not None
    assert sent.post.content.startswith("Read chapter 3")
    assert f"<t:{int(AT_13.timestamp())}:F>" in sent.post.content  # the intended time
    assert "late" in sent.post.content
    occurrence = (await rig.occurrences.history(schedule_id))[0]
    assert (occurrence.state, occurrence.late) == (SENT, True)


async def test_a_miss_outside_the_window_is_recorded_not_posted(rig: Rig) -> None:
    schedule_id = await add(rig)
    rig.clock.set(AT_13 + timedelta(hours=6, minutes=1))
    restarted = rig.restarted()
    await restarted.occurrences.rebuild()
    assert await restarted.scheduler.run_due() == []
    assert rig.discord.messages == []
    assert (await states(rig, schedule_id))[AT_13] == MISSED
    assert (await states(rig, schedule_id))[AT_13 + timedelta(days=1)] == PENDING


async def test_several_misses_are_coalesced_into_one_late_post(rig: Rig) -> None:
    schedule_id = await add(rig, when="0 * * * *")  # hourly
    rig.clock.set(datetime(2026, 11, 18, 16, 30, tzinfo=UTC))
    restarted = rig.restarted()
    await restarted.occurrences.rebuild()
    (result,) = await restarted.scheduler.run_due()
    (sent,) = rig.discord.messages
    assert sent.post.content is not None and "3 earlier posts were skipped" in sent.post.content
    history = {o.fire_at.hour: o for o in await rig.occurrences.history(schedule_id)}
    assert [history[h].state for h in (13, 14, 15, 16, 17)] == [
        MISSED,
        MISSED,
        MISSED,
        SENT,
        PENDING,
    ]
    assert history[16].coalesced == 3 and history[16].message_id == result.message_id


async def test_long_downtime_records_old_fires_as_missed(rig: Rig) -> None:
    schedule_id = await add(rig)
    rig.clock.set(AT_13 + timedelta(days=3, hours=1))  # down for three days
    restarted = rig.restarted()
    await restarted.occurrences.rebuild()
    await restarted.scheduler.run_due()
    recorded = await states(rig, schedule_id)
    assert [recorded[AT_13 + timedelta(days=d)] for d in range(4)] == [MISSED, MISSED, MISSED, SENT]
    assert len(rig.discord.messages) == 1


async def test_start_catches_up_and_stop_ends_cleanly(rig: Rig) -> None:
    await add(rig)
    rig.clock.set(AT_13 + timedelta(minutes=30))
    restarted = rig.restarted()
    await restarted.scheduler.start()
    try:
        for _ in range(200):
            if rig.discord.messages:
                break
            await asyncio.sleep(0.01)
    finally:
        await restarted.scheduler.stop()
    assert len(rig.discord.messages) == 1


# -- failures --------------------------------------------------------------------------------


async def test_temporary_failures_are_retried_within_the_lease(rig: Rig) -> None:
    await add(rig)
    rig.clock.set(AT_13)
    rig.discord.temporary_failures = 2
    (result,) = await rig.scheduler.run_due()
    assert result.status == "sent" and len(rig.discord.messages) == 1


async def test_an_outage_is_retried_later_and_posted_once(rig: Rig) -> None:
    schedule_id = await add(rig)
    rig.clock.set(AT_13)
    rig.discord.temporary_failures = 3  # more than the retries inside one lease
    (result,) = await rig.scheduler.run_due()
    assert result.status == "retrying" and rig.discord.messages == []
    assert (await states(rig, schedule_id))[AT_13] == CLAIMED
    rig.clock.advance(timedelta(minutes=2))
    (result,) = await rig.scheduler.run_due()
    assert result.status == "sent" and len(rig.discord.messages) == 1


async def test_a_post_given_up_after_repeated_failures_is_told_to_the_moderators(
    rig: Rig,
) -> None:
    await rig.settings.set_channel(GUILD, "announcements", ANNOUNCEMENTS)
    schedule_id = await add(rig)
    rig.clock.set(AT_13)
    rig.discord.temporary_failures = 10_000  # Discord unavailable for the whole time
    for _ in range(MAX_ATTEMPTS):
        (result,) = await rig.scheduler.run_due()
        assert result.status == "retrying"
        rig.clock.advance(timedelta(minutes=2))
    rig.discord.temporary_failures = 0
    (result,) = await rig.scheduler.run_due()
    assert result.status == "failed" and f"{MAX_ATTEMPTS} attempts" in (result.reason or "")
    assert (await states(rig, schedule_id))[AT_13] == MISSED
    (notice,) = rig.discord.in_channel(ANNOUNCEMENTS)
    text = notice.post.content or ""
    assert f"#{schedule_id}" in text and f"{MAX_ATTEMPTS} attempts" in text
    rig.clock.advance(timedelta(minutes=2))
    await rig.scheduler.run_due()
    assert len(rig.discord.in_channel(ANNOUNCEMENTS)) == 1  # told once
    # The schedule goes on: the next day's post goes out.
    rig.clock.set(AT_13 + timedelta(days=1))
    (result,) = await rig.scheduler.run_due()
    assert result.status == "sent"


async def test_a_deleted_channel_disables_the_schedule_and_tells_moderators(rig: Rig) -> None:
    await rig.settings.set_channel(GUILD, "announcements", ANNOUNCEMENTS)
    schedule_id = await add(rig)
    rig.discord.deleted_channels.add(CHANNEL)
    rig.clock.set(AT_13)
    (result,) = await rig.scheduler.run_due()
    assert result.status == "disabled"
    info = next(i for i in await rig.schedules.for_guild(GUILD) if i.schedule.id == schedule_id)
    assert info.schedule.disabled_reason is not None
    assert "deleted" in info.schedule.disabled_reason and info.next_fire is None
    (notice,) = rig.discord.in_channel(ANNOUNCEMENTS)
    assert notice.post.content is not None and f"#{schedule_id}" in notice.post.content
    rig.clock.advance(timedelta(days=1))
    assert await rig.scheduler.run_due() == []
    assert len(rig.discord.in_channel(ANNOUNCEMENTS)) == 1  # told once


async def test_lost_permission_disables_the_schedule(rig: Rig) -> None:
    await add(rig)
    rig.discord.forbidden_channels.add(CHANNEL)
    rig.clock.set(AT_13)
    (result,) = await rig.scheduler.run_due()
    assert result.status == "disabled" and result.reason is not None
    assert "permission" in result.reason


async def test_the_owner_is_told_when_the_announcements_channel_is_gone(rig: Rig) -> None:
    await rig.settings.set_channel(GUILD, "announcements", CHANNEL)
    for info in await rig.schedules.for_guild(GUILD):  # the default rhythm posts there too
        await rig.schedules.remove(GUILD, info.schedule.id)
    schedule_id = await add(rig)
    rig.discord.deleted_channels.add(CHANNEL)
    await rig.scheduler.channel_deleted(GUILD, CHANNEL)
    ((guild_id, text),) = rig.discord.owner_dms
    assert guild_id == GUILD and f"#{schedule_id}" in text


async def test_a_channel_delete_event_disables_its_schedules_only(rig: Rig) -> None:
    doomed = await add(rig)
    other = await add(rig, channel=ANNOUNCEMENTS)
    disabled = await rig.scheduler.channel_deleted(GUILD, CHANNEL)
    assert [s.id for s in disabled] == [doomed]
    active = {i.schedule.id: i.schedule.active for i in await rig.schedules.for_guild(GUILD)}
    assert active == {doomed: False, other: True}


async def test_a_resumed_schedule_fires_again(rig: Rig) -> None:
    schedule_id = await add(rig)
    await rig.scheduler.channel_deleted(GUILD, CHANNEL)
    await rig.schedules.resume(GUILD, schedule_id)
    rig.clock.set(AT_13)
    (result,) = await rig.scheduler.run_due()
    assert result.status == "sent"


# -- what the posts say ----------------------------------------------------------------------


async def test_a_goal_prompt_has_the_add_goal_button_and_the_carry_hint(rig: Rig) -> None:
    schedule_id = await add(rig, "goal-prompt")
    await rig.scheduler.run_now(GUILD, schedule_id)
    (sent,) = rig.discord.messages
    assert sent.post.buttons == (ADD_GOAL,)
    assert sent.post.card is not None and sent.post.card.title.startswith("Week of 16 Nov")
    assert "/goal carry" in sent.post.card.description


async def test_a_reminder_names_only_the_roles_it_mentions(rig: Rig) -> None:
    role = 1_400_000_000_000_000_001
    post = rig.announcements.reminder(f"<@&{role}> read chapter 3 @everyone <@&{role}>")
    assert post.role_ids == (role,) and post.user_ids == ()


async def test_review_pairing_says_there_is_nothing_to_pair_by_default(rig: Rig) -> None:
    schedule_id = await add(rig, "review-pairing")
    await rig.scheduler.run_now(GUILD, schedule_id)
    (sent,) = rig.discord.messages
    assert sent.post.card is not None and "Nothing to pair" in sent.post.card.description


async def test_review_pairing_uses_the_registered_hook(rig: Rig) -> None:
    calls: list[int] = []

    async def pair(guild_id: int, at: datetime) -> Pairing:
        calls.append(guild_id)
        return Pairing("Paired 2 submissions.", user_ids=(11, 12))

    rig.announcements.register_pairing(pair)
    schedule_id = await add(rig, "review-pairing")
    await rig.scheduler.run_now(GUILD, schedule_id)
    (sent,) = rig.discord.messages
    assert calls == [GUILD] and sent.post.user_ids == (11, 12)


async def seed_week(database: Database) -> None:
    """Week of 16 Nov: member 1 (4 h, 3-week streak), member 2 (1.5 h, new); goals 1 of 3."""
    now = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
    rows = [
        (1, date(2026, 11, 16), 4.0),
        (1, date(2026, 11, 9), 2.0),
        (1, date(2026, 11, 2), 2.0),
        (2, date(2026, 11, 17), 1.5),
    ]
    async with database.engine.begin() as conn:
        for user_id, day, hours in rows:
            await conn.execute(
                checkins.insert().values(
                    guild_id=GUILD,
                    user_id=user_id,
                    local_day=day,
                    week_key=day - timedelta(days=day.weekday()),
                    hours=hours,
                    created_at=now,
                    updated_at=now,
                )
            )
        for slot, (user_id, done) in enumerate([(1, True), (1, False), (2, False)], start=1):
            await conn.execute(
                goals.insert().values(
                    guild_id=GUILD,
                    user_id=user_id,
                    week_key=date(2026, 11, 16),
                    slot=slot,
                    text=f"Goal {slot}",
                    done_at=now if done else None,
                    created_at=now,
                    updated_at=now,
                )
            )


async def test_the_weekly_summary_has_the_numbers_and_a_chart(rig: Rig) -> None:
    await seed_week(rig.database)
    schedule_id = await add(rig, "weekly-summary", "sun 18:00")
    await rig.scheduler.run_now(GUILD, schedule_id)
    (sent,) = rig.discord.messages
    card = sent.post.card
    assert card is not None and card.title == "Week of 16 Nov in numbers"
    fields = {f.name: f.value for f in card.fields}
    assert fields["Checked in"] == "2 members"
    assert fields["Hours"] == "5.5 h in total · median 2.8 h"
    assert fields["Goals"] == "1 of 3 done"
    assert fields["Longest streaks"] == "<@1> · 3 weeks in a row"  # member 2 is not named
    assert fields["Reviews done"] == "0" and fields["FAQ questions answered"] == "0"
    (chart,) = sent.post.files
    assert card.image == chart.filename and chart.data.startswith(PNG)


async def test_summary_counters_come_from_registered_providers(rig: Rig) -> None:
    async def reviews(guild_id: int, start: datetime, end: datetime) -> int:
        return 4 if start <= datetime(2026, 11, 18, tzinfo=UTC) < end else 0

    rig.announcements.register_counter("Reviews done", reviews)
    schedule_id = await add(rig, "weekly-summary", "sun 18:00")
    await rig.scheduler.run_now(GUILD, schedule_id)
    card = rig.discord.messages[0].post.card
    assert card is not None and {f.name: f.value for f in card.fields}["Reviews done"] == "4"


# -- check-in prompts and DM nudges ----------------------------------------------------------


async def opt_in(rig: Rig, *user_ids: int, timezone: str | None = None) -> None:
    for user_id in user_ids:
        await rig.members.set_reminders(GUILD, user_id, True)
        if timezone:
            await rig.members.set_timezone(GUILD, user_id, timezone)


async def test_a_checkin_prompt_nudges_only_opted_in_members_who_have_not_checked_in(
    rig: Rig,
) -> None:
    await seed_week(rig.database)  # member 1 and 2 checked in this week
    await opt_in(rig, 1, 3)
    await rig.members.set_reminders(GUILD, 4, False)
    schedule_id = await add(rig, "checkin-prompt", "thu 18:00")
    await rig.scheduler.run_now(GUILD, schedule_id)
    assert await rig.scheduler.run_nudges() == 1
    ((user_id, text),) = rig.discord.dms
    assert user_id == 3 and "/checkin" in text and "Backend Study Group" in text
    (prompt,) = rig.discord.messages
    assert prompt.post.buttons == (CHECK_IN,)
    assert str(prompt.message_id) in text  # links the prompt with its button


async def test_a_nudge_lists_the_members_open_goals(rig: Rig) -> None:
    await seed_week(rig.database)
    await opt_in(rig, 2)
    async with rig.database.engine.begin() as conn:
        await conn.execute(checkins.delete().where(checkins.c.user_id == 2))
    schedule_id = await add(rig, "checkin-prompt", "thu 18:00")
    await rig.scheduler.run_now(GUILD, schedule_id)
    await rig.scheduler.run_nudges()
    ((_, text),) = rig.discord.dms
    assert "Your open goals" in text and "• Goal 3" in text and "Goal 1" not in text


async def test_closed_dms_are_noted_and_not_retried(rig: Rig) -> None:
    await opt_in(rig, 5)
    rig.discord.closed_dms.add(5)
    schedule_id = await add(rig, "checkin-prompt", "thu 18:00")
    first = await rig.scheduler.run_now(GUILD, schedule_id)
    await rig.scheduler.run_nudges()
    assert (await rig.nudges.for_occurrence(first.occurrence_id)) == {5: "dms-closed"}
    rig.clock.advance(timedelta(minutes=1))
    second = await rig.scheduler.run_now(GUILD, schedule_id)
    await rig.scheduler.run_nudges()
    assert await rig.nudges.for_occurrence(second.occurrence_id) == {}


async def test_nudges_wait_for_the_members_own_time(rig: Rig) -> None:
    await opt_in(rig, 6, timezone="America/New_York")  # 13:00 UTC is 08:00 in New York
    schedule_id = await add(rig, "checkin-prompt")
    rig.clock.set(AT_13)
    await rig.scheduler.run_due()
    assert await rig.scheduler.run_nudges() == 0
    rig.clock.set(AT_13 + timedelta(hours=5))  # 13:00 in New York
    assert await rig.scheduler.run_nudges() == 1
    assert [user for user, _ in rig.discord.dms] == [6]
    assert schedule_id


@pytest.mark.parametrize(
    ("member_tz", "due"),
    [
        (None, AT_13),  # no zone of their own: with the prompt
        ("UTC", AT_13),
        ("America/New_York", datetime(2026, 11, 18, 18, 0, tzinfo=UTC)),  # 13:00 there
        ("Asia/Tokyo", datetime(2026, 11, 19, 4, 0, tzinfo=UTC)),  # 13:00 next day there
    ],
)
def test_a_nudge_is_due_at_the_prompts_time_in_the_members_zone(
    member_tz: str | None, due: datetime
) -> None:
    assert nudge_due(AT_13, "UTC", member_tz) == due


async def test_a_restart_does_not_repeat_sent_nudges(rig: Rig) -> None:
    await opt_in(rig, 7, 8)
    schedule_id = await add(rig, "checkin-prompt")
    await rig.scheduler.run_now(GUILD, schedule_id)
    await rig.scheduler.run_nudges()
    assert await rig.restarted().scheduler.run_nudges() == 0
    assert sorted(user for user, _ in rig.discord.dms) == [7, 8]


async def test_nudges_stop_at_the_daily_cap(database: Database, clock: FrozenClock) -> None:
    rig = make_rig(database, clock, dm_daily_cap=2)
    await opt_in(rig, 1, 2, 3)
    schedule_id = await add(rig, "checkin-prompt")
    first = await rig.scheduler.run_now(GUILD, schedule_id)
    assert await rig.scheduler.run_nudges() == 2
    outcomes = sorted((await rig.nudges.for_occurrence(first.occurrence_id)).values())
    assert outcomes == ["sent", "sent", "skipped"]


class ShiftedClock:
    """Real time, moved so that the test starts just before a fire time."""

    def __init__(self, now: datetime) -> None:
        self._offset = now - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset


async def test_the_timer_fires_a_schedule_at_its_time(database: Database) -> None:
    clock = ShiftedClock(AT_13 - timedelta(seconds=1.5))
    rig = make_rig(database, clock)
    await add(rig)
    await rig.scheduler.start()
    try:
        for _ in range(100):
            if rig.discord.messages:
                break
            await asyncio.sleep(0.05)
    finally:
        await rig.scheduler.stop()
    (sent,) = rig.discord.messages
    occurrence = (await rig.occurrences.history(1))[0]
    assert occurrence.message_id == sent.message_id
    assert occurrence.sent_at is not None and occurrence.sent_at >= AT_13
