"""Shards: which guilds this process serves, and starting its gateway shards politely.

Discord routes a guild to shard ``(guild_id >> 22) % shard_count``. Several processes can share
one PostgreSQL database, each running some shards (``SHARD_IDS``) of the same total
(``SHARD_COUNT``); a process does a guild's background work only when it holds the guild's
shard. Command sync runs once, in the process that holds shard 0.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from discord.http import HTTPClient, Route

from bot.domain.shards import Shards, format_ids

#: Discord's largest shard count worth accepting by hand (large bots use thousands at most).
MAX_SHARDS = 4096
#: Seconds between two IDENTIFYs in one rate-limit bucket (``shard_id % max_concurrency``).
IDENTIFY_INTERVAL = 5.0

log = logging.getLogger(__name__)

_ITEM = re.compile(r"(\d+)(?:\s*-\s*(\d+))?")


class ShardError(Exception):
    """A bad SHARD_COUNT / SHARD_IDS, or Discord will not let the shards start: one line."""


def parse_shard_count(value: str) -> int | None:
    text = value.strip().lower()
    if text in ("", "auto"):
        return None
    if not text.isdecimal() or not 1 <= int(text) <= MAX_SHARDS:
        raise ShardError(
            f"SHARD_COUNT must be auto or a whole number from 1 to {MAX_SHARDS}, not {value!r}."
        )
    return int(text)


def parse_shard_ids(value: str) -> tuple[int, ...] | None:
    """'0-3', '4,5,6,7', '0-1,6' → sorted unique ids; '' or 'all' → None."""
    text = value.strip().lower()
    if text in ("", "all"):
        return None
    ids: set[int] = set()
    for item in text.split(","):
        match = _ITEM.fullmatch(item.strip())
        if match is None:
            raise ShardError(
                f"SHARD_IDS must be shard numbers or ranges such as 0-3 or 4,5,6,7, not {value!r}."
            )
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) is not None else first
        if last < first:
            raise ShardError(f"SHARD_IDS has a backwards range {item.strip()!r}: write low-high.")
        if last - first >= MAX_SHARDS:
            raise ShardError(f"SHARD_IDS names more than {MAX_SHARDS} shards.")
        ids.update(range(first, last + 1))
    return tuple(sorted(ids))


def shards_from_env(env: Mapping[str, str], *, database_url: str) -> Shards:
    count = parse_shard_count(env.get("SHARD_COUNT", ""))
    ids = parse_shard_ids(env.get("SHARD_IDS", ""))
    if ids is None:
        return Shards(count, None)
    if count is None:
        raise ShardError(
            "SHARD_IDS needs SHARD_COUNT set to a number (the same in every process), not auto."
        )
    beyond = [shard for shard in ids if shard >= count]
    if beyond:
        raise ShardError(
            f"SHARD_IDS names shard {beyond[0]}, but SHARD_COUNT={count} has shards 0 to "
            f"{count - 1}."
        )
    if len(ids) == count:
        return Shards(count, None)
    if not database_url.startswith(("postgresql://", "postgres://")):
        raise ShardError(
            f"SHARD_IDS={format_ids(ids)} runs only some of the {count} shards: processes "
            "sharing the work need a shared PostgreSQL DATABASE_URL (with SQLite, leave "
            "SHARD_IDS empty to run all shards in one process)."
        )
    return Shards(count, ids)


# -- starting shards ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StartLimit:
    """What GET /gateway/bot says about starting sessions."""

    recommended: int
    remaining: int
    total: int
    reset_after_ms: int
    max_concurrency: int

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StartLimit:
        limit = data.get("session_start_limit") or {}
        return cls(
            recommended=int(data.get("shards") or 1),
            remaining=int(limit.get("remaining", 1)),
            total=int(limit.get("total", 1)),
            reset_after_ms=int(limit.get("reset_after", 0)),
            max_concurrency=max(1, int(limit.get("max_concurrency", 1))),
        )

    def check(self, starting: int) -> None:
        """Starting `starting` sessions must fit in what is left today."""
        if self.remaining >= starting:
            return
        hours = self.reset_after_ms / 3_600_000
        raise ShardError(
            f"Discord's session start limit is used up ({self.remaining} of {self.total} left, "
            f"{starting} needed): it resets in {hours:.1f} h; start again then (restarting "
            "sooner only uses it up again)."
        )


async def start_limit(http: HTTPClient, shards: Shards) -> IdentifyPacer:
    """Ask Discord how many sessions may still start today and how many at once; refuse to
    start (one line) rather than use up the limit, and pace IDENTIFYs as it says."""
    limit = StartLimit.from_json(await http.request(Route("GET", "/gateway/bot")))
    starting = len(shards.ids) if shards.ids is not None else shards.count or limit.recommended
    limit.check(starting)
    held = shards.describe() if shards.count else f"all {limit.recommended} (Discord's advice)"
    log.info(
        "shards: %s (%d session starts left today, %d at once)",
        held,
        limit.remaining,
        limit.max_concurrency,
    )
    return IdentifyPacer(limit.max_concurrency)


class IdentifyPacer:
    """One IDENTIFY per bucket (``shard_id % max_concurrency``) every IDENTIFY_INTERVAL
    seconds, as Discord asks; shards in different buckets identify together."""

    def __init__(self, max_concurrency: int = 1, interval: float = IDENTIFY_INTERVAL) -> None:
        self.max_concurrency = max(1, max_concurrency)
        self._interval = interval
        self._next: dict[int, float] = {}
        self._lock = asyncio.Lock()

    async def wait(self, shard_id: int | None) -> None:
        bucket = (shard_id or 0) % self.max_concurrency
        loop = asyncio.get_running_loop()
        async with self._lock:
            at = self._next.get(bucket, 0.0)
            self._next[bucket] = max(at, loop.time()) + self._interval
        delay = at - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)


CLOSE_REASONS = {
    4010: "Discord refused the shard number: SHARD_IDS must be below SHARD_COUNT, and "
    "SHARD_COUNT the same in every process.",
    4011: "Discord requires more shards (a shard may hold at most 2,500 servers): set "
    "SHARD_COUNT=auto, or raise SHARD_COUNT in every process.",
}
