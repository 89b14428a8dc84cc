"""Goals through the service: weeks from guild settings, limits, carry-over, ownership."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, date, datetime

import pytest

from bot.clock import FrozenClock
from bot.errors import InvalidInput, LimitReached, NotFound
from bot.services.goals import GoalsService
from db.engine import Database
from db.repositories.goals import GoalsRepository
from db.repositories.guild_settings import GuildSettingsRepository

GUILD = 1_100_000_000_000_000_001
OTHER_GUILD = 1_100_000_000_000_000_009
USER = 1_200_000_000_000_000_002
OTHER = 1_200_000_000_000_000_003
# The clock fixture stands at Wednesday 18 Nov 2026 12:00 UTC.
THIS_MONDAY = date(2026, 11, 16)
LAST_MONDAY = date(2026, 11, 9)


@pytest.fixture
def service(database: Database, clock: FrozenClock) -> GoalsService:
    return GoalsService(
        GoalsRepository(database.engine), GuildSettingsRepository(database.engine), clock
    )


@pytest.fixture
def settings(database: Database) -> GuildSettingsRepository:
    return GuildSettingsRepository(database.engine)


async def add_last_week(service: GoalsService, clock: FrozenClock, *texts: str) -> list[int]:
    now = clock.now()
    clock.set(datetime(2026, 11, 11, 12, tzinfo=UTC))
    ids = [(await service.add(GUILD, USER, text, None)).id for text in texts]
    clock.set(now)
    return ids


# ---------------------------------------------------------------------------- adding


async def test_goal_is_filed_under_the_current_study_week(service: GoalsService) -> None:
    goal = await service.add(GUILD, USER, "Finish module 2", 3)
    assert goal.week_key == THIS_MONDAY and goal.hours == 3.0


async def test_study_week_follows_the_guild_timezone_and_week_start(
    service: GoalsService, settings: GuildSettingsRepository, clock: FrozenClock
) -> None:
    # Sunday 22 Nov 20:00 UTC is already Monday 23 Nov 09:00 in Auckland.
    clock.set(datetime(2026, 11, 22, 20, 0, tzinfo=UTC))
    await settings.update(GUILD, clock.now(), timezone="Pacific/Auckland")
    await settings.update(OTHER_GUILD, clock.now(), week_start=6)
    assert (await service.add(GUILD, USER, "kiwi", None)).week_key == date(2026, 11, 23)
    assert (await service.add(OTHER_GUILD, USER, "sunday", None)).week_key == date(2026, 11, 22)


async def test_eleventh_goal_of_a_week_is_refused(service: GoalsService) -> None:
    for i in range(10):
        await service.add(GUILD, USER, f"goal {i}", None)
    with pytest.raises(LimitReached):
        await service.add(GUILD, USER, "one too many", None)
    assert len((await service.week_goals(GUILD, USER)).goals) == 10


async def test_concurrent_additions_stop_at_ten(service: GoalsService) -> None:
    results = await asyncio.gather(
        *(service.add(GUILD, USER, f"goal {i}", None) for i in range(13)),
        return_exceptions=True,
    )
    assert sum(isinstance(r, LimitReached) for r in results) == 3
    assert len((await service.week_goals(GUILD, USER)).goals) == 10


async def test_goal_text_is_trimmed_to_one_line(service: GoalsService) -> None:
    goal = await service.add(GUILD, USER, "  Read\n chapter   4  ", None)
    assert goal.text == "Read chapter 4"


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "x" * 201, " " + "y" * 201 + " "])
async def test_goal_text_outside_1_to_200_is_refused(service: GoalsService, text: str) -> None:
    with pytest.raises(InvalidInput):
        await service.add(GUILD, USER, text, None)
    assert (await service.week_goals(GUILD, USER)).goals == ()


async def test_two_hundred_characters_after_trimming_are_fine(service: GoalsService) -> None:
    assert len((await service.add(GUILD, USER, "  " + "z" * 200 + "  ", None)).text) == 200


@pytest.mark.parametrize("hours", [0.0, 0.49, 80.01, -1.0, math.nan, math.inf])
async def test_planned_hours_outside_the_range_are_refused(
    service: GoalsService, hours: float
) -> None:
    with pytest.raises(InvalidInput, match=r"0\.5 and 80"):
        await service.add(GUILD, USER, "study", hours)


@pytest.mark.parametrize("hours", [0.5, 80.0])
async def test_planned_hours_at_the_bounds_are_kept(service: GoalsService, hours: float) -> None:
    assert (await service.add(GUILD, USER, "study", hours)).hours == hours


@pytest.mark.parametrize(("typed", "expected"), [("", None), ("1,5", 1.5), (" 2h ", 2.0)])
async def test_form_hours_are_parsed(
    service: GoalsService, typed: str, expected: float | None
) -> None:
    assert (await service.add_from_form(GUILD, USER, "form goal", typed)).hours == expected


async def test_form_hours_that_are_not_a_number_are_refused(service: GoalsService) -> None:
    with pytest.raises(InvalidInput):
        await service.add_from_form(GUILD, USER, "form goal", "lots")


# ---------------------------------------------------------------------------- listing


async def test_listing_picks_this_last_or_next_week(
    service: GoalsService, clock: FrozenClock
) -> None:
    await add_last_week(service, clock, "old")
    await service.add(GUILD, USER, "new", None)
    this = await service.week_goals(GUILD, USER, "this")
    last = await service.week_goals(GUILD, USER, "last")
    upcoming = await service.week_goals(GUILD, USER, "next")
    assert [g.text for g in this.goals] == ["new"] and this.week.key == THIS_MONDAY
    assert [g.text for g in last.goals] == ["old"] and last.week.key == LAST_MONDAY
    assert upcoming.goals == () and upcoming.week.key == date(2026, 11, 23)


async def test_week_counts_done_and_planned_hours(service: GoalsService) -> None:
    a = await service.add(GUILD, USER, "a", 2)
    await service.add(GUILD, USER, "b", 1.5)
    await service.add(GUILD, USER, "c", None)
    done = await service.mark_done(GUILD, USER, a.id)
    assert (done.week.done, len(done.week.goals), done.week.hours_planned) == (1, 3, 3.5)


async def test_goals_of_other_guilds_are_invisible(service: GoalsService) -> None:
    await service.add(OTHER_GUILD, USER, "elsewhere", None)
    assert (await service.week_goals(GUILD, USER)).goals == ()


# ---------------------------------------------------------------------------- changing


async def test_done_twice_reports_already_done(service: GoalsService) -> None:
    goal = await service.add(GUILD, USER, "once", None)
    assert (await service.mark_done(GUILD, USER, goal.id)).newly_done is True
    assert (await service.mark_done(GUILD, USER, goal.id)).newly_done is False


async def test_edit_validates_and_changes_the_text(service: GoalsService) -> None:
    goal = await service.add(GUILD, USER, "draft", None)
    with pytest.raises(InvalidInput):
        await service.edit(GUILD, USER, goal.id, "   ")
    assert (await service.edit(GUILD, USER, goal.id, " final ")).text == "final"


async def test_remove_deletes_the_goal(service: GoalsService) -> None:
    goal = await service.add(GUILD, USER, "temporary", None)
    await service.remove(GUILD, USER, goal.id)
    assert (await service.week_goals(GUILD, USER)).goals == ()
    with pytest.raises(NotFound):
        await service.remove(GUILD, USER, goal.id)


@pytest.mark.parametrize(("guild_id", "user_id"), [(GUILD, OTHER), (OTHER_GUILD, USER)])
async def test_forged_ids_change_nothing(
    service: GoalsService, guild_id: int, user_id: int
) -> None:
    goal = await service.add(GUILD, USER, "mine", None)
    with pytest.raises(NotFound, match="no such goal of yours"):
        await service.mark_done(guild_id, user_id, goal.id)
    with pytest.raises(NotFound, match="no such goal of yours"):
        await service.edit(guild_id, user_id, goal.id, "hijacked")
    with pytest.raises(NotFound, match="no such goal of yours"):
        await service.remove(guild_id, user_id, goal.id)
    (unchanged,) = (await service.week_goals(GUILD, USER)).goals
    assert unchanged == goal


async def test_unknown_id_is_not_found(service: GoalsService) -> None:
    with pytest.raises(NotFound):
        await service.mark_done(GUILD, USER, 987654)


# ---------------------------------------------------------------------------- carry-over


async def test_carry_copies_last_weeks_unfinished_goals(
    service: GoalsService, clock: FrozenClock
) -> None:
    open_id, done_id = await add_last_week(service, clock, "unfinished", "finished")
    await service.mark_done(GUILD, USER, done_id)
    carried = await service.carry(GUILD, USER)
    assert [(g.text, g.carried_from, g.week_key) for g in carried.copied] == [
        ("unfinished", open_id, THIS_MONDAY)
    ]
    assert (carried.already, carried.skipped) == (0, 0)


async def test_carrying_twice_adds_nothing_the_second_time(
    service: GoalsService, clock: FrozenClock
) -> None:
    await add_last_week(service, clock, "a", "b")
    await service.carry(GUILD, USER)
    again = await service.carry(GUILD, USER)
    assert (again.copied, again.already) == ((), 2)
    assert [g.text for g in (await service.week_goals(GUILD, USER)).goals] == ["a", "b"]


async def test_concurrent_carries_do_not_duplicate(
    service: GoalsService, clock: FrozenClock
) -> None:
    await add_last_week(service, clock, "a", "b", "c")
    await asyncio.gather(*(service.carry(GUILD, USER) for _ in range(6)))
    assert sorted(g.text for g in (await service.week_goals(GUILD, USER)).goals) == [
        "a",
        "b",
        "c",
    ]


async def test_carry_stops_at_the_limit_and_counts_the_rest(
    service: GoalsService, clock: FrozenClock
) -> None:
    await add_last_week(service, clock, "a", "b", "c", "d")
    for i in range(8):
        await service.add(GUILD, USER, f"now {i}", None)
    carried = await service.carry(GUILD, USER)
    assert [g.text for g in carried.copied] == ["a", "b"] and carried.skipped == 2
    assert len((await service.week_goals(GUILD, USER)).goals) == 10


async def test_carry_only_touches_the_callers_goals(
    service: GoalsService, clock: FrozenClock
) -> None:
    await add_last_week(service, clock, "mine")
    carried = await service.carry(GUILD, OTHER)
    assert carried.copied == () and (await service.week_goals(GUILD, OTHER)).goals == ()


# ---------------------------------------------------------------------------- autocomplete


async def test_suggestions_are_own_goals_of_this_week_matching_the_text(
    service: GoalsService, clock: FrozenClock
) -> None:
    await add_last_week(service, clock, "Django old")
    await service.add(GUILD, USER, "Django models", None)
    await service.add(GUILD, USER, "SQL joins", None)
    await service.add(GUILD, OTHER, "Django views", None)
    found = await service.suggestions(GUILD, USER, "djan")
    assert [g.text for g in found] == ["Django models"]
    assert len(await service.suggestions(GUILD, USER, "")) == 2


async def test_done_suggestions_offer_open_goals_only(service: GoalsService) -> None:
    finished = await service.add(GUILD, USER, "finished", None)
    await service.add(GUILD, USER, "open", None)
    await service.mark_done(GUILD, USER, finished.id)
    assert [g.text for g in await service.suggestions(GUILD, USER, "", open_only=True)] == ["open"]
