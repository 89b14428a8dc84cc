"""Members' own data (/me data, /me forget) and guilds and members coming and going, on a real
database (both backends) with a frozen clock."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import BigInteger, func, insert, select

from bot.app import build_member_data, build_scheduling, build_services
from bot.clock import FrozenClock
from bot.domain.shards import Shards, shard_of
from bot.services.checkins import CheckInService
from bot.services.goals import GoalsService
from bot.services.guild_settings import GuildSettingsService
from bot.services.lifecycle import GUILD_LEFT_REASON, DailyPurge, GuildLifecycleService
from bot.services.member_data import ANONYMISED, REASSIGNED, Forgotten, MemberDataService
from bot.services.member_preferences import MemberPreferencesService
from bot.services.schedules import ScheduleService
from db.engine import Database
from db.repositories.checkins import CheckInsRepository
from db.repositories.goals import GoalsRepository
from db.repositories.guild_settings import GuildSettingsRepository
from db.repositories.member_preferences import MemberPreferencesRepository
from db.repositories.member_records import FORMER_MEMBER
from db.repositories.nudges import NudgeRepository
from db.schema import metadata
from db.schema.schedules import schedule_nudges, schedule_occurrences

GUILD = 1_100_000_000_000_000_001
OTHER_GUILD = 1_100_000_000_000_000_002
CHANNEL = 1_300_000_000_000_000_003
SAM = 1_200_000_000_000_000_002
ADA = 1_200_000_000_000_000_003
MIA = 1_200_000_000_000_000_004
LEO = 1_200_000_000_000_000_005


@dataclass
class FakeFeature:
    """A feature with tables of its own, as peer review or the FAQ plug in."""

    exported: list[tuple[int, int]] = field(default_factory=list)
    forgotten: list[tuple[int, int]] = field(default_factory=list)
    purged: list[int] = field(default_factory=list)

    async def export_member(self, guild_id: int, user_id: int) -> dict[str, Any]:
        self.exported.append((guild_id, user_id))
        return {"submissions": [{"link": "https://example.com/x"}]}

    async def forget_member(self, guild_id: int, user_id: int) -> list[Forgotten]:
        self.forgotten.append((guild_id, user_id))
        return [
            Forgotten("submissions", 1),
            Forgotten("reviews you gave", 2, ANONYMISED),
            Forgotten("reviews you owed", 1, REASSIGNED),
        ]

    async def purge_guild(self, guild_id: int) -> int:
        self.purged.append(guild_id)
        return 5


@dataclass
class Rig:
    database: Database
    clock: FrozenClock
    goals: GoalsService
    checkins: CheckInService
    preferences: MemberPreferencesService
    settings: GuildSettingsService
    schedules: ScheduleService
    member_data: MemberDataService
    lifecycle: GuildLifecycleService
    feature: FakeFeature


@pytest.fixture
def rig(database: Database, clock: FrozenClock) -> Rig:
    engine = database.engine
    settings = GuildSettingsService(GuildSettingsRepository(engine), clock)
    schedules, _announcements, _scheduler = build_scheduling(database, settings, clock)
    member_data, _group, lifecycle = build_member_data(database, schedules, clock)
    feature = FakeFeature()
    member_data.register(feature)
    return Rig(
        database,
        clock,
        GoalsService(GoalsRepository(engine), GuildSettingsRepository(engine), clock),
        CheckInService(CheckInsRepository(engine), GuildSettingsRepository(engine), clock),
        MemberPreferencesService(MemberPreferencesRepository(engine), clock),
        settings,
        schedules,
        member_data,
        lifecycle,
        feature,
    )


async def member_activity(rig: Rig, guild_id: int, user_id: int, label: str) -> None:
    await rig.goals.add(guild_id, user_id, f"{label}: finish module 3", 2.5)
    done = await rig.goals.add(guild_id, user_id, f"{label}: quiz", None)
    await rig.goals.mark_done(guild_id, user_id, done.id)
    await rig.checkins.record(guild_id, user_id, hours=1.5, done=f"{label} 📚 notes", mood=4)
    await rig.preferences.set_timezone(guild_id, user_id, "Asia/Kolkata")
    await rig.preferences.set_reminders(guild_id, user_id, True)


async def add_nudges(rig: Rig, schedule_id: int, *user_ids: int, guild_id: int = GUILD) -> None:
    """A sent check-in prompt whose DM nudges to these members are still to go out."""
    now = rig.clock.now()
    async with rig.database.engine.begin() as conn:
        occurrence = (
            await conn.execute(
                insert(schedule_occurrences)
                .values(schedule_id=schedule_id, fire_at=now, state="sent", created_at=now)
                .returning(schedule_occurrences.c.id)
            )
        ).scalar_one()
        for user_id in user_ids:
            await conn.execute(
                insert(schedule_nudges).values(
                    occurrence_id=occurrence,
                    user_id=user_id,
                    guild_id=guild_id,
                    due_at=now + timedelta(hours=2),
                )
            )


async def rows_about(database: Database, guild_id: int, user_id: int) -> dict[str, int]:
    """Rows of every table with guild and user columns that belong to the member."""
    found = {}
    async with database.engine.connect() as conn:
        for table in metadata.sorted_tables:
            if {"guild_id", "user_id"} <= set(table.c.keys()):
                count = await conn.scalar(
                    select(func.count())
                    .select_from(table)
                    .where(table.c.guild_id == guild_id, table.c.user_id == user_id)
                )
                if count:
                    found[table.name] = int(count)
    return found


async def rows_of_guild(database: Database, guild_id: int) -> dict[str, int]:
    found = {}
    async with database.engine.connect() as conn:
        for table in metadata.sorted_tables:
            if "guild_id" in table.c:
                count = await conn.scalar(
                    select(func.count()).select_from(table).where(table.c.guild_id == guild_id)
                )
                if count:
                    found[table.name] = int(count)
    return found


# ----------------------------------------------------------------------------- /me data


async def test_export_holds_everything_about_the_member_in_this_guild_only(rig: Rig) -> None:
    await member_activity(rig, GUILD, SAM, "Sam")
    await member_activity(rig, GUILD, ADA, "Ada")
    await member_activity(rig, OTHER_GUILD, SAM, "Elsewhere")
    schedule = await rig.schedules.add(GUILD, "reminder", "daily 13:00", CHANNEL, "Hi", SAM)
    await add_nudges(rig, schedule.schedule.id, SAM)

    data = json.loads(await rig.member_data.export_json(GUILD, SAM))

    assert (data["format"], data["version"]) == ("cohort-member-data", 1)
    assert (data["guild_id"], data["user_id"]) == (str(GUILD), str(SAM))
    assert data["exported_at"] == rig.clock.now().isoformat()
    assert data["preferences"]["timezone"] == "Asia/Kolkata"
    assert data["preferences"]["reminders_enabled"] is True
    assert [g["text"] for g in data["goals"]] == ["Sam: finish module 3", "Sam: quiz"]
    assert data["goals"][0]["planned_hours"] == 2.5 and data["goals"][0]["done_at"] is None
    assert data["goals"][1]["done_at"] == rig.clock.now().isoformat()
    (checkin,) = data["check_ins"]
    assert (checkin["hours"], checkin["done"], checkin["mood"]) == (1.5, "Sam 📚 notes", 4)
    assert checkin["day"] == "2026-11-18"  # Sam's own day (Asia/Kolkata)
    assert [n["state"] for n in data["reminders"]["nudges"]] == ["scheduled"]
    assert data["schedules_created"][0]["id"] == schedule.schedule.id
    assert data["membership"] == {"left_at": None}
    assert data["submissions"] == [{"link": "https://example.com/x"}]
    assert rig.feature.exported == [(GUILD, SAM)]
    text = json.dumps(data)
    assert "Ada" not in text and "Elsewhere" not in text


async def test_export_of_a_member_with_nothing_stored(rig: Rig) -> None:
    data = await rig.member_data.export(GUILD, MIA)
    assert data["preferences"] is None
    assert data["goals"] == [] and data["check_ins"] == [] and data["schedules_created"] == []


# ----------------------------------------------------------------------------- /me forget


async def test_forget_removes_every_row_about_the_member_and_nothing_else(rig: Rig) -> None:
    await member_activity(rig, GUILD, SAM, "Sam")
    await member_activity(rig, GUILD, ADA, "Ada")
    await member_activity(rig, OTHER_GUILD, SAM, "Elsewhere")
    schedule = await rig.schedules.add(GUILD, "reminder", "daily 13:00", CHANNEL, "Hi", SAM)
    await add_nudges(rig, schedule.schedule.id, SAM)
    await rig.lifecycle.member_left(GUILD, SAM)
    assert set(await rows_about(rig.database, GUILD, SAM)) == {
        "goals", "checkins", "member_preferences", "schedule_nudges", "member_departures",
    }  # fmt: skip
    ada_before = await rows_about(rig.database, GUILD, ADA)
    elsewhere_before = await rows_about(rig.database, OTHER_GUILD, SAM)

    report = await rig.member_data.forget(GUILD, SAM)

    assert await rows_about(rig.database, GUILD, SAM) == {}
    assert await rows_about(rig.database, GUILD, ADA) == ada_before
    assert await rows_about(rig.database, OTHER_GUILD, SAM) == elsewhere_before
    counts = {item.what: (item.count, item.action) for item in report.items}
    assert counts["goals"] == (2, "deleted") and counts["check-ins"] == (1, "deleted")
    assert counts["preference settings"] == (1, "deleted")
    assert counts["DM reminder records"] == (1, "deleted")
    assert counts["schedules you created (they keep running)"] == (1, "anonymised")
    assert counts["reviews you owed"] == (1, "reassigned")
    assert rig.feature.forgotten == [(GUILD, SAM)]
    kept = await rig.schedules.get(GUILD, schedule.schedule.id)
    assert kept.created_by == FORMER_MEMBER and kept.active
    data = await rig.member_data.export(GUILD, SAM)
    assert data["goals"] == [] and data["check_ins"] == [] and data["preferences"] is None


async def test_forgetting_twice_at_once_runs_one_after_the_other(rig: Rig) -> None:
    await member_activity(rig, GUILD, SAM, "Sam")
    first, second = await asyncio.gather(
        rig.member_data.forget(GUILD, SAM), rig.member_data.forget(GUILD, SAM)
    )
    # 2 goals, a check-in, preferences and the feature's submission, then only the (fake)
    # feature's submission again: nothing was counted twice.
    assert sorted([first.total("deleted"), second.total("deleted")]) == [1, 5]


async def columns_holding(database: Database, user_id: int) -> dict[str, int]:
    """Every integer column of every table, and how many rows there hold `user_id`."""
    found = {}
    async with database.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for column in table.c:
                if isinstance(column.type, BigInteger):
                    count = await conn.scalar(
                        select(func.count()).select_from(table).where(column == user_id)
                    )
                    if count:
                        found[f"{table.name}.{column.name}"] = int(count)
    return found


async def test_forget_with_every_feature_wired_leaves_no_trace_of_the_member(
    database: Database, clock: FrozenClock
) -> None:
    services = build_services(database, clock)
    await services.goals.add(GUILD, SAM, "Read", None)
    await services.checkins.record(GUILD, SAM, hours=1.0)
    await services.member_preferences.set_reminders(GUILD, SAM, True)
    await services.faq.ask(GUILD, SAM, "Can I pay for the course with PayPal?", None)
    for user in (SAM, ADA, MIA, LEO):
        await services.reviews.submit(GUILD, user, f"https://example.com/{user}")
    await services.reviews.pair(GUILD, by=MIA)
    owed = (await services.reviews.status(GUILD, SAM)).owed
    assert len(owed) == 2
    given = await services.reviews.done(GUILD, SAM, owed[0].submission.id, "Nice work 👍")
    still_owed = owed[1]
    assert set(await columns_holding(database, SAM)) >= {
        "goals.user_id", "checkins.user_id", "member_preferences.user_id",
        "review_submissions.user_id", "review_assignments.reviewer_id",
    }  # fmt: skip

    report = await services.member_data.forget(GUILD, SAM)

    assert await columns_holding(database, SAM) == {}
    reviews_of_author = await services.reviews.status(GUILD, given.review.author_id)
    kept = [r for r in reviews_of_author.reviews if r.feedback == "Nice work 👍"]
    assert [r.reviewer_id for r in kept] == [FORMER_MEMBER]
    counts = {(item.what, item.action): item.count for item in report.items}
    assert counts[("reviews you gave (their authors keep them)", ANONYMISED)] == 1
    assert counts[("peer-review submissions", "deleted")] == 1
    assert counts[("reviews of your submissions", "deleted")] == 2
    moved = counts[("reviews you owed", REASSIGNED)]
    dropped = counts[("reviews you owed that nobody could take over", "deleted")]
    assert moved + dropped == 1
    reviewers = {
        r.reviewer_id for r in (await services.reviews.status(GUILD, still_owed.author_id)).reviews
    }
    assert SAM not in reviewers and len(reviewers) == 1 + moved
    data = await services.member_data.export(GUILD, SAM)
    assert data["review_submissions"] == [] and data["reviews_given"] == []


# ----------------------------------------------------------------------------- guild lifecycle


async def test_removed_guild_stops_at_once_and_is_purged_30_days_later(rig: Rig) -> None:
    await member_activity(rig, GUILD, SAM, "Sam")
    await member_activity(rig, OTHER_GUILD, SAM, "Elsewhere")
    running = await rig.schedules.add(GUILD, "reminder", "daily 13:00", CHANNEL, "Hi", MIA)
    paused = await rig.schedules.add(GUILD, "reminder", "daily 15:00", CHANNEL, "Hey", MIA)
    await rig.schedules.pause(GUILD, paused.schedule.id)
    await add_nudges(rig, running.schedule.id, SAM)
    other = await rig.schedules.add(OTHER_GUILD, "reminder", "daily 13:00", 7, "Hi", MIA)
    left_at = rig.clock.now()

    removal = await rig.lifecycle.guild_removed(GUILD)

    assert (removal.left_at, removal.purge_after) == (left_at, left_at + timedelta(days=30))
    assert (removal.schedules_stopped, removal.nudges_skipped) == (1, 1)
    infos = {i.schedule.id: i for i in await rig.schedules.for_guild(GUILD)}
    assert infos[running.schedule.id].schedule.disabled_reason == GUILD_LEFT_REASON
    assert infos[running.schedule.id].next_fire is None
    assert infos[paused.schedule.id].schedule.paused
    assert infos[paused.schedule.id].schedule.disabled_reason is None
    before = await rows_of_guild(rig.database, GUILD)

    rig.clock.advance(timedelta(days=30) - timedelta(minutes=1))
    assert await rig.lifecycle.purge_due() == []
    assert await rows_of_guild(rig.database, GUILD) == before

    rig.clock.advance(timedelta(minutes=1))
    assert await rig.lifecycle.purge_due() == [GUILD]
    assert await rows_of_guild(rig.database, GUILD) == {}
    assert rig.feature.purged == [GUILD]
    assert await rows_about(rig.database, OTHER_GUILD, SAM)
    assert (await rig.schedules.get(OTHER_GUILD, other.schedule.id)).active
    assert await rig.lifecycle.purge_due() == []


async def test_nothing_is_lost_when_the_bot_returns_within_30_days(rig: Rig) -> None:
    await member_activity(rig, GUILD, SAM, "Sam")
    running = await rig.schedules.add(GUILD, "reminder", "daily 13:00", CHANNEL, "Hi", MIA)
    paused = await rig.schedules.add(GUILD, "reminder", "daily 15:00", CHANNEL, "Hey", MIA)
    await rig.schedules.pause(GUILD, paused.schedule.id)
    await rig.lifecycle.guild_removed(GUILD)
    before = await rows_about(rig.database, GUILD, SAM)

    rig.clock.advance(timedelta(days=29))
    assert await rig.lifecycle.guild_joined(GUILD) == 1
    rig.clock.advance(timedelta(days=5))
    assert await rig.lifecycle.purge_due() == []

    assert await rows_about(rig.database, GUILD, SAM) == before
    assert await rig.lifecycle.departed_guilds() == {}
    infos = {i.schedule.id: i for i in await rig.schedules.for_guild(GUILD)}
    assert infos[running.schedule.id].schedule.active
    assert infos[running.schedule.id].next_fire is not None
    assert infos[paused.schedule.id].schedule.paused  # stays as the moderators left it
    assert rig.feature.purged == []


async def test_reconcile_catches_removals_and_returns_missed_while_offline(rig: Rig) -> None:
    await member_activity(rig, GUILD, SAM, "Sam")
    await member_activity(rig, OTHER_GUILD, SAM, "Elsewhere")
    await rig.lifecycle.guild_removed(OTHER_GUILD)

    result = await rig.lifecycle.reconcile([OTHER_GUILD, 42])

    assert (result.left, result.returned) == ((GUILD,), (OTHER_GUILD,))
    assert set(await rig.lifecycle.departed_guilds()) == {GUILD}
    again = await rig.lifecycle.reconcile([OTHER_GUILD, 42])
    assert (again.left, again.returned) == ((), ())


async def test_the_daily_job_catches_up_before_it_purges(rig: Rig) -> None:
    await member_activity(rig, GUILD, SAM, "Sam")
    await member_activity(rig, OTHER_GUILD, SAM, "Elsewhere")
    await rig.lifecycle.guild_removed(GUILD)
    await rig.lifecycle.guild_removed(OTHER_GUILD)
    rig.clock.advance(timedelta(days=31))
    # The bot was added back to GUILD while it was offline: it must not be purged.
    assert await DailyPurge(rig.lifecycle).run_once([GUILD]) == [OTHER_GUILD]
    assert await rows_about(rig.database, GUILD, SAM)
    assert await rows_of_guild(rig.database, OTHER_GUILD) == {}


async def test_the_daily_job_runs_as_a_background_worker(rig: Rig) -> None:
    await member_activity(rig, GUILD, SAM, "Sam")
    await rig.lifecycle.guild_removed(GUILD)
    rig.clock.advance(timedelta(days=30))
    worker = DailyPurge(rig.lifecycle, every_seconds=3600)
    await worker.start()
    try:
        for _ in range(500):
            if worker.passes:
                break
            await asyncio.sleep(0.01)
    finally:
        await worker.stop()
    assert worker.passes == 1
    assert await rows_of_guild(rig.database, GUILD) == {}


# ----------------------------------------------------------------------------- members leaving


async def test_a_member_who_leaves_keeps_their_data_but_gets_no_nudges(rig: Rig) -> None:
    await member_activity(rig, GUILD, SAM, "Sam")
    await member_activity(rig, GUILD, ADA, "Ada")
    schedule = await rig.schedules.add(GUILD, "reminder", "daily 13:00", CHANNEL, "Hi", MIA)
    await add_nudges(rig, schedule.schedule.id, SAM, ADA)
    heard: list[tuple[int, int]] = []

    async def hook(guild_id: int, user_id: int) -> None:
        heard.append((guild_id, user_id))

    rig.lifecycle.on_member_departure(hook)
    before = await rows_about(rig.database, GUILD, SAM)

    await rig.lifecycle.member_left(GUILD, SAM)

    nudges = NudgeRepository(rig.database.engine)
    targets = await nudges.targets(GUILD, rig.clock.now(), timedelta(days=30))
    assert [t.user_id for t in targets] == [ADA]
    due = await nudges.due(rig.clock.now() + timedelta(days=1), 10)
    assert [n.user_id for n in due] == [ADA]  # Sam's pending nudge was skipped
    assert heard == [(GUILD, SAM)]
    after = await rows_about(rig.database, GUILD, SAM)
    assert after == before | {"member_departures": 1}
    assert (await rig.member_data.export(GUILD, SAM))["membership"]["left_at"] is not None

    assert await rig.lifecycle.member_returned(GUILD, SAM)
    targets = await nudges.targets(GUILD, rig.clock.now(), timedelta(days=30))
    assert [t.user_id for t in targets] == [SAM, ADA]


async def test_a_failing_departure_hook_does_not_stop_the_others(rig: Rig) -> None:
    heard: list[int] = []

    async def broken(_guild_id: int, _user_id: int) -> None:
        raise RuntimeError("boom")

    async def working(_guild_id: int, user_id: int) -> None:
        heard.append(user_id)

    rig.lifecycle.on_member_departure(broken)
    rig.lifecycle.on_member_departure(working)
    await rig.lifecycle.member_left(GUILD, SAM)
    assert heard == [SAM]


async def test_a_process_catches_up_and_purges_only_the_guilds_of_its_shards(rig: Rig) -> None:
    mine = Shards(2, (shard_of(GUILD, 2),))
    elsewhere = GUILD + (1 << 22)  # the next shard of two: another process's guild
    assert not mine.owns(elsewhere)
    await member_activity(rig, GUILD, SAM, "Sam")
    await member_activity(rig, elsewhere, SAM, "Elsewhere")
    # This process sees only its own shard's guilds: the other one is absent, not gone.
    assert await DailyPurge(rig.lifecycle, shards=mine).run_once([GUILD]) == []
    assert await rig.lifecycle.departed_guilds() == {}
    await rig.lifecycle.guild_removed(elsewhere)
    rig.clock.advance(timedelta(days=31))
    assert await DailyPurge(rig.lifecycle, shards=mine).run_once([GUILD]) == []
    assert await rows_about(rig.database, elsewhere, SAM)
    other = Shards(2, (shard_of(elsewhere, 2),))
    assert await DailyPurge(rig.lifecycle, shards=other).run_once([]) == [elsewhere]
