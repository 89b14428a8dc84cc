"""Group figures, departures, guild purge and a member's own records, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import BigInteger, func, insert, select

from db.engine import Database
from db.repositories.group import GroupRepository, MemberWeek, RecentActivity
from db.repositories.guild_settings import GuildSettingsRepository
from db.repositories.lifecycle import LifecycleRepository
from db.repositories.member_preferences import MemberPreferencesRepository
from db.repositories.member_records import FORMER_MEMBER, MemberRecordsRepository
from db.repositories.nudges import NudgeRepository
from db.repositories.review_records import ReviewRecordsRepository
from db.repositories.schedules import NewSchedule, ScheduleRepository
from db.schema import metadata
from db.schema.reviews import review_assignments, review_pauses, review_rounds, review_submissions
from db.schema.schedules import closed_dms, schedule_nudges, schedule_occurrences, schedules
from tests.seeding import checkin_row, goal_row, insert_rows, noon

NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
GUILD = 1_100_000_000_000_000_001
OTHER_GUILD = 1_100_000_000_000_000_002
SAM = 1_200_000_000_000_000_002
ADA = 1_200_000_000_000_000_003
MIA = 1_200_000_000_000_000_004
WEEK = date(2026, 11, 16)
LAST = WEEK - timedelta(days=7)


@pytest.fixture
def group(database: Database) -> GroupRepository:
    return GroupRepository(database.engine)


@pytest.fixture
def lifecycle(database: Database) -> LifecycleRepository:
    return LifecycleRepository(database.engine)


@pytest.fixture
def records(database: Database) -> MemberRecordsRepository:
    return MemberRecordsRepository(database.engine)


async def count_rows(database: Database, guild_id: int | None = None) -> dict[str, int]:
    """Rows per table (of one guild where the table has a guild_id)."""
    counts = {}
    async with database.engine.connect() as conn:
        for table in metadata.sorted_tables:
            query = select(func.count()).select_from(table)
            if guild_id is not None and "guild_id" in table.c:
                query = query.where(table.c.guild_id == guild_id)
            elif guild_id is not None and table is schedule_occurrences:
                query = query.where(
                    table.c.schedule_id.in_(
                        select(schedules.c.id).where(schedules.c.guild_id == guild_id)
                    )
                )
            counts[table.name] = int(await conn.scalar(query) or 0)
    return counts


# ----------------------------------------------------------------------------- group figures


async def test_member_weeks_merge_goals_and_checkins(
    database: Database, group: GroupRepository
) -> None:
    await insert_rows(
        database.engine,
        [
            goal_row(GUILD, SAM, WEEK, 1, done=True),
            goal_row(GUILD, SAM, WEEK, 2),
            goal_row(GUILD, ADA, LAST, 1),
            goal_row(OTHER_GUILD, SAM, WEEK, 1),
        ],
        [
            checkin_row(GUILD, SAM, WEEK, 0, hours=1.5),
            checkin_row(GUILD, SAM, WEEK, 2, hours=None),
            checkin_row(GUILD, MIA, LAST, 3, hours=2.0),
        ],
    )
    weeks = await group.member_weeks(GUILD, None, WEEK + timedelta(days=6))
    assert weeks == [
        MemberWeek(SAM, WEEK, 2, 1, 2, 1.5),
        MemberWeek(ADA, LAST, 1, 0, 0, 0.0),
        MemberWeek(MIA, LAST, 0, 0, 1, 2.0),
    ]
    assert await group.member_weeks(GUILD, WEEK, WEEK, [ADA, MIA]) == []
    only_mia = await group.member_weeks(GUILD, LAST, WEEK, [MIA])
    assert [(w.user_id, w.week_key) for w in only_mia] == [(MIA, LAST)]


async def test_recent_activity_lays_each_members_weeks_side_by_side(
    database: Database, group: GroupRepository
) -> None:
    before = LAST - timedelta(days=7)
    await insert_rows(
        database.engine,
        [
            goal_row(GUILD, SAM, WEEK, 1, done=True),
            goal_row(GUILD, SAM, WEEK, 2),
            goal_row(GUILD, SAM, LAST + timedelta(days=3), 1),  # a later week start's key
            goal_row(GUILD, ADA, before, 1),  # older than the weeks asked for
            goal_row(OTHER_GUILD, MIA, WEEK, 1),
        ],
        [
            checkin_row(GUILD, SAM, WEEK, 0, hours=1.5),
            checkin_row(GUILD, SAM, WEEK, 2, hours=None),
            checkin_row(GUILD, MIA, WEEK - timedelta(days=1), 0, hours=2.0),  # last week's
            checkin_row(GUILD, MIA, WEEK + timedelta(days=7)),  # after the last day
        ],
    )
    found = await group.recent_activity(GUILD, [WEEK, LAST], WEEK + timedelta(days=6))
    assert found == [
        RecentActivity(SAM, (2, 1), (1, 0), (2, 0), (1.5, 0.0)),
        RecentActivity(MIA, (0, 0), (0, 0), (0, 1), (0.0, 2.0)),
    ]
    assert await group.recent_activity(OTHER_GUILD, [LAST], LAST + timedelta(days=6)) == []
    last = await group.last_changes(GUILD, [SAM, ADA, MIA], LAST, WEEK + timedelta(days=6))
    assert last == {SAM: noon(WEEK + timedelta(days=2)), MIA: noon(WEEK - timedelta(days=1))}
    assert await group.last_changes(GUILD, [], LAST, WEEK) == {}


async def test_member_ids_page_through_everyone_with_goals_or_checkins(
    database: Database, group: GroupRepository
) -> None:
    users = list(range(1000, 1013))
    await insert_rows(
        database.engine,
        [goal_row(GUILD, u, WEEK, 1) for u in users[::2]],
        [checkin_row(GUILD, u, WEEK) for u in users[1::2]]
        + [checkin_row(GUILD, users[0], WEEK), checkin_row(OTHER_GUILD, 5, WEEK)],
    )
    pages, after = [], None
    while page := await group.member_ids(GUILD, after=after, limit=5):
        pages.append(page)
        after = page[-1]
    assert pages == [users[:5], users[5:10], users[10:]]


# ----------------------------------------------------------------------------- departures


async def test_guild_departure_keeps_the_first_time_and_is_forgotten_on_return(
    lifecycle: LifecycleRepository,
) -> None:
    assert await lifecycle.guild_left(GUILD, NOW) == NOW
    assert await lifecycle.guild_left(GUILD, NOW + timedelta(days=3)) == NOW
    await lifecycle.guild_left(OTHER_GUILD, NOW + timedelta(days=1))
    assert await lifecycle.departed_guilds() == {GUILD: NOW, OTHER_GUILD: NOW + timedelta(days=1)}
    assert await lifecycle.left_before(NOW) == [GUILD]
    assert await lifecycle.left_before(NOW + timedelta(days=2)) == [GUILD, OTHER_GUILD]
    assert await lifecycle.guild_returned(GUILD) == NOW
    assert await lifecycle.guild_returned(GUILD) is None
    assert await lifecycle.left_before(NOW + timedelta(days=2)) == [OTHER_GUILD]


async def test_member_departure_round_trip(lifecycle: LifecycleRepository) -> None:
    await lifecycle.member_left(GUILD, SAM, NOW)
    await lifecycle.member_left(GUILD, SAM, NOW + timedelta(hours=1))
    await lifecycle.member_left(OTHER_GUILD, ADA, NOW)
    assert await lifecycle.departed_members(GUILD) == {SAM: NOW}
    assert await lifecycle.member_returned(GUILD, SAM)
    assert not await lifecycle.member_returned(GUILD, SAM)
    assert await lifecycle.departed_members(GUILD) == {}


async def test_members_who_left_get_no_nudges(database: Database) -> None:
    prefs = MemberPreferencesRepository(database.engine)
    for user in (SAM, ADA):
        await prefs.set_reminders(GUILD, user, True, NOW)
    lifecycle = LifecycleRepository(database.engine)
    await lifecycle.member_left(GUILD, SAM, NOW)
    nudges = NudgeRepository(database.engine)
    targets = await nudges.targets(GUILD, NOW, timedelta(days=30))
    assert [t.user_id for t in targets] == [ADA]
    await lifecycle.member_returned(GUILD, SAM)
    targets = await nudges.targets(GUILD, NOW, timedelta(days=30))
    assert [t.user_id for t in targets] == [SAM, ADA]


async def seed_guild(database: Database, guild_id: int, channel: int) -> int:
    """Something in every core table for the guild; returns a schedule id."""
    engine = database.engine
    await GuildSettingsRepository(engine).update(guild_id, NOW, timezone="Europe/Berlin")
    await MemberPreferencesRepository(engine).set_reminders(guild_id, SAM, True, NOW)
    await insert_rows(
        engine, [goal_row(guild_id, SAM, WEEK, 1)], [checkin_row(guild_id, SAM, WEEK)]
    )
    schedules = ScheduleRepository(engine)
    schedule = await schedules.add(
        NewSchedule(guild_id, "reminder", "daily 09:00", channel, "Hi", MIA), NOW
    )
    await schedules.add_defaults(guild_id, [], NOW, with_pairing=False)
    async with engine.begin() as conn:
        occurrence = (
            await conn.execute(
                insert(schedule_occurrences)
                .values(schedule_id=schedule.id, fire_at=NOW, state="sent", created_at=NOW)
                .returning(schedule_occurrences.c.id)
            )
        ).scalar_one()
        await conn.execute(
            insert(schedule_nudges).values(
                occurrence_id=occurrence, user_id=SAM, guild_id=guild_id, due_at=NOW
            )
        )
        await conn.execute(insert(closed_dms).values(guild_id=guild_id, user_id=ADA, noted_at=NOW))
    lifecycle = LifecycleRepository(engine)
    await lifecycle.member_left(guild_id, ADA, NOW)
    await lifecycle.guild_left(guild_id, NOW)
    return schedule.id


async def test_purge_deletes_every_core_row_of_the_guild_and_nothing_else(
    database: Database, lifecycle: LifecycleRepository
) -> None:
    await seed_guild(database, GUILD, 1)
    await seed_guild(database, OTHER_GUILD, 2)
    before = await count_rows(database, GUILD)
    other_before = await count_rows(database, OTHER_GUILD)
    core = {name for name, n in before.items() if n}
    assert {"goals", "checkins", "schedules", "schedule_nudges", "closed_dms"} <= core
    assert await lifecycle.guilds_with_data() == {GUILD, OTHER_GUILD}

    purged = await lifecycle.purge_guild(GUILD)

    assert {name for name, n in purged.items() if n} == core
    assert {name: n for name, n in (await count_rows(database, GUILD)).items() if n} == {}
    assert await count_rows(database, OTHER_GUILD) == other_before
    assert await lifecycle.guilds_with_data() == {OTHER_GUILD}
    assert await lifecycle.departed_guilds() == {OTHER_GUILD: NOW}


async def test_skipping_scheduled_nudges(
    database: Database, lifecycle: LifecycleRepository
) -> None:
    await seed_guild(database, GUILD, 1)
    assert await lifecycle.skip_scheduled_nudges(GUILD, NOW, ADA) == 0
    assert await lifecycle.skip_scheduled_nudges(GUILD, NOW, SAM) == 1
    assert await lifecycle.skip_scheduled_nudges(GUILD, NOW) == 0


# ----------------------------------------------------------------------------- member records


async def test_member_records_are_read_and_forgotten(
    database: Database, records: MemberRecordsRepository
) -> None:
    schedule_id = await seed_guild(database, GUILD, 1)
    await seed_guild(database, OTHER_GUILD, 2)
    sam = await records.for_member(GUILD, SAM)
    assert sam.preferences is not None and sam.preferences.reminders_enabled
    assert [(n.state, n.due_at) for n in sam.nudges] == [("scheduled", NOW)]
    assert sam.dms_closed_at is None and sam.left_at is None and sam.schedules_created == ()
    ada = await records.for_member(GUILD, ADA)
    assert ada.preferences is None and ada.dms_closed_at == NOW and ada.left_at == NOW
    mia = await records.for_member(GUILD, MIA)
    assert [s.id for s in mia.schedules_created] == [schedule_id]

    forgotten = await records.forget(GUILD, SAM)
    assert (forgotten.preferences, forgotten.nudges, forgotten.closed_dms) == (1, 1, 0)
    forgotten = await records.forget(GUILD, ADA)
    assert (forgotten.closed_dms, forgotten.departures) == (1, 1)
    forgotten = await records.forget(GUILD, MIA)
    assert forgotten.schedules_anonymised == 1
    schedule = await ScheduleRepository(database.engine).get(GUILD, schedule_id)
    assert schedule is not None and schedule.created_by == FORMER_MEMBER

    for user in (SAM, ADA, MIA):
        empty = await records.for_member(GUILD, user)
        assert (empty.preferences, empty.nudges, empty.dms_closed_at, empty.left_at) == (
            None, (), None, None,
        )  # fmt: skip
        assert empty.schedules_created == ()
    untouched = await records.for_member(OTHER_GUILD, SAM)
    assert untouched.preferences is not None and len(untouched.nudges) == 1


# ----------------------------------------------------------------------------- review records


async def seed_reviews(database: Database) -> dict[str, int]:
    """Sam and Ada submitted this week; Sam reviewed Ada (done) and owes Mia's last week's."""
    s, a = review_submissions, review_assignments
    due = NOW + timedelta(days=2)
    async with database.engine.begin() as conn:

        async def submit(user: int, week: date, guild: int = GUILD) -> int:
            return (
                await conn.execute(
                    insert(s)
                    .values(guild_id=guild, user_id=user, round_key=week, url=f"https://x/{user}",
                            created_at=NOW, updated_at=NOW)
                    .returning(s.c.id)
                )
            ).scalar_one()  # fmt: skip

        async def assign(sub: int, reviewer: int, done: bool, due_at: datetime = due) -> int:
            return (
                await conn.execute(
                    insert(a)
                    .values(submission_id=sub, guild_id=GUILD, reviewer_id=reviewer,
                            assigned_at=NOW, due_at=due_at, done_at=NOW if done else None,
                            feedback="Good" if done else None)
                    .returning(a.c.id)
                )
            ).scalar_one()  # fmt: skip

        ids = {"sam_sub": await submit(SAM, WEEK), "ada_sub": await submit(ADA, WEEK)}
        ids["mia_sub"] = await submit(MIA, LAST)
        ids["given"] = await assign(ids["ada_sub"], SAM, True)
        ids["owed"] = await assign(ids["mia_sub"], SAM, False, NOW - timedelta(hours=1))
        ids["received"] = await assign(ids["sam_sub"], ADA, True)
        ids["mia_owes"] = await assign(ids["sam_sub"], MIA, False)
        await conn.execute(
            insert(review_pauses).values(guild_id=GUILD, user_id=SAM, reason="paused",
                                         until=NOW, created_at=NOW)
        )  # fmt: skip
        await conn.execute(
            insert(review_rounds).values(guild_id=GUILD, round_key=WEEK, paired_at=NOW,
                                         paired_by=SAM)
        )  # fmt: skip
    return ids


async def test_review_records_of_a_member(database: Database) -> None:
    ids = await seed_reviews(database)
    records = ReviewRecordsRepository(database.engine)
    sam = await records.for_member(GUILD, SAM)
    assert [sub.id for sub in sam.submissions] == [ids["sam_sub"]]
    assert [(r.id, r.author_id, r.feedback) for r in sam.given] == [
        (ids["given"], ADA, "Good"), (ids["owed"], MIA, None),
    ]  # fmt: skip
    assert sorted(r.reviewer_id for r in sam.received) == sorted([ADA, MIA])
    assert (sam.paused_until, sam.pause_reason) == (NOW, "paused")
    assert await records.has_pause(GUILD, SAM) and not await records.has_pause(GUILD, ADA)

    assert await records.debts(GUILD, NOW) == {SAM: (1, 1), MIA: (1, 0)}
    counts = await records.weekly_counts(GUILD, [SAM, ADA, MIA], None, WEEK + timedelta(days=6))
    assert counts == {(SAM, WEEK): (1, 1), (ADA, WEEK): (1, 1)}
    assert await records.weekly_counts(GUILD, [SAM], LAST, LAST + timedelta(days=6)) == {}


async def test_forgetting_reviews_keeps_what_the_member_gave_without_their_name(
    database: Database,
) -> None:
    ids = await seed_reviews(database)
    records = ReviewRecordsRepository(database.engine)
    # Another forgotten member already reviewed Ada's submission: the names must stay apart.
    async with database.engine.begin() as conn:
        await conn.execute(
            insert(review_assignments).values(
                submission_id=ids["ada_sub"], guild_id=GUILD, reviewer_id=FORMER_MEMBER,
                assigned_at=NOW, due_at=NOW, done_at=NOW, feedback="Earlier",
            )
        )  # fmt: skip

    done = await records.forget(GUILD, SAM)

    assert (done.submissions, done.reviews_received, done.open_reviews) == (1, 2, 1)
    assert (done.reviews_anonymised, done.pauses, done.rounds_anonymised) == (1, 1, 1)
    assert await columns_with(database, SAM) == {}
    ada = await records.for_member(GUILD, ADA)
    assert sorted((r.reviewer_id, r.feedback) for r in ada.received) == [
        (-ids["given"], "Good"), (FORMER_MEMBER, "Earlier"),
    ]  # fmt: skip
    assert await records.debts(GUILD, NOW) == {}


async def test_purging_reviews_of_a_guild(database: Database) -> None:
    await seed_reviews(database)
    records = ReviewRecordsRepository(database.engine)
    assert await records.purge_guild(OTHER_GUILD) == 0
    assert await records.purge_guild(GUILD) == 3 + 4 + 1 + 1
    assert await count_rows(database, GUILD) == dict.fromkeys(await count_rows(database), 0)


async def columns_with(database: Database, user_id: int) -> dict[str, int]:
    found = {}
    async with database.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for column in table.c:
                if isinstance(column.type, BigInteger):
                    n = await conn.scalar(
                        select(func.count()).select_from(table).where(column == user_id)
                    )
                    if n:
                        found[f"{table.name}.{column.name}"] = int(n)
    return found
