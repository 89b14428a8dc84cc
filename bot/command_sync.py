"""Sync application commands only when the tree changed since the last sync."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime

import discord
from discord import app_commands

from db.repositories.bot_state import BotStateRepository

log = logging.getLogger(__name__)


def tree_signature(
    tree: app_commands.CommandTree, guild: discord.abc.Snowflake | None = None
) -> str:
    """A stable hash of what Discord would receive for this tree (global or one guild)."""
    payload = sorted(
        (command.to_dict(tree) for command in tree.get_commands(guild=guild)),
        key=lambda c: (c.get("type", 1), c["name"]),
    )
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


async def sync_if_changed(
    tree: app_commands.CommandTree,
    state: BotStateRepository,
    *,
    application_id: int,
    dev_guild_id: int | None,
    now: datetime,
) -> list[str]:
    """Sync globally (and to the dev guild) when the signature differs; return what was synced."""
    synced: list[str] = []
    scopes: list[tuple[str, discord.Object | None]] = [("global", None)]
    if dev_guild_id is not None:
        dev_guild = discord.Object(dev_guild_id)
        tree.copy_global_to(guild=dev_guild)
        scopes.append((f"guild:{dev_guild_id}", dev_guild))
    for scope, guild in scopes:
        key = f"command-signature:{application_id}:{scope}"
        signature = tree_signature(tree, guild)
        if await state.get(key) == signature:
            log.info("commands unchanged for %s; not syncing", scope)
            continue
        commands = await tree.sync(guild=guild)
        await state.set(key, signature, now)
        log.info("synced %d commands to %s", len(commands), scope)
        synced.append(scope)
    return synced
