"""Use-cases for a member's own preferences."""

from __future__ import annotations

from bot.clock import Clock
from bot.domain.weeks import parse_timezone
from db.repositories.member_preferences import MemberPreferences, MemberPreferencesRepository

# Words that clear a personal timezone so the guild's applies again.
RESET_WORDS = frozenset({"reset", "none", "guild", "server", "default"})


class MemberPreferencesService:
    def __init__(self, repository: MemberPreferencesRepository, clock: Clock) -> None:
        self._repository = repository
        self._clock = clock

    async def get(self, guild_id: int, user_id: int) -> MemberPreferences:
        return await self._repository.get(guild_id, user_id)

    async def set_timezone(self, guild_id: int, user_id: int, name: str) -> MemberPreferences:
        """Set the member's own timezone; a reset word goes back to the guild's."""
        if name.strip().lower() in RESET_WORDS:
            return await self._repository.set_timezone(guild_id, user_id, None, self._clock.now())
        zone = parse_timezone(name)
        return await self._repository.set_timezone(guild_id, user_id, zone.key, self._clock.now())

    async def set_reminders(self, guild_id: int, user_id: int, enabled: bool) -> MemberPreferences:
        return await self._repository.set_reminders(guild_id, user_id, enabled, self._clock.now())
