"""Schedule use-cases: add, list, remove, pause, resume, run, default rhythm, timezone moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import FrozenClock
from bot.domain.recurrence import ACCEPTED_FORMS
from bot.errors import InvalidInput, LimitReached, NotAllowed, NotFound
from bot.services.schedules import MAX_SCHEDULES_PER_GUILD
from db.engine import Database
from db.repositories.occurrences import MISSED, PENDING
from tests.scheduling import (
    ANNOUNCEMENTS,
    CHANNEL,
    GUILD,
    MODERATOR,
    OTHER_GUILD,
    REVIEWS,
    Rig,
    make_rig,
)

# The clock fixture: Wednesday 18 November 2026, 12:00 UTC.
NEXT_MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def rig(database: Database, clock: FrozenClock) -> Rig:
    return make_rig(database, clock)


async def add_reminder(rig: Rig, when: str = "mon 09:00", guild_id: int = GUILD) -> int:
    info = await rig.schedules.add(guild_id, "reminder", when, CHANNEL, "Read ch. 3", MODERATOR)
    return info.schedule.id


async def test_add_stores_the_canonical_when_and_its_next_fire(rig: Rig) -> None:
    info = await rig.schedules.add(GUILD, "goal-prompt", "Monday 9:00", CHANNEL, None, MODERATOR)
    assert info.schedule.recurrence == "mon 09:00"
    assert info.description == "Mondays at 09:00"
    assert info.next_fire == NEXT_MONDAY_9
    assert info.schedule.created_by == MODERATOR


async def test_a_bad_when_lists_the_accepted_forms(rig: Rig) -> None:
    with pytest.raises(InvalidInput) as error:
        await rig.schedules.add(GUILD, "reminder", "every full moon", CHANNEL, "hi", MODERATOR)
    assert ACCEPTED_FORMS in error.value.message
    assert await rig.schedules.for_guild(GUILD) == []


async def test_a_reminder_needs_a_message(rig: Rig) -> None:
    with pytest.raises(InvalidInput, match="message"):
        await rig.schedules.add(GUILD, "reminder", "mon 09:00", CHANNEL, "   ", MODERATOR)


async def test_a_message_over_1500_characters_is_refused(rig: Rig) -> None:
    with pytest.raises(InvalidInput, match="1500"):
        await rig.schedules.add(GUILD, "reminder", "mon 09:00", CHANNEL, "x" * 1501, MODERATOR)


async def test_an_unknown_kind_is_refused(rig: Rig) -> None:
    with pytest.raises(InvalidInput, match="reminder"):
        await rig.schedules.add(GUILD, "party", "mon 09:00", CHANNEL, None, MODERATOR)


async def test_a_guild_has_at_most_25_schedules(rig: Rig) -> None:
    for _ in range(MAX_SCHEDULES_PER_GUILD):
        await add_reminder(rig)
    with pytest.raises(LimitReached):
        await add_reminder(rig)
    await add_reminder(rig, guild_id=OTHER_GUILD)  # other guilds are not affected


async def test_list_shows_only_this_guilds_schedules_in_order(rig: Rig) -> None:
    first = await add_reminder(rig)
    second = await add_reminder(rig, "daily 07:00")
    await add_reminder(rig, guild_id=OTHER_GUILD)
    listed = await rig.schedules.for_guild(GUILD)
    assert [i.schedule.id for i in listed] == [first, second]
    assert listed[1].next_fire == datetime(2026, 11, 19, 7, 0, tzinfo=UTC)


async def test_remove_deletes_the_schedule(rig: Rig) -> None:
    schedule_id = await add_reminder(rig)
    await rig.schedules.remove(GUILD, schedule_id)
    assert await rig.schedules.for_guild(GUILD) == []


@pytest.mark.parametrize("action", ["remove", "pause", "resume", "get"])
async def test_another_guilds_schedule_is_not_found(rig: Rig, action: str) -> None:
    schedule_id = await add_reminder(rig, guild_id=OTHER_GUILD)
    with pytest.raises(NotFound):
        await getattr(rig.schedules, action)(GUILD, schedule_id)
    with pytest.raises(NotFound):
        await rig.scheduler.run_now(GUILD, schedule_id)


async def test_pause_stops_the_next_fire(rig: Rig) -> None:
    schedule_id = await add_reminder(rig)
    info = await rig.schedules.pause(GUILD, schedule_id)
    assert info.schedule.paused and info.next_fire is None
    assert [o.state for o in await rig.occurrences.history(schedule_id)] == []


async def test_resume_fires_from_now_without_catching_up(rig: Rig) -> None:
    schedule_id = await add_reminder(rig, "daily 13:00")
    await rig.schedules.pause(GUILD, schedule_id)
    rig.clock.advance(timedelta(days=3))  # three fire times pass while paused
    info = await rig.schedules.resume(GUILD, schedule_id)
    assert info.next_fire == datetime(2026, 11, 21, 13, 0, tzinfo=UTC)
    history = await rig.occurrences.history(schedule_id)
    assert [(o.fire_at, o.state) for o in history] == [(info.next_fire, PENDING)]


async def test_run_is_its_own_occurrence_and_keeps_the_cadence(rig: Rig) -> None:
    schedule_id = await add_reminder(rig)
    result = await rig.scheduler.run_now(GUILD, schedule_id)
    assert result.status == "sent"
    (post,) = rig.discord.messages
    assert post.post.content == "Read ch. 3"
    history = await rig.occurrences.history(schedule_id)
    manual = [o for o in history if o.manual]
    assert len(manual) == 1 and manual[0].message_id == result.message_id
    assert (await rig.schedules.for_guild(GUILD))[0].next_fire == NEXT_MONDAY_9


async def test_a_disabled_schedule_cannot_be_run(rig: Rig) -> None:
    schedule_id = await add_reminder(rig)
    await rig.schedules.disable([schedule_id], "its channel was deleted.")
    with pytest.raises(NotAllowed, match="deleted"):
        await rig.scheduler.run_now(GUILD, schedule_id)


async def test_autocomplete_choices_are_this_guilds_and_match_what_was_typed(rig: Rig) -> None:
    reminder = await add_reminder(rig)
    await rig.schedules.add(GUILD, "weekly-summary", "sun 18:00", CHANNEL, None, MODERATOR)
    await add_reminder(rig, guild_id=OTHER_GUILD)
    choices = await rig.schedules.choices(GUILD, "remind")
    assert [sid for sid, _ in choices] == [reminder]
    assert all(len(label) <= 100 for _, label in await rig.schedules.choices(GUILD, ""))


# -- default rhythm --------------------------------------------------------------------------


async def test_first_announcements_channel_creates_the_default_rhythm(rig: Rig) -> None:
    await rig.settings.set_channel(GUILD, "announcements", ANNOUNCEMENTS)
    created = rig.schedules.take_new_defaults(GUILD)
    assert rig.schedules.take_new_defaults(GUILD) == []  # listed once
    assert [(i.schedule.kind, i.schedule.recurrence, i.schedule.channel_id) for i in created] == [
        ("goal-prompt", "mon 09:00", ANNOUNCEMENTS),
        ("checkin-prompt", "thu 18:00", ANNOUNCEMENTS),
        ("weekly-summary", "sun 18:00", ANNOUNCEMENTS),
    ]
    assert all(i.next_fire is not None for i in created)


async def test_the_default_rhythm_is_created_only_once(rig: Rig) -> None:
    await rig.settings.set_channel(GUILD, "announcements", ANNOUNCEMENTS)
    for info in await rig.schedules.for_guild(GUILD):
        await rig.schedules.remove(GUILD, info.schedule.id)
    await rig.settings.set_channel(GUILD, "announcements", CHANNEL)
    assert await rig.schedules.for_guild(GUILD) == []


async def test_no_default_rhythm_when_the_guild_already_has_schedules(rig: Rig) -> None:
    await add_reminder(rig)
    await rig.settings.set_channel(GUILD, "announcements", ANNOUNCEMENTS)
    assert [i.schedule.kind for i in await rig.schedules.for_guild(GUILD)] == ["reminder"]


async def test_pairing_joins_the_rhythm_when_a_reviews_channel_exists(rig: Rig) -> None:
    await rig.settings.set_channel(GUILD, "reviews", REVIEWS)
    await rig.settings.set_channel(GUILD, "announcements", ANNOUNCEMENTS)
    pairing = [
        i for i in await rig.schedules.for_guild(GUILD) if i.schedule.kind == "review-pairing"
    ]
    assert [(i.schedule.recurrence, i.schedule.channel_id) for i in pairing] == [
        ("mon 10:00", REVIEWS)
    ]


async def test_pairing_is_added_once_when_the_reviews_channel_comes_later(rig: Rig) -> None:
    await rig.settings.set_channel(GUILD, "announcements", ANNOUNCEMENTS)
    await rig.settings.set_channel(GUILD, "reviews", REVIEWS)
    kinds = [i.schedule.kind for i in await rig.schedules.for_guild(GUILD)]
    assert kinds.count("review-pairing") == 1


async def test_the_rhythm_follows_the_week_start(rig: Rig) -> None:
    await rig.settings.set_week_start(GUILD, 6)  # Sunday
    await rig.settings.set_channel(GUILD, "announcements", ANNOUNCEMENTS)
    assert [i.schedule.recurrence for i in await rig.schedules.for_guild(GUILD)] == [
        "sun 09:00",
        "wed 18:00",
        "sat 18:00",
    ]


# -- timezone --------------------------------------------------------------------------------


async def test_a_timezone_change_moves_the_next_fire(rig: Rig) -> None:
    schedule_id = await add_reminder(rig)
    await rig.settings.set_timezone(GUILD, "America/New_York")
    (info,) = await rig.schedules.for_guild(GUILD)
    assert info.next_fire == datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # 09:00 EST
    pending = [o for o in await rig.occurrences.history(schedule_id) if o.state == PENDING]
    assert [o.fire_at for o in pending] == [info.next_fire]


async def test_a_timezone_change_leaves_other_guilds_alone(rig: Rig) -> None:
    await add_reminder(rig, guild_id=OTHER_GUILD)
    await rig.settings.set_timezone(GUILD, "Asia/Tokyo")
    (info,) = await rig.schedules.for_guild(OTHER_GUILD)
    assert info.next_fire == NEXT_MONDAY_9


async def test_a_timezone_change_does_not_touch_due_occurrences(rig: Rig) -> None:
    schedule_id = await add_reminder(rig, "daily 13:00")
    rig.clock.advance(timedelta(hours=2))  # 13:00 is due, not yet fired
    await rig.settings.set_timezone(GUILD, "Europe/Berlin")
    states = {o.fire_at: o.state for o in await rig.occurrences.history(schedule_id)}
    assert states[datetime(2026, 11, 18, 13, 0, tzinfo=UTC)] == PENDING
    assert MISSED not in states.values()
