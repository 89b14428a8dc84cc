"""Repository tests: the same bodies run on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError

from db.engine import Database
from db.repositories.bot_state import BotStateRepository
from db.repositories.guild_settings import GuildSettings, GuildSettingsRepository
from db.repositories.member_preferences import MemberPreferences, MemberPreferencesRepository

NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
GUILD = 1_100_000_000_000_000_001
USER = 1_200_000_000_000_000_002


async def test_unknown_guild_gets_defaults(database: Database) -> None:
    settings = await GuildSettingsRepository(database.engine).get(GUILD)
    assert settings == GuildSettings(guild_id=GUILD)
    assert settings.timezone == "UTC" and settings.week_start == 0
    assert settings.reviewers_per_submission == 2


async def test_update_creates_then_changes_only_given_fields(database: Database) -> None:
    repo = GuildSettingsRepository(database.engine)
    await repo.update(GUILD, NOW, timezone="Europe/Berlin")
    settings = await repo.update(GUILD, NOW, week_start=6, reviews_channel_id=42)
    assert settings.timezone == "Europe/Berlin"
    assert settings.week_start == 6
    assert settings.reviews_channel_id == 42
    assert settings.announcements_channel_id is None


async def test_guilds_are_independent(database: Database) -> None:
    repo = GuildSettingsRepository(database.engine)
    await repo.update(GUILD, NOW, timezone="Asia/Kolkata")
    assert (await repo.get(GUILD + 1)).timezone == "UTC"


async def test_unknown_field_is_refused(database: Database) -> None:
    with pytest.raises(ValueError, match="unknown"):
        await GuildSettingsRepository(database.engine).update(GUILD, NOW, colour="red")


async def test_database_enforces_reviewer_range(database: Database) -> None:
    with pytest.raises(IntegrityError):
        await GuildSettingsRepository(database.engine).update(
            GUILD, NOW, reviewers_per_submission=9
        )


async def test_checkins_and_faq_fall_back_to_announcements(database: Database) -> None:
    settings = await GuildSettingsRepository(database.engine).update(
        GUILD, NOW, announcements_channel_id=7, reviews_channel_id=None
    )
    assert settings.channel_for("checkins") == 7
    assert settings.channel_for("faq") == 7
    assert settings.channel_for("reviews") is None


async def test_member_preferences_default_then_update(database: Database) -> None:
    repo = MemberPreferencesRepository(database.engine)
    assert await repo.get(GUILD, USER) == MemberPreferences(GUILD, USER)
    await repo.set_timezone(GUILD, USER, "America/New_York", NOW)
    prefs = await repo.set_reminders(GUILD, USER, True, NOW)
    assert prefs == MemberPreferences(GUILD, USER, "America/New_York", True)
    assert (await repo.get(GUILD + 1, USER)).reminders_enabled is False


async def test_member_timezone_can_be_cleared(database: Database) -> None:
    repo = MemberPreferencesRepository(database.engine)
    await repo.set_timezone(GUILD, USER, "Asia/Tokyo", NOW)
    assert (await repo.set_timezone(GUILD, USER, None, NOW)).timezone is None


async def test_bot_state_round_trip(database: Database) -> None:
    repo = BotStateRepository(database.engine)
    assert await repo.get("k") is None
    await repo.set("k", "one", NOW)
    await repo.set("k", "two", NOW)
    assert await repo.get("k") == "two"


async def test_unicode_and_quotes_are_stored_verbatim(database: Database) -> None:
    repo = BotStateRepository(database.engine)
    value = "'); DROP TABLE guild_settings; -- 🎓 ünïcødé %s %(x)s"
    await repo.set("weird", value, NOW)
    assert await repo.get("weird") == value
    assert (await GuildSettingsRepository(database.engine).get(GUILD)).guild_id == GUILD
