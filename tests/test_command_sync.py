from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import discord
from discord import app_commands

from bot.command_sync import sync_if_changed, tree_signature
from db.engine import Database
from db.repositories.bot_state import BotStateRepository

NOW = datetime(2026, 11, 18, tzinfo=UTC)
APP = 900_000_000_000_000_001
DEV = 800_000_000_000_000_001


class RecordingTree(app_commands.CommandTree):
    """A real tree whose network call is recorded instead of sent."""

    def __init__(self) -> None:
        super().__init__(discord.Client(intents=discord.Intents.none()))
        self.synced: list[int | None] = []

    async def sync(self, *, guild: Any = None) -> list[app_commands.AppCommand]:
        self.synced.append(guild.id if guild else None)
        return []


def make_tree(extra: bool = False) -> RecordingTree:
    tree = RecordingTree()

    @tree.command(name="ping", description="Ping")
    async def ping(interaction: discord.Interaction) -> None: ...

    if extra:

        @tree.command(name="pong", description="Pong")
        async def pong(interaction: discord.Interaction) -> None: ...

    return tree


def test_signature_is_stable_across_instances_and_changes_with_the_tree() -> None:
    assert tree_signature(make_tree()) == tree_signature(make_tree())
    assert tree_signature(make_tree()) != tree_signature(make_tree(extra=True))


async def test_first_start_syncs_and_an_unchanged_restart_does_not(database: Database) -> None:
    state = BotStateRepository(database.engine)
    first, second = make_tree(), make_tree()
    assert await sync_if_changed(first, state, application_id=APP, dev_guild_id=None, now=NOW) == [
        "global"
    ]
    assert first.synced == [None]
    assert (
        await sync_if_changed(second, state, application_id=APP, dev_guild_id=None, now=NOW) == []
    )
    assert second.synced == []


async def test_a_changed_tree_syncs_again(database: Database) -> None:
    state = BotStateRepository(database.engine)
    await sync_if_changed(make_tree(), state, application_id=APP, dev_guild_id=None, now=NOW)
    changed = make_tree(extra=True)
    await sync_if_changed(changed, state, application_id=APP, dev_guild_id=None, now=NOW)
    assert changed.synced == [None]


async def test_dev_guild_is_synced_too_and_remembered(database: Database) -> None:
    state = BotStateRepository(database.engine)
    tree = make_tree()
    await sync_if_changed(tree, state, application_id=APP, dev_guild_id=DEV, now=NOW)
    assert tree.synced == [None, DEV]
    again = make_tree()
    await sync_if_changed(again, state, application_id=APP, dev_guild_id=DEV, now=NOW)
    assert again.synced == []


async def test_another_application_syncs_separately(database: Database) -> None:
    state = BotStateRepository(database.engine)
    await sync_if_changed(make_tree(), state, application_id=APP, dev_guild_id=None, now=NOW)
    other = make_tree()
    await sync_if_changed(other, state, application_id=APP + 1, dev_guild_id=None, now=NOW)
    assert other.synced == [None]
