from __future__ import annotations

import pytest

from bot.clock import FrozenClock
from bot.errors import InvalidInput
from bot.services.guild_settings import GuildSettingsService
from bot.services.member_preferences import MemberPreferencesService
from db.engine import Database
from db.repositories.guild_settings import GuildSettings, GuildSettingsRepository
from db.repositories.member_preferences import MemberPreferencesRepository

GUILD = 1_100_000_000_000_000_001
USER = 1_200_000_000_000_000_002


@pytest.fixture
def guilds(database: Database, clock: FrozenClock) -> GuildSettingsService:
    return GuildSettingsService(GuildSettingsRepository(database.engine), clock)


@pytest.fixture
def members(database: Database, clock: FrozenClock) -> MemberPreferencesService:
    return MemberPreferencesService(MemberPreferencesRepository(database.engine), clock)


async def test_timezone_is_stored_under_its_canonical_name(guilds: GuildSettingsService) -> None:
    assert (await guilds.set_timezone(GUILD, "europe/berlin")).timezone == "Europe/Berlin"


@pytest.mark.parametrize("name", ["", "Mars/Olympus", "../../etc/passwd", "x" * 65, "'; DROP"])
async def test_invalid_timezone_changes_nothing(guilds: GuildSettingsService, name: str) -> None:
    with pytest.raises(InvalidInput):
        await guilds.set_timezone(GUILD, name)
    assert (await guilds.get(GUILD)).timezone == "UTC"


@pytest.mark.parametrize("day", [-1, 7])
async def test_week_start_out_of_range_is_refused(guilds: GuildSettingsService, day: int) -> None:
    with pytest.raises(InvalidInput):
        await guilds.set_week_start(GUILD, day)


@pytest.mark.parametrize("count", [0, 4])
async def test_reviewers_out_of_range_are_refused(guilds: GuildSettingsService, count: int) -> None:
    with pytest.raises(InvalidInput):
        await guilds.set_reviewers(GUILD, count)


async def test_unknown_channel_purpose_is_refused(guilds: GuildSettingsService) -> None:
    with pytest.raises(InvalidInput, match="announcements"):
        await guilds.set_channel(GUILD, "memes", 5)


async def test_everyone_role_cannot_be_the_moderator_role(guilds: GuildSettingsService) -> None:
    with pytest.raises(InvalidInput):
        await guilds.set_moderator_role(GUILD, GUILD)


async def test_listeners_hear_before_and_after(guilds: GuildSettingsService) -> None:
    heard: list[tuple[GuildSettings, GuildSettings]] = []

    async def listener(before: GuildSettings, after: GuildSettings) -> None:
        heard.append((before, after))

    guilds.subscribe(listener)
    await guilds.set_channel(GUILD, "announcements", 77)
    [(before, after)] = heard
    assert before.announcements_channel_id is None and after.announcements_channel_id == 77


async def test_member_timezone_and_reset(members: MemberPreferencesService) -> None:
    assert (await members.set_timezone(GUILD, USER, "asia/kolkata")).timezone == "Asia/Kolkata"
    assert (await members.set_timezone(GUILD, USER, "Reset")).timezone is None


async def test_member_reminders_toggle(members: MemberPreferencesService) -> None:
    assert (await members.set_reminders(GUILD, USER, True)).reminders_enabled
    assert not (await members.set_reminders(GUILD, USER, False)).reminders_enabled
