"""Starting and stopping the sandbox: the emulator, the page's server and the bot process.

One process holds the Discord emulator (gateway + REST on a free port) and the page's server
(127.0.0.1, `--port`); the bot runs as `python -m bot` would, in a subprocess
(`bot.sandbox.bot_process`) pointed at the emulator, on a throwaway SQLite file unless
`--database` names one. No token, nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import ConfigError, parse_database_url
from bot.sandbox.server import SandboxServer
from discord_emulator import MANAGE_GUILD, Channel, Emulator, Guild, Member

MAX_MEMBERS = 50
START_TIMEOUT = 90.0
STOP_TIMEOUT = 15.0
NAMES = (
    "Sam", "Ada", "Lin", "Noor", "Kofi", "Priya", "Tomás", "Yuki", "Zoe", "Omar", "Lea", "Ivan",
)  # fmt: skip
CHANNELS = (
    ("general", "Say hello"),
    ("announcements", "Weekly goal prompts, check-in prompts and summaries"),
    ("check-ins", "How the week went"),
    ("reviews", "Peer review pairings"),
    ("faq", "Questions and answers"),
)
# Only these reach the bot process: never the production token or database from the shell.
PASSED_ON = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "PYTHONPATH", "VIRTUAL_ENV", "TMPDIR")


@dataclass
class Demo:
    emu: Emulator
    guild: Guild
    moderator: Member
    channels: dict[str, Channel]


def build_demo(members: int) -> Demo:
    """A study group's server: a moderator, `members` members and the usual channels."""
    emu = Emulator()
    guild = emu.world.add_guild("Study Group (sandbox)", owner="Server Owner")
    channels = {name: guild.add_text_channel(name, topic=topic) for name, topic in CHANNELS}
    moderator = guild.add_member("Mia", permissions=MANAGE_GUILD)
    for index in range(members):
        base = NAMES[index % len(NAMES)]
        guild.add_member(base if index < len(NAMES) else f"{base} {index // len(NAMES) + 1}")
    return Demo(emu, guild, moderator, channels)


@contextlib.contextmanager
def database_url(given: str | None) -> Iterator[str]:
    if given:
        yield parse_database_url(given)
        return
    with tempfile.TemporaryDirectory(prefix="cohort-sandbox-") as folder:
        yield f"sqlite:///{Path(folder) / 'cohort.sqlite3'}"


def bot_environment(demo: Demo, server: SandboxServer, database: str) -> dict[str, str]:
    env = {name: os.environ[name] for name in PASSED_ON if name in os.environ}
    control = f"ws://127.0.0.1:{server.port}/control?key={server.control.key}"
    env.update(
        DISCORD_TOKEN=demo.emu.bot_token,
        DATABASE_URL=database,
        LOG_LEVEL=os.environ.get("LOG_LEVEL", "WARNING"),
        COHORT_SANDBOX_API_BASE=demo.emu.api_base,
        COHORT_SANDBOX_GATEWAY=demo.emu.gateway_url,
        COHORT_SANDBOX_CONTROL=control,
    )
    return env


async def wait_or_exit(waiting: asyncio.Future[Any], process: asyncio.subprocess.Process) -> None:
    """Wait for `waiting`; raise if the bot process exits first."""
    exited: asyncio.Future[Any] = asyncio.ensure_future(process.wait())
    try:
        done, _ = await asyncio.wait(
            {waiting, exited}, timeout=START_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        exited.cancel()
    if waiting in done:
        waiting.result()
        return
    waiting.cancel()
    if exited in done:
        raise RuntimeError(f"the bot stopped during start-up (exit code {process.returncode})")
    raise RuntimeError(f"the bot was not ready within {START_TIMEOUT:g} s")


async def seed(demo: Demo) -> None:
    """The FAQ starts with the Meta Back-End starter pack, imported by the moderator."""
    result = await demo.moderator.slash(
        "faq import", in_channel=demo.channels["faq"], pack="meta-back-end"
    )
    if result.deferred:  # the import answers in a follow-up once it is done
        await result.followups(1, timeout=START_TIMEOUT)


async def stop_process(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
        except TimeoutError:
            process.kill()
            await process.wait()


async def serve(args: argparse.Namespace, database: str) -> int:
    demo = build_demo(args.members)
    server = SandboxServer(demo.emu, demo.guild, demo.moderator)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await demo.emu.start()
    process: asyncio.subprocess.Process | None = None
    try:
        try:
            await server.start(args.port)
        except OSError as exc:
            sys.stderr.write(f"cohort sandbox: cannot listen on 127.0.0.1:{args.port}: {exc}\n")
            return 1
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.sandbox.bot_process",
            env=bot_environment(demo, server, database),
            stdin=asyncio.subprocess.DEVNULL,
            # Ctrl-C reaches only this process, which then stops the bot in order.
            start_new_session=True,
        )
        say("starting the bot against the local Discord emulator …")
        ready = asyncio.ensure_future(
            asyncio.gather(
                demo.emu.wait_ready(timeout=START_TIMEOUT), server.control.connected.wait()
            )
        )
        try:
            await wait_or_exit(ready, process)
            await seed(demo)
        except (RuntimeError, AssertionError) as exc:
            sys.stderr.write(f"cohort sandbox: {exc}\n")
            return 1
        say(f"Cohort sandbox: {server.url}  (Ctrl-C stops it)")
        stopped = asyncio.ensure_future(process.wait())
        waiting = asyncio.ensure_future(stop.wait())
        await asyncio.wait({stopped, waiting}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        waiting.cancel()
        if process.returncode is not None and not stop.is_set():
            sys.stderr.write(f"cohort sandbox: the bot stopped (exit code {process.returncode})\n")
            return 1
        say("stopping …")
        return 0
    finally:
        if process is not None:
            await stop_process(process)
        await server.stop()
        await demo.emu.stop()
        for problem in demo.emu.problems():
            sys.stderr.write(f"cohort sandbox: Discord would have refused: {problem}\n")


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        return fail("--port must be between 0 and 65535.")
    if not 0 <= args.members <= MAX_MEMBERS:
        return fail(f"--members must be between 0 and {MAX_MEMBERS}.")
    try:
        with database_url(args.database) as url:
            code = asyncio.run(serve(args, url))
    except ConfigError as exc:
        return fail(str(exc).replace("DATABASE_URL", "--database"))
    if code == 0:
        say("stopped cleanly")
    return code


def fail(message: str) -> int:
    sys.stderr.write(f"cohort sandbox: {message}\n")
    return 1
