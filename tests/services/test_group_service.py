"""/group overview and export on a real database (both backends), with a frozen clock."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Float,
    Integer,
    MetaData,
    Table,
    case,
    insert,
    literal,
    null,
    select,
    true,
)

from bot.app import build_member_data, build_scheduling
from bot.clock import FrozenClock
from bot.services.group import (
    EXPORT_COLUMNS,
    GroupService,
    ReviewDebt,
    ReviewTally,
)
from bot.services.guild_settings import GuildSettingsService
from bot.services.lifecycle import GuildLifecycleService
from db.engine import Database
from db.repositories.guild_settings import GuildSettingsRepository
from db.schema.goals import checkins, goals
from db.types import UtcDateTime
from tests.seeding import checkin_row, goal_row, insert_rows, noon

# The clock fixture: Wednesday 18 November 2026, 12:00 UTC; study week of Monday 16 Nov.
GUILD = 1_100_000_000_000_000_001
OTHER_GUILD = 1_100_000_000_000_000_002
SAM, ADA, MIA, LEO, OLD = (1_200_000_000_000_000_000 + i for i in range(1, 6))
THIS = date(2026, 11, 16)


def week(ago: int) -> date:
    return THIS - timedelta(days=7 * ago)


@dataclass(frozen=True)
class Rig:
    group: GroupService
    lifecycle: GuildLifecycleService


@pytest.fixture
def services(database: Database, clock: FrozenClock) -> Rig:
    """The group service as the composition root builds it, before features plug in."""
    settings = GuildSettingsService(GuildSettingsRepository(database.engine), clock)
    schedules, _announcements, _scheduler = build_scheduling(database, settings, clock)
    _member_data, group, lifecycle = build_member_data(database, schedules, clock)
    return Rig(group, lifecycle)


async def seed_overview_group(database: Database) -> None:
    goals = [
        goal_row(GUILD, SAM, week(0), 1, done=True),
        goal_row(GUILD, SAM, week(0), 2),
        *(goal_row(GUILD, MIA, week(1), slot, done=slot == 1) for slot in range(1, 5)),
        *(goal_row(GUILD, MIA, week(2), slot) for slot in range(1, 3)),
    ]
    checkins = [
        checkin_row(GUILD, SAM, week(0), 0, hours=2.0),
        checkin_row(GUILD, SAM, week(0), 1, hours=1.0),
        checkin_row(GUILD, SAM, week(1), 0, hours=4.0),
        checkin_row(GUILD, MIA, week(0), 0, hours=1.0),
        checkin_row(GUILD, MIA, week(1), 0, hours=1.0),
        checkin_row(GUILD, MIA, week(2), 0, hours=1.0),
        checkin_row(GUILD, ADA, week(2), 0, hours=1.0),
        checkin_row(GUILD, ADA, week(3), 0, hours=1.0),
        checkin_row(GUILD, LEO, week(3), 0, hours=1.0),  # left the server since
        checkin_row(GUILD, OLD, week(12), 0, hours=1.0),  # long gone
        checkin_row(OTHER_GUILD, ADA, week(0), 0, hours=9.0),
    ]
    await insert_rows(database.engine, goals, checkins)


async def test_overview_figures_and_drifting_members(database: Database, services: Rig) -> None:
    await seed_overview_group(database)
    await services.lifecycle.member_left(GUILD, LEO)

    overview = await services.group.overview(GUILD)

    this, last = overview.this_week, overview.last_week
    assert (this.week.key, last.week.key) == (week(0), week(1))
    assert (this.active, this.checked_in, this.median_hours) == (2, 2, 2.0)
    assert (this.goals_set, this.goals_done) == (2, 1)
    assert (last.active, last.checked_in, last.median_hours) == (2, 2, 2.5)
    assert (last.goals_set, last.goals_done) == (4, 1)
    assert overview.roster == 3  # Sam, Mia, Ada (Leo left; Old is outside the four weeks)
    assert overview.checkin_rate == pytest.approx(2 / 3)
    assert (overview.reviews_owed, overview.reviews_overdue, overview.faq_queue) == (None,) * 3
    assert overview.left == 1
    drifting = {d.user_id: d for d in overview.drifting}
    assert set(drifting) == {ADA, MIA}
    assert drifting[ADA].reasons == ("no check-in for 2 study weeks",)
    assert drifting[ADA].last_activity == datetime(2026, 11, 2, 12, tzinfo=UTC)
    assert drifting[MIA].reasons == ("goals mostly open two weeks running (0/2, 1/4 done)",)
    assert [d.user_id for d in overview.drifting] == [ADA, MIA]  # longest inactive first


async def test_overview_uses_the_review_and_faq_providers(
    database: Database, services: Rig
) -> None:
    await seed_overview_group(database)

    async def debts(guild_id: int) -> Mapping[int, ReviewDebt]:
        assert guild_id == GUILD
        return {SAM: ReviewDebt(owed=2, overdue=1), OLD: ReviewDebt(owed=1, overdue=0)}

    async def queue(guild_id: int) -> int:
        return 7 if guild_id == GUILD else 0

    services.group.register_review_debts(debts)
    services.group.register_faq_queue(queue)
    overview = await services.group.overview(GUILD)
    assert (overview.reviews_owed, overview.reviews_overdue, overview.faq_queue) == (3, 1, 7)
    drifting = {d.user_id: d.reasons for d in overview.drifting}
    assert drifting[SAM] == ("owes 1 overdue review",)
    assert OLD not in drifting


async def test_an_empty_group(services: Rig) -> None:
    overview = await services.group.overview(GUILD)
    assert overview.roster == 0 and overview.checkin_rate is None and overview.drifting == ()
    assert overview.this_week.median_hours is None
    chunks = [chunk async for chunk in services.group.export_csv(GUILD)]
    assert b"".join(chunks).decode() == ",".join(EXPORT_COLUMNS) + "\r\n"


async def test_members_who_only_took_part_in_peer_review_are_exported(
    database: Database, services: Rig
) -> None:
    await insert_rows(database.engine, [], [checkin_row(GUILD, SAM, week(0))])

    async def members(guild_id: int, after: int | None, limit: int) -> Sequence[int]:
        return [m for m in (ADA,) if after is None or m > after][:limit]

    async def tallies(
        guild_id: int, user_ids: Sequence[int], first: date | None, last: date
    ) -> Mapping[tuple[int, date], ReviewTally]:
        return {(ADA, week(1)): ReviewTally(given=1)} if ADA in user_ids else {}

    services.group.register_review_tallies(tallies, members)
    text = b"".join([chunk async for chunk in services.group.export_csv(GUILD)]).decode()
    rows = [row[:2] + row[6:] for row in csv.reader(io.StringIO(text))][1:]
    assert rows == [
        [week(0).isoformat(), str(SAM), "0", "0"],
        [week(1).isoformat(), str(ADA), "1", "0"],
        [week(0).isoformat(), str(ADA), "0", "0"],
    ]


async def test_keys_filed_under_an_earlier_week_start_count_in_the_week_containing_them(
    database: Database, services: Rig
) -> None:
    # The guild's weeks start on Monday; these rows were filed while they started on Sunday
    # (a day before) or Wednesday (two days after).
    sunday, wednesday = THIS - timedelta(days=1), THIS + timedelta(days=2)
    await insert_rows(
        database.engine,
        [goal_row(GUILD, SAM, sunday, 1, done=True), goal_row(GUILD, ADA, wednesday, 1)],
        [
            checkin_row(GUILD, SAM, sunday, hours=3.0),
            checkin_row(GUILD, MIA, wednesday, hours=2.0),
            checkin_row(GUILD, LEO, week(9) - timedelta(days=1)),  # week 10: not read
        ],
    )
    overview = await services.group.overview(GUILD)
    this, last = overview.this_week, overview.last_week
    assert (this.active, this.checked_in, this.median_hours, this.goals_set) == (2, 1, 2.0, 1)
    assert (last.active, last.checked_in, last.median_hours) == (1, 1, 3.0)
    assert (last.goals_set, last.goals_done) == (1, 1)
    assert overview.roster == 3  # Sam, Ada and Mia
    assert overview.drifting == ()  # Leo's check-in, ten weeks old, is not read at all


MEMBERS, WEEKS = 2000, 26
FIRST_ID = 10_000
GAP_MEMBER, GAP_WEEK = FIRST_ID + 7, 10


async def seed_big_group(database: Database) -> None:
    """A goal and a check-in for every member and week but one, generated inside the database
    (a cross join of two small temporary tables) so seeding takes a fraction of a second."""
    scratch = MetaData()
    members = Table(
        "seed_members", scratch, Column("user_id", BigInteger), Column("idx", Integer),
        Column("hours", Float), prefixes=["TEMPORARY"],
    )  # fmt: skip
    weeks = Table(
        "seed_weeks", scratch, Column("week_key", Date), Column("ago", Integer),
        Column("at", UtcDateTime), prefixes=["TEMPORARY"],
    )  # fmt: skip
    keep = ~((members.c.user_id == GAP_MEMBER) & (weeks.c.ago == GAP_WEEK))
    done = case(((members.c.idx + weeks.c.ago) % 2 == 0, weeks.c.at), else_=null())
    grid = select(literal(GUILD, BigInteger), members.c.user_id, weeks.c.week_key)
    async with database.engine.begin() as conn:
        await conn.run_sync(scratch.create_all)
        await conn.execute(
            insert(members),
            [{"user_id": FIRST_ID + i, "idx": i, "hours": i % 5 + 0.5} for i in range(MEMBERS)],
        )
        await conn.execute(
            insert(weeks),
            [{"week_key": week(ago), "ago": ago, "at": noon(week(ago))} for ago in range(WEEKS)],
        )
        await conn.execute(
            insert(goals).from_select(
                ["guild_id", "user_id", "week_key", "slot", "text", "done_at", "created_at",
                 "updated_at"],
                grid.add_columns(literal(1), literal("Goal"), done, weeks.c.at, weeks.c.at)
                .select_from(members.join(weeks, true()))
                .where(keep),
            )
        )  # fmt: skip
        await conn.execute(
            insert(checkins).from_select(
                ["guild_id", "user_id", "week_key", "local_day", "hours", "created_at",
                 "updated_at"],
                grid.add_columns(weeks.c.week_key, members.c.hours, weeks.c.at, weeks.c.at)
                .select_from(members.join(weeks, true()))
                .where(keep),
            )
        )  # fmt: skip
        await conn.run_sync(scratch.drop_all)


async def test_export_of_2000_members_over_26_weeks(database: Database, services: Rig) -> None:
    await seed_big_group(database)
    await insert_rows(database.engine, [], [checkin_row(OTHER_GUILD, FIRST_ID, week(0))])

    async def tallies(
        guild_id: int, user_ids: Sequence[int], first: date | None, last: date
    ) -> Mapping[tuple[int, date], ReviewTally]:
        assert len(user_ids) <= 500 and last == week(0) + timedelta(days=6)
        return (
            {(FIRST_ID, week(0)): ReviewTally(given=2, received=1)} if FIRST_ID in user_ids else {}
        )

    services.group.register_review_tallies(tallies)
    chunks = [chunk async for chunk in services.group.export_csv(GUILD)]
    assert len(chunks) == 1 + MEMBERS // 500  # the header, then a page of members at a time
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode())))

    assert rows[0] == list(EXPORT_COLUMNS)
    body = rows[1:]
    assert len(body) == MEMBERS * WEEKS
    by_key = {(r[1], r[0]): r for r in body}
    assert len(by_key) == MEMBERS * WEEKS
    first = str(FIRST_ID)
    assert body[0] == [week(25).isoformat(), first, "1", "0", "0.5", "1", "0", "0"]
    assert by_key[(first, week(0).isoformat())] == [
        week(0).isoformat(), first, "1", "1", "0.5", "1", "2", "1",
    ]  # fmt: skip
    assert by_key[(str(FIRST_ID + 3), week(1).isoformat())][2:6] == ["1", "1", "3.5", "1"]
    # A week without anything is still a row, with zeros.
    gap = by_key[(str(GAP_MEMBER), week(GAP_WEEK).isoformat())]
    assert gap[2:] == ["0", "0", "0", "0", "0", "0"]
    assert body[-1][:2] == [week(0).isoformat(), str(FIRST_ID + MEMBERS - 1)]
