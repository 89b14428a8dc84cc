"""Command line: `python -m bot` runs Cohort; `python -m bot check` validates without Discord."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import discord
from dotenv import load_dotenv

from bot.app import create_bot, open_database
from bot.config import ConfigError, Settings
from bot.logging_setup import setup_logging
from db.engine import DatabaseError

log = logging.getLogger("bot")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Cohort: weekly goals, check-ins, peer review, FAQ answers and reminders "
        "for self-paced study groups on Discord.",
        epilog="Configuration comes from the environment and from .env in the current folder: "
        "DISCORD_TOKEN (required), DATABASE_URL (default sqlite:///data/cohort.sqlite3), "
        "DEV_GUILD_ID, LOG_LEVEL. See .env.example.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("run", help="connect to Discord and serve (the default)")
    commands.add_parser(
        "check",
        help="validate the configuration and the database (connect, apply migrations) "
        "without contacting Discord, and print what was found",
    )
    sandbox = commands.add_parser(
        "sandbox",
        help="run the real bot against a local Discord emulator with a web page to use it "
        "from (no token, no network)",
    )
    from bot.sandbox import add_arguments as add_sandbox_arguments

    add_sandbox_arguments(sandbox)
    return parser.parse_args(argv)


def fail(message: str) -> int:
    sys.stderr.write(f"cohort: {message}\n")
    return 1


async def check(settings: Settings) -> int:
    try:
        database = await open_database(settings)
    except DatabaseError as exc:
        return fail(str(exc))
    try:
        report = await database.report()
    finally:
        await database.close()
    state = "up to date" if report.version == report.head else f"behind (head {report.head})"
    lines = [
        "configuration: ok (DISCORD_TOKEN set, hidden)",
        f"database: {report.backend} at {report.location}",
        f"schema version: {report.version} ({state})",
        f"tables: {', '.join(report.tables)}",
        f"development guild: {settings.dev_guild_id or 'none'}",
        f"log level: {settings.log_level}",
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


async def run(settings: Settings) -> int:
    try:
        bot = await create_bot(settings)
    except DatabaseError as exc:
        return fail(str(exc))
    loop = asyncio.get_running_loop()
    stopping: list[asyncio.Task[None]] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, lambda: stopping.append(loop.create_task(bot.close())))
    try:
        await bot.start(settings.token)
    except discord.LoginFailure:
        return fail("Discord rejected DISCORD_TOKEN: check the token in .env.")
    except discord.PrivilegedIntentsRequired:
        return fail(
            "Discord refused the gateway intents: turn on Server Members Intent "
            "(developer portal → your application → Bot)."
        )
    finally:
        await bot.close()
        if stopping:
            await asyncio.gather(*stopping)
    log.info("stopped cleanly")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.command == "sandbox":  # needs no .env: no token, its own database
        from bot.sandbox import main as sandbox

        return sandbox(args)
    load_dotenv(Path.cwd() / ".env")
    try:
        settings = Settings.from_env(os.environ)
    except ConfigError as exc:
        return fail(str(exc))
    setup_logging(settings.log_level, secrets=[settings.token])
    if args.command == "check":
        return asyncio.run(check(settings))
    return asyncio.run(run(settings))


if __name__ == "__main__":
    raise SystemExit(main())
