"""Use-cases for a guild's configuration."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.clock import Clock
from bot.domain.weeks import parse_timezone
from bot.errors import InvalidInput
from db.repositories.guild_settings import CHANNEL_PURPOSES, GuildSettings, GuildSettingsRepository

# Called with (before, after) whenever a guild's settings change, so other features
# (schedules) can follow a new timezone, week start or channel.
SettingsListener = Callable[[GuildSettings, GuildSettings], Awaitable[None]]


class GuildSettingsService:
    def __init__(self, repository: GuildSettingsRepository, clock: Clock) -> None:
        self._repository = repository
        self._clock = clock
        self._listeners: list[SettingsListener] = []

    def subscribe(self, listener: SettingsListener) -> None:
        self._listeners.append(listener)

    async def get(self, guild_id: int) -> GuildSettings:
        return await self._repository.get(guild_id)

    async def set_timezone(self, guild_id: int, name: str) -> GuildSettings:
        zone = parse_timezone(name)
        return await self._change(guild_id, timezone=zone.key)

    async def set_week_start(self, guild_id: int, day: int) -> GuildSettings:
        if not 0 <= day <= 6:
            raise InvalidInput("The week can start on any day from Monday to Sunday.")
        return await self._change(guild_id, week_start=day)

    async def set_channel(self, guild_id: int, purpose: str, channel_id: int) -> GuildSettings:
        if purpose not in CHANNEL_PURPOSES:
            raise InvalidInput(f"Channel purpose must be one of: {', '.join(CHANNEL_PURPOSES)}.")
        return await self._change(guild_id, **{f"{purpose}_channel_id": channel_id})

    async def set_moderator_role(self, guild_id: int, role_id: int) -> GuildSettings:
        if role_id == guild_id:
            raise InvalidInput(
                "@everyone can't be the moderator role — pick a role moderators have."
            )
        return await self._change(guild_id, moderator_role_id=role_id)

    async def set_reviewers(self, guild_id: int, count: int) -> GuildSettings:
        if not 1 <= count <= 3:
            raise InvalidInput("Each submission can have 1 to 3 reviewers.")
        return await self._change(guild_id, reviewers_per_submission=count)

    async def _change(self, guild_id: int, **changes: object) -> GuildSettings:
        before = await self._repository.get(guild_id)
        after = await self._repository.update(guild_id, self._clock.now(), **changes)
        for listener in self._listeners:
            await listener(before, after)
        return after
