"""Shared tools for the hardening tests: the synced command tree as a table, database
snapshots, the no-ping check, an event-loop lag probe and test-speed tuning.

The command table is read from what the bot registered with the emulator, so commands that
are added later are exercised without editing these tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import bot.app
from bot.scheduler import Scheduler
from discord_emulator import Emulator, PostedMessage
from tests.contract import CONTRACT, MODERATOR_GROUPS

Json = dict[str, Any]

# Moderator commands inside member groups, where Discord cannot hide single subcommands.
MODERATOR_SUBCOMMANDS = frozenset(
    {
        "review pair",
        "faq add",
        "faq edit",
        "faq remove",
        "faq queue",
        "faq answer",
        "faq import",
        "faq export",
    }
)

STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = (
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
    11,
)

INCIDENT = "Something went wrong on our side"


def is_moderator_command(path: str) -> bool:
    return path.split()[0] in MODERATOR_GROUPS or path in MODERATOR_SUBCOMMANDS


def contract_moderator_commands() -> list[str]:
    return sorted(path for path in CONTRACT if is_moderator_command(path))


# ------------------------------------------------------------------------------ the tree


@dataclass(frozen=True)
class Leaf:
    """One invocable slash command (a top-level command or a subcommand)."""

    path: str
    options: tuple[Json, ...]
    top: str

    @property
    def moderator(self) -> bool:
        return is_moderator_command(self.path)

    def option(self, name: str) -> Json:
        return next(o for o in self.options if o["name"] == name)

    @property
    def text_options(self) -> list[Json]:
        return [o for o in self.options if o["type"] == STRING and not o.get("choices")]

    @property
    def autocomplete_options(self) -> list[Json]:
        return [o for o in self.options if o.get("autocomplete")]


def leaves(emu: Emulator) -> list[Leaf]:
    """Every chat-input command the bot registered globally, subcommands flattened."""
    found: list[Leaf] = []

    def walk(prefix: str, top: str, options: Sequence[Json]) -> None:
        subs = [o for o in options if o["type"] in (1, 2)]
        if not subs:
            found.append(Leaf(prefix, tuple(options), top))
            return
        for sub in subs:
            walk(f"{prefix} {sub['name']}", top, sub.get("options") or [])

    for command in emu.commands.tree():
        if command.get("type", 1) == 1:
            walk(command["name"], command["name"], command.get("options") or [])
    return sorted(found, key=lambda leaf: leaf.path)


def open_every_command(emu: Emulator, *, in_dms: bool = False) -> None:
    """What a server admin can do in Integrations settings (show moderator commands to
    everyone), and with `in_dms` what an outdated client may send (guild-only commands in a
    DM): the bot must not rely on Discord hiding anything."""
    for command in emu.commands.scope(None):
        command.data["default_member_permissions"] = None
        if in_dms:
            command.data["contexts"] = [0, 1, 2]


# ------------------------------------------------------------------------------ database


def sqlite_path(database_url: str) -> Path:
    return Path(database_url.removeprefix("sqlite:///"))


def schema_of(path: Path) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
        ).fetchall()


def rows_of(path: Path, *, skip: Sequence[str] = ()) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: two snapshots are equal when nothing changed."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
            if name not in skip
        ]
        return {
            table: sorted(
                conn.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr
            )  # names come from sqlite_master, not from a user
            for table in tables
        }


def integrity(path: Path) -> str:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def changed_tables(
    before: dict[str, list[tuple[Any, ...]]], after: dict[str, list[tuple[Any, ...]]]
) -> list[str]:
    return sorted(t for t in set(before) | set(after) if before.get(t) != after.get(t))


# ------------------------------------------------------------------------------ pings


def bot_messages(emu: Emulator) -> list[PostedMessage]:
    return [
        m for m in emu.messages.all(include_deleted=True) if m.author_id == emu.world.bot_user.id
    ]


def assert_no_ping_escaped(
    emu: Emulator,
    *,
    users: frozenset[int] = frozenset(),
    roles: frozenset[int] = frozenset(),
) -> int:
    """Every message the bot sent (ephemeral or not) said who may be pinged, never allowed
    @everyone/@here or mention parsing, and notified nobody beyond `users` and `roles`.
    Returns how many messages were checked."""
    problems = []
    messages = bot_messages(emu)
    for m in messages:
        if m.loading and not m.content and not m.embeds:
            continue  # a deferral's "thinking…" never filled in (deleted instead): no text
        allowed = m.allowed_mentions
        if allowed is None:
            problems.append(f"message {m.id} omitted allowed_mentions: {m.content[:80]!r}")
            continue
        parse = set(allowed.get("parse") or ())
        if parse:
            problems.append(f"message {m.id} lets Discord parse {sorted(parse)}")
        extra_users = {int(u) for u in allowed.get("users") or ()} - users
        extra_roles = {int(r) for r in allowed.get("roles") or ()} - roles
        if extra_users or extra_roles:
            problems.append(f"message {m.id} allows {extra_users=} {extra_roles=}")
        if m.pings.everyone or not m.pings.users <= users or not m.pings.roles <= roles:
            problems.append(f"message {m.id} pings {m.pings}: {m.content[:80]!r}")
    assert not problems, "\n".join(problems)
    return len(messages)


# ------------------------------------------------------------------------------ loop lag


@dataclass
class LoopLag:
    """The longest the event loop failed to run a 10 ms timer on time."""

    worst: float = 0.0
    samples: int = 0
    _task: asyncio.Task[None] | None = field(default=None, repr=False)

    async def _run(self, interval: float) -> None:
        loop = asyncio.get_running_loop()
        while True:
            start = loop.time()
            await asyncio.sleep(interval)
            self.worst = max(self.worst, loop.time() - start - interval)
            self.samples += 1


@contextlib.asynccontextmanager
async def loop_lag(interval: float = 0.01) -> AsyncIterator[LoopLag]:
    probe = LoopLag()
    probe._task = asyncio.create_task(probe._run(interval))
    try:
        yield probe
    finally:
        probe._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await probe._task


# ------------------------------------------------------------------------------ pacing


class _FastScheduler(Scheduler):
    """The bot's scheduler with its own retry and DM pacing options set short."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("retry_delays", (0.2, 0.4))
        kwargs.setdefault("dm_interval", 0.0)
        kwargs.setdefault("dm_jitter", 0.0)
        super().__init__(*args, **kwargs)


@contextlib.contextmanager
def fast_scheduler(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Bots created inside use short retry delays (the Scheduler's documented tuning)."""
    monkeypatch.setattr(bot.app, "Scheduler", _FastScheduler)
    yield


class _ScaledAsyncio:
    """`asyncio` with sleeps shortened by `factor` (everything else passes through)."""

    def __init__(self, factor: float) -> None:
        self._factor = factor

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    async def sleep(self, delay: float, result: Any = None) -> Any:
        return await asyncio.sleep(delay * self._factor, result)


def compress_discord_backoff(monkeypatch: pytest.MonkeyPatch, factor: float = 0.05) -> None:
    """discord.py waits 1, 3, 5, 7 and 9 s between its own retries of a 5xx answer; the same
    retries, `factor` times sooner, so a storm of minutes fits in seconds."""
    import discord.http

    monkeypatch.setattr(discord.http, "asyncio", _ScaledAsyncio(factor))


def query(database: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Read the bot's SQLite file directly (while the bot may be writing to it)."""
    with contextlib.closing(sqlite3.connect(database, timeout=5)) as conn:
        return conn.execute(sql, params).fetchall()
