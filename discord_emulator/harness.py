"""Pointing an unmodified discord.py client at the emulator, and running one for a test.

discord.py builds every REST URL, including interaction callbacks and webhook follow-ups
(discord/webhook/async_.py uses the same `discord.http.Route`), from `Route.BASE`, and opens the
gateway at `DiscordWebSocket.DEFAULT_GATEWAY` (resumes go to READY's `resume_gateway_url`).
Those two class attributes are all we change, and we put them back afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, TypeVar

import discord
import discord.gateway
import discord.http
import yarl

if TYPE_CHECKING:
    from .server import Emulator

log = logging.getLogger(__name__)

ClientT = TypeVar("ClientT", bound=discord.Client)

_patched_by: Emulator | None = None


@contextlib.contextmanager
def discord_endpoints(emu: Emulator) -> Iterator[None]:
    """Set discord.py's REST base and gateway URL to the emulator; restore them on exit."""
    global _patched_by
    if _patched_by is not None and _patched_by is not emu:
        raise RuntimeError("another Emulator already owns discord.py's endpoints in this process")
    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = emu.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(emu.gateway_url)
    _patched_by = emu
    try:
        yield
    finally:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway
        _patched_by = None


@contextlib.asynccontextmanager
async def run_client(
    emu: Emulator,
    client: ClientT,
    token: str | None = None,
    *,
    wait_for_sync: bool = False,
    timeout: float = 15.0,
    guild_ready_timeout: float | None = 0.05,
) -> AsyncIterator[ClientT]:
    """Start `client` against the running emulator; yield once it is ready; close it on exit.

    * waits for the client's own READY (`client.wait_until_ready()`), i.e. after GUILD_CREATEs;
    * `wait_for_sync=True` also waits until the client synced its command tree at least once;
    * `guild_ready_timeout` shortens discord.py's 2 s wait after the last GUILD_CREATE (the
      emulator sends all of them at once); pass None to keep the client's own setting;
    * if the client task dies (bad token, exception in setup_hook …) that error is raised here.
    On exit the client is closed and its task awaited (cancelled if it will not finish).
    """
    if guild_ready_timeout is not None:
        client._connection.guild_ready_timeout = guild_ready_timeout
    task = asyncio.create_task(client.start(token or emu.bot_token), name="discord-client")
    try:
        ready = asyncio.create_task(client.wait_until_ready(), name="discord-client-ready")
        try:
            done, _ = await asyncio.wait(
                {task, ready}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            if not ready.done():
                ready.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ready
        if task in done:
            task.result()  # re-raises the client's error
            raise RuntimeError("the discord client stopped before it became ready")
        if not done:
            raise AssertionError(f"the discord client was not ready within {timeout:g} s")
        if wait_for_sync:
            await emu.wait_synced(timeout)
        yield client
    finally:
        with contextlib.suppress(Exception):
            await client.close()
        if not task.done():
            try:
                await asyncio.wait_for(task, 5.0)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        with contextlib.suppress(BaseException):
            # Retrieve the outcome so asyncio does not log "exception was never retrieved".
            task.result()
