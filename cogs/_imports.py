"""What the import commands (/plan import, /faq import) share: a file or a pack, exactly one,
and a file's size checked before it is downloaded."""

from __future__ import annotations

from collections.abc import Callable

import discord
from discord import app_commands

from bot.errors import InvalidInput
from cogs._checks import require_moderator


async def file_or_pack(
    interaction: discord.Interaction,
    file: discord.Attachment | None,
    pack: app_commands.Choice[str] | None,
    max_bytes: int,
    too_big: Callable[[int], str],
) -> bytes | str:
    """The file's bytes or the pack's name, once the caller is known to be a moderator and the
    interaction is acknowledged. A file over `max_bytes` is refused with `too_big(its size)`."""
    await require_moderator(interaction)
    if (file is None) == (pack is None):
        raise InvalidInput("Give either a `file` or a `pack` (one of the two).")
    if file is not None and file.size > max_bytes:
        raise InvalidInput(too_big(file.size))
    await interaction.response.defer(ephemeral=True, thinking=True)
    if file is not None:
        return await file.read()
    assert pack is not None
    return pack.value
