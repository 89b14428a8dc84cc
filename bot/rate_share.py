"""This process's share of Discord's global rate limit, which is per bot token, not per process.

Discord allows a bot 50 requests a second in all (interaction responses aside). One process
holding every shard leaves that to discord.py, which waits out a global 429. Several processes
do not see each other's requests, so each paces its scheduled posts to its share of the shards:
N processes holding disjoint shards stay under the limit together.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from bot.domain.shards import Shards

#: Discord's global limit per bot token (requests per second).
GLOBAL_PER_SECOND = 50.0


def share_of(shards: Shards, per_second: float = GLOBAL_PER_SECOND) -> float | None:
    """Requests per second this process may make; None when it holds every shard."""
    if shards.ids is None or shards.count is None:
        return None
    return per_second * len(shards.ids) / shards.count


class RateShare:
    """A token bucket of `per_second` with a burst of one second's worth; `take` waits."""

    def __init__(
        self,
        per_second: float,
        *,
        time: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.per_second = per_second
        self._capacity = max(1.0, per_second)
        self._tokens = self._capacity
        self._updated: float | None = None
        self._time = time
        self._sleep = sleep
        self._lock = asyncio.Lock()

    def _now(self) -> float:
        return self._time() if self._time is not None else asyncio.get_running_loop().time()

    async def take(self) -> None:
        async with self._lock:  # first come, first served
            now = self._now()
            if self._updated is not None:
                elapsed = now - self._updated
                self._tokens = min(self._capacity, self._tokens + elapsed * self.per_second)
            self._updated = now
            if self._tokens < 1.0:
                await self._sleep((1.0 - self._tokens) / self.per_second)
                self._tokens = 1.0
                self._updated = self._now()
            self._tokens -= 1.0
