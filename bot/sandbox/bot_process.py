"""The bot process the sandbox starts: `python -m bot` pointed at the local Discord emulator.

Only the sandbox launches this module (`python -m bot` never reads these variables), so a
production bot cannot be pointed elsewhere by accident. It refuses anything but 127.0.0.1:

    COHORT_SANDBOX_API_BASE   the emulator's REST base (http://127.0.0.1:PORT/api/v10)
    COHORT_SANDBOX_GATEWAY    the emulator's gateway (ws://127.0.0.1:PORT/)
    COHORT_SANDBOX_CONTROL    the sandbox's control socket (ws://127.0.0.1:PORT/control?key=…)

plus the usual DISCORD_TOKEN (the emulator's), DATABASE_URL and LOG_LEVEL. The bot runs on a
clock that the sandbox page can move forward (the control socket), the way end-to-end tests
move theirs, so "jump to the next scheduled post" fires real schedules.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import discord
import discord.gateway
import discord.http
import yarl

from bot.app import create_bot
from bot.bot import CohortBot
from bot.config import ConfigError, Settings
from bot.logging_setup import setup_logging

log = logging.getLogger("bot.sandbox")

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


class SandboxClock:
    """Wall time plus an offset that only grows: the sandbox's "jump ahead"."""

    def __init__(self) -> None:
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def jump_to(self, at: datetime) -> None:
        """Move to `at` (never backwards: occurrences already posted stay posted)."""
        ahead = at - datetime.now(UTC)
        self._offset = max(self._offset, ahead)


def local_url(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is not set (only `python -m bot sandbox` starts this process).")
    if urlsplit(value).hostname not in LOCAL_HOSTS:
        raise ConfigError(f"{name} must point at this machine (127.0.0.1), not {value!r}.")
    return value


class Control:
    """Answers the sandbox's requests over its control socket: the clock and what is next."""

    def __init__(self, bot: CohortBot, clock: SandboxClock) -> None:
        self.bot = bot
        self.clock = clock

    async def upcoming(self) -> list[dict[str, Any]]:
        services = self.bot.services
        found = []
        for guild in self.bot.guilds:
            for info in await services.schedules.for_guild(guild.id):
                if info.next_fire is None or not info.schedule.active:
                    continue
                found.append(
                    {
                        "id": info.schedule.id,
                        "kind": info.schedule.kind,
                        "description": info.description,
                        "channel_id": str(info.schedule.channel_id),
                        "next_fire": info.next_fire.isoformat(),
                    }
                )
        return sorted(found, key=lambda s: s["next_fire"])

    async def jump(self, to: str | None) -> dict[str, Any]:
        """Move the clock to `to` (ISO time) or to the next scheduled post, and fire what is due."""
        if to is None:
            upcoming = await self.upcoming()
            if not upcoming:
                return {"fired": 0, "error": "Nothing is scheduled yet."}
            target = datetime.fromisoformat(upcoming[0]["next_fire"])
        else:
            target = datetime.fromisoformat(to)
            if target.tzinfo is None:
                raise ValueError("the time needs a timezone")
        self.clock.jump_to(target)
        fired = await self.bot.services.scheduler.run_due()
        return {"fired": len(fired)}

    async def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        if op == "upcoming":
            return {"upcoming": await self.upcoming()}
        if op == "jump":
            return await self.jump(request.get("to"))
        raise ValueError(f"unknown operation {op!r}")

    async def serve(self, url: str) -> None:
        """Answer the sandbox's requests until it goes away (then the bot stops too)."""
        await self.bot.wait_until_ready()
        try:
            async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
                await ws.send_json({"op": "hello", "now": self.clock.now().isoformat()})
                async for message in ws:
                    if message.type != aiohttp.WSMsgType.TEXT:
                        break
                    await ws.send_json(await self.answer(message.json()))
        except aiohttp.ClientError:
            log.warning("cannot reach the sandbox's control socket")

    async def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            answer = await self.handle(request)
        except Exception as exc:  # the page shows it; the bot keeps running
            log.exception("sandbox control request failed")
            answer = {"error": str(exc)}
        answer.update(id=request.get("id"), now=self.clock.now().isoformat())
        return answer


async def run(settings: Settings, control_url: str) -> int:
    clock = SandboxClock()
    bot = await create_bot(settings, clock=clock)
    loop = asyncio.get_running_loop()
    stopping: list[asyncio.Task[None]] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, lambda: stopping.append(loop.create_task(bot.close())))
    control = asyncio.create_task(Control(bot, clock).serve(control_url), name="sandbox-control")

    def sandbox_gone(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and not bot.is_closed():
            log.info("the sandbox went away; stopping")
            stopping.append(loop.create_task(bot.close()))

    control.add_done_callback(sandbox_gone)
    try:
        await bot.start(settings.token)
    finally:
        control.cancel()
        with contextlib.suppress(BaseException):
            await control
        await bot.close()
        if stopping:
            await asyncio.gather(*stopping)
    log.info("stopped cleanly")
    return 0


def main(env: Mapping[str, str] = os.environ) -> int:
    try:
        api_base = local_url(env, "COHORT_SANDBOX_API_BASE")
        gateway = local_url(env, "COHORT_SANDBOX_GATEWAY")
        control_url = local_url(env, "COHORT_SANDBOX_CONTROL")
        settings = Settings.from_env(env)
    except ConfigError as exc:
        sys.stderr.write(f"cohort sandbox: {exc}\n")
        return 1
    setup_logging(settings.log_level, secrets=[settings.token])
    # The sandbox has no voice: discord.py's warnings about voice libraries are noise here.
    logging.getLogger("discord.client").addFilter(
        lambda record: "voice will NOT be supported" not in record.getMessage()
    )
    discord.http.Route.BASE = api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
    return asyncio.run(run(settings, control_url))


if __name__ == "__main__":
    raise SystemExit(main())
