"""Goal and check-in repositories on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from db.engine import Database
from db.repositories.checkins import CheckInsRepository
from db.repositories.goals import GoalsRepository

NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
GUILD = 1_100_000_000_000_000_001
USER = 1_200_000_000_000_000_002
OTHER = 1_200_000_000_000_000_003
WEEK = date(2026, 11, 16)
LAST_WEEK = WEEK - timedelta(days=7)
THIS_WEEK_RANGE = (WEEK, WEEK + timedelta(days=6))
LAST_WEEK_RANGE = (LAST_WEEK, LAST_WEEK + timedelta(days=6))


@pytest.fixture
def goals(database: Database) -> GoalsRepository:
    return GoalsRepository(database.engine)


@pytest.fixture
def checkins(database: Database) -> CheckInsRepository:
    return CheckInsRepository(database.engine)


# --------------------------------------------------------------------------------- goals


async def test_added_goals_take_consecutive_slots_and_list_in_order(goals: GoalsRepository) -> None:
    first = await goals.add(GUILD, USER, WEEK, "Finish module 1", 2.5, NOW)
    second = await goals.add(GUILD, USER, WEEK, "Quiz", None, NOW)
    assert first is not None and second is not None
    assert (first.slot, second.slot) == (1, 2)
    listed = await goals.for_member_week(GUILD, USER, *THIS_WEEK_RANGE)
    assert [g.text for g in listed] == ["Finish module 1", "Quiz"]
    assert listed[0].hours == 2.5 and listed[1].hours is None
    assert listed[0].created_at == NOW and not listed[0].done


async def test_add_returns_none_when_the_week_is_full(goals: GoalsRepository) -> None:
    for i in range(10):
        assert await goals.add(GUILD, USER, WEEK, f"g{i}", None, NOW) is not None
    assert await goals.add(GUILD, USER, WEEK, "eleventh", None, NOW) is None
    assert await goals.add(GUILD, USER, WEEK + timedelta(days=7), "next week", None, NOW)
    assert await goals.add(GUILD, OTHER, WEEK, "someone else", None, NOW)


async def test_concurrent_adds_never_exceed_the_limit(goals: GoalsRepository) -> None:
    results = await asyncio.gather(
        *(goals.add(GUILD, USER, WEEK, f"g{i}", None, NOW) for i in range(14))
    )
    assert sum(r is not None for r in results) == 10
    listed = await goals.for_member_week(GUILD, USER, *THIS_WEEK_RANGE)
    assert sorted(g.slot for g in listed) == list(range(1, 11))


async def test_removed_goal_frees_its_slot(goals: GoalsRepository) -> None:
    added = [await goals.add(GUILD, USER, WEEK, f"g{i}", None, NOW) for i in range(10)]
    assert added[3] is not None
    assert await goals.remove(GUILD, USER, added[3].id) is not None
    again = await goals.add(GUILD, USER, WEEK, "replacement", None, NOW)
    assert again is not None and again.slot == 4


async def test_mark_done_reports_whether_it_was_open(goals: GoalsRepository) -> None:
    goal = await goals.add(GUILD, USER, WEEK, "Read", None, NOW)
    assert goal is not None
    first = await goals.mark_done(GUILD, USER, goal.id, NOW)
    second = await goals.mark_done(GUILD, USER, goal.id, NOW + timedelta(hours=1))
    assert first is not None and first[1] is True and first[0].done_at == NOW
    assert second is not None and second[1] is False and second[0].done_at == NOW


async def test_changes_are_scoped_to_the_owner(goals: GoalsRepository) -> None:
    goal = await goals.add(GUILD, USER, WEEK, "Mine", None, NOW)
    assert goal is not None
    assert await goals.mark_done(GUILD, OTHER, goal.id, NOW) is None
    assert await goals.mark_done(GUILD + 1, USER, goal.id, NOW) is None
    assert await goals.edit_text(GUILD, OTHER, goal.id, "hijacked", NOW) is None
    assert await goals.remove(GUILD + 1, USER, goal.id) is None
    assert await goals.get(GUILD, OTHER, goal.id) is None
    unchanged = await goals.get(GUILD, USER, goal.id)
    assert unchanged == goal


async def test_edit_text_changes_only_the_text(goals: GoalsRepository) -> None:
    goal = await goals.add(GUILD, USER, WEEK, "Old", 3.0, NOW)
    assert goal is not None
    edited = await goals.edit_text(GUILD, USER, goal.id, "New", NOW)
    assert edited is not None and edited.text == "New" and edited.hours == 3.0


async def test_week_range_includes_keys_of_an_earlier_week_start(goals: GoalsRepository) -> None:
    # Filed under Monday; the guild then moves its week start to Sunday 15 Nov.
    await goals.add(GUILD, USER, WEEK, "Monday goal", None, NOW)
    sunday_week = (WEEK - timedelta(days=1), WEEK + timedelta(days=5))
    assert [g.text for g in await goals.for_member_week(GUILD, USER, *sunday_week)] == [
        "Monday goal"
    ]


async def test_carry_copies_open_goals_once(goals: GoalsRepository) -> None:
    open_goal = await goals.add(GUILD, USER, LAST_WEEK, "Unfinished", 4.0, NOW)
    done_goal = await goals.add(GUILD, USER, LAST_WEEK, "Finished", None, NOW)
    assert open_goal and done_goal
    await goals.mark_done(GUILD, USER, done_goal.id, NOW)
    first = await goals.carry(GUILD, USER, LAST_WEEK_RANGE, WEEK, NOW)
    second = await goals.carry(GUILD, USER, LAST_WEEK_RANGE, WEEK, NOW)
    assert [(g.text, g.hours, g.carried_from) for g in first.copied] == [
        ("Unfinished", 4.0, open_goal.id)
    ]
    assert (second.copied, second.already, second.skipped) == ((), 1, 0)
    assert len(await goals.for_member_week(GUILD, USER, *THIS_WEEK_RANGE)) == 1


async def test_concurrent_carries_copy_each_goal_once(goals: GoalsRepository) -> None:
    for i in range(4):
        await goals.add(GUILD, USER, LAST_WEEK, f"g{i}", None, NOW)
    outcomes = await asyncio.gather(
        *(goals.carry(GUILD, USER, LAST_WEEK_RANGE, WEEK, NOW) for _ in range(5))
    )
    assert sum(len(o.copied) for o in outcomes) == 4
    assert all(len(o.copied) + o.already == 4 for o in outcomes)
    this_week = await goals.for_member_week(GUILD, USER, *THIS_WEEK_RANGE)
    assert sorted(g.text for g in this_week) == ["g0", "g1", "g2", "g3"]


async def test_carry_respects_the_limit(goals: GoalsRepository) -> None:
    for i in range(3):
        await goals.add(GUILD, USER, LAST_WEEK, f"old{i}", None, NOW)
    for i in range(8):
        await goals.add(GUILD, USER, WEEK, f"new{i}", None, NOW)
    outcome = await goals.carry(GUILD, USER, LAST_WEEK_RANGE, WEEK, NOW)
    assert [g.text for g in outcome.copied] == ["old0", "old1"]
    assert outcome.skipped == 1


async def test_database_refuses_a_second_copy_of_one_goal(
    goals: GoalsRepository, database: Database
) -> None:
    from db.schema.goals import goals as table

    source = await goals.add(GUILD, USER, LAST_WEEK, "Once", None, NOW)
    assert source is not None
    await goals.carry(GUILD, USER, LAST_WEEK_RANGE, WEEK, NOW)
    row = dict(
        guild_id=GUILD,
        user_id=USER,
        week_key=WEEK,
        slot=5,
        text="dup",
        carried_from=source.id,
        created_at=NOW,
        updated_at=NOW,
    )
    with pytest.raises(IntegrityError):
        async with database.engine.begin() as conn:
            await conn.execute(table.insert().values(**row))


async def test_removing_a_source_goal_keeps_its_copy(goals: GoalsRepository) -> None:
    source = await goals.add(GUILD, USER, LAST_WEEK, "Source", None, NOW)
    assert source is not None
    (copy,) = (await goals.carry(GUILD, USER, LAST_WEEK_RANGE, WEEK, NOW)).copied
    await goals.remove(GUILD, USER, source.id)
    kept = await goals.get(GUILD, USER, copy.id)
    assert kept is not None and kept.carried_from is None


async def test_weekly_counts_are_grouped_per_week(goals: GoalsRepository) -> None:
    a = await goals.add(GUILD, USER, LAST_WEEK, "a", 2.0, NOW)
    await goals.add(GUILD, USER, LAST_WEEK, "b", 1.5, NOW)
    await goals.add(GUILD, USER, WEEK, "c", None, NOW)
    await goals.add(GUILD, OTHER, WEEK, "other", None, NOW)
    assert a is not None
    await goals.mark_done(GUILD, USER, a.id, NOW)
    weekly = await goals.weekly(GUILD, USER, LAST_WEEK, THIS_WEEK_RANGE[1])
    assert [(w.week_key, w.total, w.done, w.hours_planned) for w in weekly] == [
        (LAST_WEEK, 2, 1, 3.5),
        (WEEK, 1, 0, 0.0),
    ]
    guild = await goals.guild_weekly(GUILD, WEEK, THIS_WEEK_RANGE[1])
    assert [(w.members, w.total, w.done) for w in guild] == [(2, 2, 0)]


async def test_member_goals_can_be_exported_and_deleted(goals: GoalsRepository) -> None:
    await goals.add(GUILD, USER, WEEK, "mine", None, NOW)
    await goals.add(GUILD, OTHER, WEEK, "theirs", None, NOW)
    assert [g.text for g in await goals.for_member(GUILD, USER)] == ["mine"]
    assert await goals.delete_member(GUILD, USER) == 1
    assert await goals.for_member(GUILD, USER) == []
    assert len(await goals.for_member(GUILD, OTHER)) == 1
    assert await goals.delete_guild(GUILD) == 1


async def test_goal_text_is_stored_verbatim(goals: GoalsRepository) -> None:
    text = "'); DROP TABLE goals; -- @everyone **bold** 🎓 %s"
    goal = await goals.add(GUILD, USER, WEEK, text, None, NOW)
    assert goal is not None
    assert (await goals.get(GUILD, USER, goal.id)) == goal
    assert goal.text == text


# ------------------------------------------------------------------------------ check-ins


async def test_first_check_in_of_the_day_is_created(checkins: CheckInsRepository) -> None:
    day = date(2026, 11, 18)
    record = (await checkins.record(GUILD, USER, day, WEEK, NOW, hours=2.0, mood=4)).checkin
    assert (record.hours, record.mood, record.done, record.revision) == (2.0, 4, None, 1)
    assert not record.is_update
    assert await checkins.on_day(GUILD, USER, day) == record


async def test_second_check_in_merges_given_fields(checkins: CheckInsRepository) -> None:
    day = date(2026, 11, 18)
    await checkins.record(GUILD, USER, day, WEEK, NOW, hours=2.0, done="videos", mood=3)
    later = NOW + timedelta(hours=2)
    merged = (
        await checkins.record(GUILD, USER, day, WEEK, later, hours=3.5, blockers="none")
    ).checkin
    assert (merged.hours, merged.done, merged.blockers, merged.mood) == (3.5, "videos", "none", 3)
    assert merged.is_update and merged.created_at == NOW and merged.updated_at == later


async def test_concurrent_check_ins_leave_one_row(checkins: CheckInsRepository) -> None:
    day = date(2026, 11, 18)
    await asyncio.gather(
        *(checkins.record(GUILD, USER, day, WEEK, NOW, hours=float(i)) for i in range(8))
    )
    rows = await checkins.for_member(GUILD, USER)
    assert len(rows) == 1 and rows[0].revision == 8


async def test_concurrent_check_ins_of_many_members_get_their_own_rows(
    checkins: CheckInsRepository,
) -> None:
    day = date(2026, 11, 18)
    results = await asyncio.gather(
        *(checkins.record(GUILD, USER + i, day, WEEK, NOW, hours=float(i)) for i in range(20))
    )
    assert [r.checkin.user_id for r in results] == [USER + i for i in range(20)]
    assert [r.checkin.hours for r in results] == [float(i) for i in range(20)]
    assert all(r.weeks[-1].hours == r.checkin.hours for r in results)


async def test_one_bad_check_in_does_not_fail_the_others(checkins: CheckInsRepository) -> None:
    day = date(2026, 11, 18)
    good, bad = await asyncio.gather(
        checkins.record(GUILD, USER, day, WEEK, NOW, mood=3),
        checkins.record(GUILD, OTHER, day, WEEK, NOW, mood=9),
        return_exceptions=True,
    )
    assert isinstance(bad, IntegrityError)
    assert not isinstance(good, BaseException) and good.checkin.mood == 3
    assert await checkins.for_member(GUILD, OTHER) == []


async def test_record_returns_the_members_weeks(checkins: CheckInsRepository) -> None:
    await checkins.record(GUILD, USER, date(2026, 11, 10), LAST_WEEK, NOW, hours=1.0)
    await checkins.record(GUILD, OTHER, date(2026, 11, 17), WEEK, NOW, hours=5.0)
    recorded = await checkins.record(GUILD, USER, date(2026, 11, 17), WEEK, NOW, hours=2.0)
    assert [(w.week_key, w.days, w.hours) for w in recorded.weeks] == [
        (LAST_WEEK, 1, 1.0),
        (WEEK, 1, 2.0),
    ]


async def test_unknown_check_in_field_is_refused(checkins: CheckInsRepository) -> None:
    with pytest.raises(ValueError, match="unknown"):
        await checkins.record(GUILD, USER, date(2026, 11, 18), WEEK, NOW, colour="red")


async def test_database_enforces_the_mood_range(checkins: CheckInsRepository) -> None:
    with pytest.raises(IntegrityError):
        await checkins.record(GUILD, USER, date(2026, 11, 18), WEEK, NOW, mood=9)


async def test_weekly_hours_and_keys(checkins: CheckInsRepository) -> None:
    await checkins.record(GUILD, USER, date(2026, 11, 10), LAST_WEEK, NOW, hours=1.0)
    await checkins.record(GUILD, USER, date(2026, 11, 12), LAST_WEEK, NOW, hours=2.5)
    await checkins.record(GUILD, USER, date(2026, 11, 17), WEEK, NOW)
    await checkins.record(GUILD, OTHER, date(2026, 11, 17), WEEK, NOW, hours=9.0)
    weekly = await checkins.weekly(GUILD, USER, LAST_WEEK, THIS_WEEK_RANGE[1])
    assert [(w.week_key, w.days, w.hours) for w in weekly] == [
        (LAST_WEEK, 2, 3.5),
        (WEEK, 1, 0.0),
    ]
    everything = await checkins.weekly(GUILD, USER, None, WEEK)
    assert [w.week_key for w in everything] == [LAST_WEEK, WEEK]
    until_last = await checkins.weekly(GUILD, USER, None, LAST_WEEK_RANGE[1])
    assert [(w.week_key, w.hours) for w in until_last] == [(LAST_WEEK, 3.5)]
    guild = await checkins.guild_weekly(GUILD, WEEK, THIS_WEEK_RANGE[1])
    assert [(w.members, w.hours) for w in guild] == [(2, 9.0)]


async def test_last_check_in_time(checkins: CheckInsRepository) -> None:
    assert await checkins.last_at(GUILD, USER) is None
    await checkins.record(GUILD, USER, date(2026, 11, 17), WEEK, NOW - timedelta(days=1))
    await checkins.record(GUILD, USER, date(2026, 11, 18), WEEK, NOW)
    assert await checkins.last_at(GUILD, USER) == NOW


async def test_member_check_ins_are_deleted_alone(checkins: CheckInsRepository) -> None:
    await checkins.record(GUILD, USER, date(2026, 11, 17), WEEK, NOW)
    await checkins.record(GUILD, OTHER, date(2026, 11, 17), WEEK, NOW)
    assert await checkins.delete_member(GUILD, USER) == 1
    assert await checkins.for_member(GUILD, USER) == []
    assert len(await checkins.for_member(GUILD, OTHER)) == 1
    assert await checkins.delete_guild(GUILD) == 1
