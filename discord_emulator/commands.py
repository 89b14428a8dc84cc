"""Application commands the bot registered, global and per guild, as Discord stores them.

Bulk overwrite keeps a command's id when a command of the same name and type existed (like
Discord), so ids are stable across syncs; every sync call is counted in `sync_calls`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .world import World

Json = dict[str, Any]

# Application command option types.
SUB_COMMAND = 1
SUB_COMMAND_GROUP = 2
STRING = 3
INTEGER = 4
BOOLEAN = 5
USER = 6
CHANNEL = 7
ROLE = 8
MENTIONABLE = 9
NUMBER = 10
ATTACHMENT = 11

CHAT_INPUT = 1
USER_COMMAND = 2
MESSAGE_COMMAND = 3


@dataclass
class RegisteredCommand:
    id: int
    application_id: int
    guild_id: int | None
    data: Json
    version: int

    @property
    def name(self) -> str:
        return str(self.data["name"])

    @property
    def type(self) -> int:
        return int(self.data.get("type") or CHAT_INPUT)

    @property
    def options(self) -> list[Json]:
        return list(self.data.get("options") or [])

    @property
    def default_member_permissions(self) -> int | None:
        value = self.data.get("default_member_permissions")
        return None if value is None else int(value)

    @property
    def contexts(self) -> list[int] | None:
        value = self.data.get("contexts")
        if value is None:
            # dm_permission is the older spelling of "may run in the bot's DM".
            return [0, 1, 2] if self.data.get("dm_permission", True) else [0]
        return list(value)

    def to_json(self) -> Json:
        """The shape Discord returns: every field present, permissions as a string."""
        d = self.data
        perms = d.get("default_member_permissions")
        return {
            "id": str(self.id),
            "application_id": str(self.application_id),
            "version": str(self.version),
            "default_member_permissions": None if perms is None else str(perms),
            "type": self.type,
            "name": self.name,
            "name_localizations": d.get("name_localizations"),
            "description": d.get("description") or "",
            "description_localizations": d.get("description_localizations"),
            "dm_permission": d.get("dm_permission", True),
            "contexts": d.get("contexts"),
            "integration_types": d.get("integration_types") or [0],
            "options": copy.deepcopy(d.get("options") or []),
            "nsfw": bool(d.get("nsfw", False)),
            **({"guild_id": str(self.guild_id)} if self.guild_id else {}),
        }


@dataclass
class SyncCall:
    guild_id: int | None
    names: list[str]
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


class CommandRegistry:
    def __init__(self, world: World) -> None:
        self._world = world
        self._scopes: dict[int | None, dict[tuple[str, int], RegisteredCommand]] = {None: {}}
        #: Every bulk overwrite (PUT), in order.
        self.sync_calls: list[SyncCall] = []

    def scope(self, guild_id: int | None) -> list[RegisteredCommand]:
        return list(self._scopes.get(guild_id, {}).values())

    def tree(self, guild_id: int | None = None) -> list[Json]:
        """What GET would return: the registered commands of a scope (None = global)."""
        return [c.to_json() for c in self.scope(guild_id)]

    def bulk_overwrite(
        self, guild_id: int | None, payload: Iterable[Json]
    ) -> list[RegisteredCommand]:
        old = self._scopes.get(guild_id, {})
        new: dict[tuple[str, int], RegisteredCommand] = {}
        for data in payload:
            key = (str(data["name"]), int(data.get("type") or CHAT_INPUT))
            new[key] = self._make(guild_id, data, old.get(key))
        self._scopes[guild_id] = new
        self.sync_calls.append(SyncCall(guild_id, [k[0] for k in new]))
        return list(new.values())

    def upsert(self, guild_id: int | None, data: Json) -> RegisteredCommand:
        scope = self._scopes.setdefault(guild_id, {})
        key = (str(data["name"]), int(data.get("type") or CHAT_INPUT))
        scope[key] = cmd = self._make(guild_id, data, scope.get(key))
        return cmd

    def get(self, guild_id: int | None, command_id: int) -> RegisteredCommand | None:
        for cmd in self._scopes.get(guild_id, {}).values():
            if cmd.id == command_id:
                return cmd
        return None

    def edit(self, guild_id: int | None, command_id: int, patch: Json) -> RegisteredCommand | None:
        cmd = self.get(guild_id, command_id)
        if cmd is None:
            return None
        data = {**cmd.data, **patch}
        scope = self._scopes[guild_id]
        del scope[(cmd.name, cmd.type)]
        return self.upsert(guild_id, data)

    def delete(self, guild_id: int | None, command_id: int) -> bool:
        cmd = self.get(guild_id, command_id)
        if cmd is None:
            return False
        del self._scopes[guild_id][(cmd.name, cmd.type)]
        return True

    def find(
        self, name: str, *, guild_id: int | None, type: int = CHAT_INPUT
    ) -> RegisteredCommand | None:
        """Resolve a command name as a Discord client would: guild commands, then global."""
        if guild_id is not None:
            cmd = self._scopes.get(guild_id, {}).get((name, type))
            if cmd is not None:
                return cmd
        return self._scopes[None].get((name, type))

    def _make(
        self, guild_id: int | None, data: Json, previous: RegisteredCommand | None
    ) -> RegisteredCommand:
        data = copy.deepcopy(data)
        if previous is not None:
            version = previous.version if previous.data == data else self._world.snowflakes.next()
            return RegisteredCommand(previous.id, previous.application_id, guild_id, data, version)
        return RegisteredCommand(
            self._world.snowflakes.next(),
            self._world.application.id,
            guild_id,
            data,
            self._world.snowflakes.next(),
        )
