"""Sync application commands only when the tree changed since the last sync.

Without a development guild the commands are global. With one (DEV_GUILD_ID) they are registered
in that server only, where changes show at once, and the global set is emptied, so no server shows
a command twice. The development guild is remembered: when it is unset or changed, the next start
clears the copies in the server it was.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime

import discord
from discord import app_commands

from bot.startup import invite_url
from db.repositories.bot_state import BotStateRepository

log = logging.getLogger(__name__)


class CommandSyncError(Exception):
    """Discord refused the commands where DEV_GUILD_ID says; the message is one line."""


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
    """Sync each scope whose signature differs from the last sync; return the scopes synced."""
    dev_key = f"dev-guild:{application_id}"
    remembered = await state.get(dev_key)
    previous = int(remembered) if remembered else None
    scopes: list[tuple[str, discord.Object | None]] = [("global", None)]
    if dev_guild_id is not None:
        dev_guild = discord.Object(dev_guild_id)
        tree.copy_global_to(guild=dev_guild)
        tree.clear_commands(guild=None)  # the copies answer in the dev guild; nothing global
        # First: if Discord refuses the dev guild, the global commands are left as they were.
        scopes.insert(0, (f"guild:{dev_guild_id}", dev_guild))
    synced: list[str] = []
    for scope, guild in scopes:
        try:
            if await _sync_scope(tree, state, application_id, scope, guild, now):
                synced.append(scope)
        except discord.Forbidden:
            if guild is None:
                raise
            raise CommandSyncError(
                f"Discord refused the commands in DEV_GUILD_ID {guild.id} (the bot is not in "
                f"that server, or was invited without applications.commands): invite it with "
                f"{invite_url(application_id)} or unset DEV_GUILD_ID."
            ) from None
    if previous is not None and previous != dev_guild_id:
        # The tree holds nothing for that guild, so syncing it clears the copies there.
        old = discord.Object(previous)
        scope = f"guild:{previous}"
        try:
            if await _sync_scope(tree, state, application_id, scope, old, now):
                synced.append(scope)
        except discord.Forbidden:
            log.warning("could not clear the commands in server %d (the bot left it?)", previous)
    if previous != dev_guild_id:
        await state.set(dev_key, str(dev_guild_id or ""), now)
    return synced


async def _sync_scope(
    tree: app_commands.CommandTree,
    state: BotStateRepository,
    application_id: int,
    scope: str,
    guild: discord.Object | None,
    now: datetime,
) -> bool:
    key = f"command-signature:{application_id}:{scope}"
    signature = tree_signature(tree, guild)
    if await state.get(key) == signature:
        log.info("commands unchanged for %s; not syncing", scope)
        return False
    commands = await tree.sync(guild=guild)
    await state.set(key, signature, now)
    log.info("synced %d commands to %s", len(commands), scope)
    return True
