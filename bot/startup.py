"""Getting online: log in (retrying while Discord cannot be reached), then say so in one line."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import aiohttp
import discord
from discord.ext import commands

from bot.formatting import plural

log = logging.getLogger("bot")

AnyBot = commands.Bot | commands.AutoShardedBot

# Log-in attempts before giving up (a service manager then restarts the process), and the
# pause before the second one, doubled each time up to MAX_DELAY: 3 minutes of pauses in all.
LOGIN_ATTEMPTS = 8
FIRST_DELAY = 2.0
MAX_DELAY = 60.0

# The invite's permissions (SECURITY.md says why each).
PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
)
SCOPES = ("bot", "applications.commands")

NO_ROUTE_FIX = (
    "check the internet connection, DNS and firewall (discord.com must be reachable on port "
    "443), then start again"
)


class CannotReachDiscord(Exception):
    """Every log-in attempt failed before Discord answered; the message is one line."""


def invite_url(client_id: int) -> str:
    return discord.utils.oauth_url(client_id, permissions=PERMISSIONS, scopes=SCOPES)


def ready_line(bot: AnyBot) -> str:
    assert bot.user is not None and bot.application_id is not None
    servers = plural(len(bot.guilds), "server")
    return (
        f"Cohort is online as {bot.user.name} in {servers} — invite: "
        f"{invite_url(bot.application_id)}"
    )


def announce_when_ready(bot: AnyBot) -> None:
    """Log the ready line once (on_ready repeats after some reconnects)."""
    said: list[bool] = []

    async def on_ready() -> None:
        if not said:
            said.append(True)
            log.info("%s", ready_line(bot))

    bot.add_listener(on_ready, "on_ready")


def unreachable_reason(exc: BaseException) -> str | None:
    """One line for a failure to reach Discord at all, or None for anything else."""
    if isinstance(exc, discord.DiscordServerError):
        return f"Discord answered {exc.status}"
    if isinstance(exc, aiohttp.ClientError | OSError | TimeoutError):
        text = str(exc).strip().splitlines()
        return text[0] if text else type(exc).__name__
    return None


async def log_in(
    bot: AnyBot,
    token: str,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """`bot.login`, tried again with growing pauses while Discord cannot be reached. Only a
    failure before the setup hook ran is retried: after it, extensions are loaded."""
    delay = FIRST_DELAY
    attempt = 1
    while True:
        try:
            await bot.login(token)
            return
        except Exception as exc:
            reason = unreachable_reason(exc)
            if reason is None or bot.extensions:
                raise
            await bot.http.close()
            # Closing the session closed its connector too: let the next log-in make both.
            bot.http.connector = discord.utils.MISSING
            if attempt >= LOGIN_ATTEMPTS:
                raise CannotReachDiscord(
                    f"cannot reach Discord after {attempt} attempts ({reason}): {NO_ROUTE_FIX}."
                ) from None
            attempt += 1
            log.warning(
                "cannot reach Discord (%s): trying again in %g s (attempt %d of %d)",
                reason,
                delay,
                attempt,
                LOGIN_ATTEMPTS,
            )
            await sleep(delay)
            delay = min(delay * 2, MAX_DELAY)
