"""Courses, plans, finished modules, plan weeks and away periods on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.domain.courses import CourseSpec, ModuleSpec
from db.engine import Database
from db.repositories.checkins import CheckInsRepository
from db.repositories.plans import Plan, PlansRepository

NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
GUILD = 1_100_000_000_000_000_001
OTHER_GUILD = 1_100_000_000_000_000_009
USER = 1_200_000_000_000_000_002
OTHER = 1_200_000_000_000_000_003
COURSE = CourseSpec(
    "demo",
    "Demo course",
    "made up",
    (ModuleSpec("One", 10), ModuleSpec("Two", 20, "https://example.org/2"), ModuleSpec("Three", 5)),
)


@pytest.fixture
def repo(database: Database) -> PlansRepository:
    return PlansRepository(database.engine)


async def _plan(repo: PlansRepository, user_id: int = USER, guild_id: int = GUILD) -> Plan:
    course = await repo.course_by_key(guild_id, "demo")
    assert course is not None
    plan = Plan(guild_id, user_id, course.id, NOW, NOW.date(), date(2027, 6, 30), None)
    await repo.save_plan(plan, NOW)
    return plan


async def test_import_creates_a_course_with_ordered_modules(repo: PlansRepository) -> None:
    imported = await repo.import_course(GUILD, COURSE, NOW)
    assert imported.created and imported.added == 3 and imported.removed == ()
    modules = (await repo.modules([imported.course.id]))[imported.course.id]
    assert [(m.position, m.title, m.hours, m.url) for m in modules] == [
        (1, "One", 10.0, None),
        (2, "Two", 20.0, "https://example.org/2"),
        (3, "Three", 5.0, None),
    ]
    assert await repo.course_by_key(OTHER_GUILD, "demo") is None
    assert [c.key for c in await repo.courses(GUILD)] == ["demo"]


async def test_reimport_keeps_finished_modules_matched_by_title(repo: PlansRepository) -> None:
    first = await repo.import_course(GUILD, COURSE, NOW)
    await _plan(repo)
    modules = (await repo.modules([first.course.id]))[first.course.id]
    await repo.finish(GUILD, USER, modules[1].id, NOW)
    await repo.finish(GUILD, USER, modules[2].id, NOW)
    changed = CourseSpec(
        "demo",
        "Demo course v2",
        None,
        (ModuleSpec("two", 25), ModuleSpec("One", 10), ModuleSpec("Four", 3)),
    )
    again = await repo.import_course(GUILD, changed, NOW + timedelta(days=1))
    assert not again.created and again.course.id == first.course.id
    assert (again.added, again.updated) == (1, 2)
    assert [(r.title, r.finished_by) for r in again.removed] == [("Three", 1)]
    modules = (await repo.modules([first.course.id]))[first.course.id]
    assert [(m.title, m.hours) for m in modules] == [("two", 25.0), ("One", 10.0), ("Four", 3.0)]
    assert [f.module_id for f in await repo.finished(GUILD, USER)] == [modules[0].id]
    assert (await repo.course(GUILD, first.course.id)).title == "Demo course v2"  # type: ignore[union-attr]


async def test_plans_are_one_per_member_and_restarting_keeps_finished_modules(
    repo: PlansRepository,
) -> None:
    imported = await repo.import_course(GUILD, COURSE, NOW)
    plan = await _plan(repo)
    module = (await repo.modules([imported.course.id]))[imported.course.id][0]
    assert await repo.finish(GUILD, USER, module.id, NOW)
    assert not await repo.finish(GUILD, USER, module.id, NOW)
    restarted = Plan(GUILD, USER, plan.course_id, NOW, NOW.date(), date(2027, 1, 1), 6.0)
    await repo.save_plan(restarted, NOW)
    assert await repo.plan_of(GUILD, USER) == restarted
    assert await repo.plan_of(OTHER_GUILD, USER) is None
    assert [f.module_id for f in await repo.finished(GUILD, USER)] == [module.id]
    assert await repo.unfinish(GUILD, USER, module.id)
    assert not await repo.unfinish(GUILD, USER, module.id)
    group = await repo.group_plans(GUILD)
    assert [(g.plan.user_id, g.done_ids) for g in group] == [(USER, frozenset())]


async def test_a_plan_week_is_claimed_once_even_when_presses_race(repo: PlansRepository) -> None:
    week = date(2026, 11, 16)
    results = await asyncio.gather(
        *(repo.claim_plan_week(GUILD, USER, week, NOW) for _ in range(5))
    )
    assert sorted(results) == [False] * 4 + [True]
    assert await repo.claim_plan_week(GUILD, USER, week + timedelta(days=7), NOW)
    await repo.release_plan_week(GUILD, USER, week)
    assert await repo.claim_plan_week(GUILD, USER, week, NOW)


async def test_away_periods_start_end_and_come_back_early(repo: PlansRepository) -> None:
    await repo.go_away(GUILD, USER, NOW, NOW + timedelta(weeks=3))
    assert await repo.away_now(GUILD, [USER, OTHER], NOW + timedelta(days=1)) == {USER}
    assert await repo.away_now(GUILD, [USER], NOW + timedelta(weeks=3)) == set()
    assert await repo.away_now(OTHER_GUILD, [USER], NOW + timedelta(days=1)) == set()
    # Going away again while away replaces the running period.
    later = NOW + timedelta(days=2)
    await repo.go_away(GUILD, USER, later, later + timedelta(weeks=1))
    periods = (await repo.away_periods(GUILD))[USER]
    assert [(p.starts_at, p.ends_at) for p in periods] == [
        (NOW, later),
        (later, later + timedelta(weeks=1)),
    ]
    back = later + timedelta(days=1)
    assert await repo.come_back(GUILD, USER, back)
    assert not await repo.come_back(GUILD, USER, back + timedelta(days=1))
    assert (await repo.away_periods(GUILD, [USER]))[USER][-1].ends_at == back


async def test_hours_per_week_sum_check_ins_per_member_and_week(
    repo: PlansRepository, database: Database
) -> None:
    checkins = CheckInsRepository(database.engine)
    week = date(2026, 11, 16)
    last = week - timedelta(days=7)
    await checkins.record(GUILD, USER, date(2026, 11, 16), week, NOW, hours=2.0)
    await checkins.record(GUILD, USER, date(2026, 11, 17), week, NOW, hours=1.5)
    # Filed under a Sunday week start before the guild changed it: counts in the week holding it.
    await checkins.record(GUILD, USER, date(2026, 11, 15), date(2026, 11, 15), NOW, hours=4.0)
    await checkins.record(GUILD, OTHER, date(2026, 11, 17), week, NOW, hours=None)
    weeks = [(week, week + timedelta(days=6)), (last, last + timedelta(days=6))]
    assert await repo.hours_per_week(GUILD, weeks, None) == {
        USER: {week: 3.5, last: 4.0},
        OTHER: {},
    }
    assert await repo.hours_per_week(GUILD, weeks, [OTHER]) == {OTHER: {}}
    assert await repo.hours_per_week(GUILD, weeks, []) == {}
    assert await repo.hours_per_week(OTHER_GUILD, weeks, None) == {}


async def test_forgetting_and_purging(repo: PlansRepository) -> None:
    imported = await repo.import_course(GUILD, COURSE, NOW)
    await _plan(repo)
    await _plan(repo, OTHER)
    module = (await repo.modules([imported.course.id]))[imported.course.id][0]
    await repo.finish(GUILD, USER, module.id, NOW)
    await repo.go_away(GUILD, USER, NOW, NOW + timedelta(weeks=1))
    await repo.claim_plan_week(GUILD, USER, date(2026, 11, 16), NOW)
    data = await repo.for_member(GUILD, USER)
    assert data["finished"] == [("One", NOW)] and len(data["away"]) == 1
    counts = await repo.delete_member(GUILD, USER)
    assert counts == {"plans": 1, "finished modules": 1, "plan weeks": 1, "away periods": 1}
    assert await repo.plan_of(GUILD, USER) is None
    assert await repo.plan_of(GUILD, OTHER) is not None
    assert await repo.delete_guild(GUILD) == 2  # the other plan and the course
    assert await repo.courses(GUILD) == []
