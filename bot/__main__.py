"""Command line: `python -m bot` runs Cohort; `check` validates without Discord; `backup` copies
the database."""

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
from bot.command_sync import CommandSyncError
from bot.config import ConfigError, Settings, database_url_from_env
from bot.logging_setup import setup_logging
from bot.shards import CLOSE_REASONS, ShardError
from bot.startup import (
    NO_ROUTE_FIX,
    CannotReachDiscord,
    announce_when_ready,
    log_in,
    unreachable_reason,
)
from db.backup import backup_sqlite
from db.engine import Database, DatabaseError

log = logging.getLogger("bot")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Cohort: weekly goals, check-ins, peer review, FAQ answers and reminders "
        "for self-paced study groups on Discord.",
        epilog="Configuration comes from the environment and from .env in the current folder: "
        "DISCORD_TOKEN (required), DATABASE_URL (default sqlite:///data/cohort.sqlite3), "
        "DEV_GUILD_ID, LOG_LEVEL, LOG_FORMAT, SHARD_COUNT, SHARD_IDS. See .env.example.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("run", help="connect to Discord and serve (the default)")
    commands.add_parser(
        "check",
        help="validate the configuration and the database (connect, apply migrations) "
        "without contacting Discord, and print what was found",
    )
    backup = commands.add_parser(
        "backup",
        help="copy the SQLite database to PATH, consistently, even while the bot runs "
        "(for PostgreSQL use pg_dump)",
    )
    backup.add_argument("path", metavar="PATH", type=Path, help="the file to write")
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
        "configuration: ok (DISCORD_TOKEN has the shape of a bot token; only Discord can say "
        "whether it is valid, at `python -m bot`)",
        f"database: {report.backend} at {report.location}",
        f"schema version: {report.version} ({state})",
        f"tables: {', '.join(report.tables)}",
        f"development guild: {settings.dev_guild_id or 'none'}",
        f"log level: {settings.log_level}, format {settings.log_format}",
        f"shards: {settings.shards.describe()}",
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def backup(database_url: str, target: Path) -> int:
    try:
        database = Database(database_url)
        if database.backend != "sqlite":
            return fail(
                "DATABASE_URL is PostgreSQL: back it up with pg_dump, for example "
                f'pg_dump --format=custom --file={target} "$DATABASE_URL"'
            )
        report = backup_sqlite(Path(database.location), target)
    except DatabaseError as exc:
        return fail(str(exc))
    sys.stdout.write(
        f"backed up {report.source} to {report.target} ({report.size:,} bytes, integrity ok)\n"
    )
    return 0


async def run(settings: Settings) -> int:
    try:
        bot = await create_bot(settings)
    except DatabaseError as exc:
        return fail(str(exc))
    announce_when_ready(bot)
    loop = asyncio.get_running_loop()
    stopping: list[asyncio.Task[None]] = []
    logging_in = loop.create_task(log_in(bot, settings.token))

    def stop() -> None:
        logging_in.cancel()  # a stop during the pauses between log-in attempts ends them
        stopping.append(loop.create_task(bot.close()))

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop)
    try:
        with contextlib.suppress(asyncio.CancelledError):
            await logging_in
        if not stopping:
            await bot.connect()
    except discord.LoginFailure:
        return fail(
            "Discord rejected DISCORD_TOKEN: copy the token again (developer portal → your "
            "application → Bot → Reset Token) into .env."
        )
    except discord.PrivilegedIntentsRequired:
        return fail(
            "Discord refused the gateway intents: turn on Server Members Intent "
            "(developer portal → your application → Bot)."
        )
    except (CannotReachDiscord, CommandSyncError, ShardError) as exc:
        return fail(str(exc))
    except discord.ConnectionClosed as exc:
        if exc.code in CLOSE_REASONS:
            return fail(CLOSE_REASONS[exc.code])
        return fail(f"Discord closed the gateway with code {exc.code} ({exc.reason or '-'}).")
    except discord.HTTPException as exc:
        return fail(f"Discord answered {exc.status} at start-up ({exc.text or exc}): try later.")
    except Exception as exc:
        reason = unreachable_reason(exc)
        if reason is None:
            raise
        return fail(f"lost the connection to Discord while starting ({reason}): {NO_ROUTE_FIX}.")
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
    env_file = Path.cwd() / ".env"
    load_dotenv(env_file)
    try:
        if args.command == "backup":
            return backup(database_url_from_env(os.environ), args.path)
        settings = Settings.from_env(os.environ, env_file_found=env_file.is_file())
    except ConfigError as exc:
        return fail(str(exc))
    setup_logging(settings.log_level, secrets=[settings.token], log_format=settings.log_format)
    if args.command == "check":
        return asyncio.run(check(settings))
    return asyncio.run(run(settings))


if __name__ == "__main__":
    raise SystemExit(main())
