from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import discord
import pytest
from discord import app_commands

from bot.command_sync import CommandSyncError, sync_if_changed, tree_signature
from db.engine import Database
from db.repositories.bot_state import BotStateRepository

NOW = datetime(2026, 11, 18, tzinfo=UTC)
APP = 900_000_000_000_000_001
DEV = 800_000_000_000_000_001


class RecordingTree(app_commands.CommandTree):
    """A real tree whose network call is recorded instead of sent (`refuse`: guild ids that
    answer 403 Missing Access, as for a server the bot is not in)."""

    def __init__(self, refuse: tuple[int, ...] = ()) -> None:
        super().__init__(discord.Client(intents=discord.Intents.none()))
        self.synced: list[int | None] = []
        self.sent: dict[int | None, list[str]] = {}
        self.refuse = refuse

    async def sync(self, *, guild: Any = None) -> list[app_commands.AppCommand]:
        if guild is not None and guild.id in self.refuse:
            raise discord.Forbidden(
                SimpleNamespace(status=403, reason="Forbidden"), "Missing Access"
            )
        self.synced.append(guild.id if guild else None)
        self.sent[guild.id if guild else None] = [c.name for c in self.get_commands(guild=guild)]
        return []


def make_tree(extra: bool = False, refuse: tuple[int, ...] = ()) -> RecordingTree:
    tree = RecordingTree(refuse)

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


async def test_a_dev_guild_gets_the_commands_alone_and_is_remembered(database: Database) -> None:
    state = BotStateRepository(database.engine)
    tree = make_tree()
    synced = await sync_if_changed(tree, state, application_id=APP, dev_guild_id=DEV, now=NOW)
    assert synced == [f"guild:{DEV}", "global"]
    assert tree.sent == {DEV: ["ping"], None: []}  # never twice in the dev guild
    again = make_tree()
    await sync_if_changed(again, state, application_id=APP, dev_guild_id=DEV, now=NOW)
    assert again.synced == []


async def test_unsetting_the_dev_guild_clears_it_at_the_next_start(database: Database) -> None:
    state = BotStateRepository(database.engine)
    await sync_if_changed(make_tree(), state, application_id=APP, dev_guild_id=DEV, now=NOW)
    unset = make_tree()
    await sync_if_changed(unset, state, application_id=APP, dev_guild_id=None, now=NOW)
    assert unset.sent == {None: ["ping"], DEV: []}
    later = make_tree()
    await sync_if_changed(later, state, application_id=APP, dev_guild_id=None, now=NOW)
    assert later.synced == []


async def test_moving_the_dev_guild_clears_the_old_one(database: Database) -> None:
    state = BotStateRepository(database.engine)
    await sync_if_changed(make_tree(), state, application_id=APP, dev_guild_id=DEV, now=NOW)
    moved = make_tree()
    await sync_if_changed(moved, state, application_id=APP, dev_guild_id=DEV + 1, now=NOW)
    assert moved.sent == {DEV + 1: ["ping"], DEV: []}  # global stays empty and unchanged


async def test_a_refused_dev_guild_is_one_line_and_leaves_the_global_commands(
    database: Database,
) -> None:
    state = BotStateRepository(database.engine)
    await sync_if_changed(make_tree(), state, application_id=APP, dev_guild_id=None, now=NOW)
    refused = make_tree(refuse=(DEV,))
    with pytest.raises(CommandSyncError, match=f"DEV_GUILD_ID {DEV}") as info:
        await sync_if_changed(refused, state, application_id=APP, dev_guild_id=DEV, now=NOW)
    assert "unset DEV_GUILD_ID" in str(info.value) and "\n" not in str(info.value)
    assert refused.synced == []
    retried = make_tree()  # once the bot is invited there, the next start syncs it
    await sync_if_changed(retried, state, application_id=APP, dev_guild_id=DEV, now=NOW)
    assert retried.sent == {DEV: ["ping"], None: []}


async def test_an_old_dev_guild_the_bot_left_is_forgotten(database: Database) -> None:
    state = BotStateRepository(database.engine)
    await sync_if_changed(make_tree(), state, application_id=APP, dev_guild_id=DEV, now=NOW)
    left = make_tree(refuse=(DEV,))
    await sync_if_changed(left, state, application_id=APP, dev_guild_id=None, now=NOW)
    assert left.sent == {None: ["ping"]}
    later = make_tree()
    await sync_if_changed(later, state, application_id=APP, dev_guild_id=None, now=NOW)
    assert later.synced == []


async def test_another_application_syncs_separately(database: Database) -> None:
    state = BotStateRepository(database.engine)
    await sync_if_changed(make_tree(), state, application_id=APP, dev_guild_id=None, now=NOW)
    other = make_tree()
    await sync_if_changed(other, state, application_id=APP + 1, dev_guild_id=None, now=NOW)
    assert other.synced == [None]
