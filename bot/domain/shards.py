"""Which guilds a process serves: Discord routes a guild to shard
``(guild_id >> 22) % shard_count``; a process holds some of the shards, or all of them."""

from __future__ import annotations

from dataclasses import dataclass

from bot.formatting import runs


def shard_of(guild_id: int, shard_count: int) -> int:
    return (guild_id >> 22) % shard_count


@dataclass(frozen=True)
class Shards:
    """The shards of this process: ``count`` None is Discord's recommendation (``auto``, only
    with all shards here); ``ids`` None is every shard."""

    count: int | None = None
    ids: tuple[int, ...] | None = None

    @property
    def everything(self) -> bool:
        """This process holds every shard (so every guild)."""
        return self.ids is None

    def owns(self, guild_id: int) -> bool:
        if self.ids is None or self.count is None:
            return True
        return shard_of(guild_id, self.count) in self.ids

    @property
    def holds_shard_zero(self) -> bool:
        return self.ids is None or 0 in self.ids

    def describe(self) -> str:
        if self.ids is None:
            return f"all of {self.count}" if self.count else "all (Discord's recommendation)"
        return f"{format_ids(self.ids)} of {self.count}"


def format_ids(ids: tuple[int, ...]) -> str:
    """0,1,2,5 → '0-2,5'."""
    return ",".join(str(first) if first == last else f"{first}-{last}" for first, last in runs(ids))
