"""Getting online as a person at a terminal sees it: `python -m bot` as a real process (through
the test launcher, which only points discord.py at the emulator or at a port nobody serves)."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.app import create_bot
from bot.clock import FrozenClock
from bot.config import Settings
from discord_emulator import Emulator, run_client
from tests.conftest import TOKEN
from tests.e2e.conftest import NOW
from tests.hardening.test_least_permissions import documented_permissions
from tests.launcher import bot_environment, unused_port

READY = re.compile(
    r"Cohort is online as (?P<name>.+) in (?P<count>\d+) servers? — invite: (?P<url>\S+)"
)

pytestmark = pytest.mark.e2e


async def test_the_ready_line_names_the_bot_its_servers_and_its_invite(tmp_path: Path) -> None:
    emu = Emulator()
    emu.world.add_guild("Study Group").add_text_channel("general")
    emu.world.add_guild("Another Group")
    async with emu.running(patch_discord=False):
        env = bot_environment(
            tmp_path / "cohort.sqlite3",
            api_base=emu.api_base,
            gateway=emu.gateway_url,
            token=emu.bot_token,
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.launcher", cwd=tmp_path, env=env,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert process.stderr is not None
        seen: list[str] = []
        try:
            async with asyncio.timeout(60):
                while not (seen and READY.search(seen[-1])):
                    line = await process.stderr.readline()
                    assert line, "".join(seen)
                    seen.append(line.decode())
            process.send_signal(signal.SIGTERM)
            rest = await process.stderr.read()
            assert await process.wait() == 0
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    found = READY.search(seen[-1])
    assert found is not None
    assert found["name"] == emu.world.bot_user.username and found["count"] == "2"
    url = urlsplit(found["url"])
    query = parse_qs(url.query)
    assert (url.scheme, url.netloc, url.path) == ("https", "discord.com", "/oauth2/authorize")
    assert query["client_id"] == [str(emu.world.application.id)]
    assert query["scope"] == ["bot applications.commands"]
    assert query["permissions"] == [str(documented_permissions())]
    everything = "".join(seen) + rest.decode()
    assert "voice" not in everything.lower() and "WARNING" not in everything, everything
    assert "Traceback" not in everything and emu.bot_token not in everything


def test_without_a_route_to_discord_it_retries_then_stops_with_one_line(tmp_path: Path) -> None:
    port = unused_port()
    env = bot_environment(
        tmp_path / "cohort.sqlite3",
        api_base=f"http://127.0.0.1:{port}/api/v10",
        gateway=f"ws://127.0.0.1:{port}/",
        token=TOKEN,
        COHORT_TEST_LOGIN_ATTEMPTS="3",
        COHORT_TEST_LOGIN_DELAY="0.01",
    )
    result = subprocess.run(
        [sys.executable, "-m", "tests.launcher"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    *retries, last = result.stderr.strip().splitlines()
    assert len(retries) == 2, result.stderr
    for attempt, line in enumerate(retries, start=2):
        assert "WARNING" in line and f"127.0.0.1:{port}" in line
        assert "cannot reach Discord" in line and f"(attempt {attempt} of 3)" in line
    assert last.startswith("cohort: cannot reach Discord after 3 attempts")
    assert "firewall" in last and "start again" in last


async def run_launcher(
    emu: Emulator, tmp_path: Path, token: str, **extra: str
) -> subprocess.CompletedProcess[str]:
    """`python -m bot` (through the launcher) against the running emulator, to its exit."""
    env = bot_environment(
        tmp_path / "cohort.sqlite3",
        api_base=emu.api_base,
        gateway=emu.gateway_url,
        token=token,
        **extra,
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.launcher", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return subprocess.CompletedProcess([], process.returncode, out.decode(), err.decode())


def the_one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The line a failure ends in; before it at most the ordinary INFO log of start-up."""
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    *before, last = result.stderr.strip().splitlines()
    assert last.startswith("cohort: "), result.stderr
    assert all(re.match(r"\S+ \S+ INFO ", line) for line in before), result.stderr
    return last


async def test_a_dev_guild_the_bot_is_not_in_stops_with_one_line(tmp_path: Path) -> None:
    emu = Emulator()
    emu.world.add_guild("Study Group")
    elsewhere = emu.world.add_guild("Not Joined")
    elsewhere.remove_bot()
    async with emu.running(patch_discord=False):
        result = await run_launcher(emu, tmp_path, emu.bot_token, DEV_GUILD_ID=str(elsewhere.id))
    line = the_one_line(result)
    assert line.startswith(f"cohort: Discord refused the commands in DEV_GUILD_ID {elsewhere.id}")
    assert "unset DEV_GUILD_ID" in line and "discord.com/oauth2/authorize" in line
    assert emu.commands.scope(None) == []  # nothing registered anywhere


async def test_a_token_discord_rejects_stops_with_one_line(tmp_path: Path) -> None:
    emu = Emulator()
    emu.world.add_guild("Study Group")
    async with emu.running(patch_discord=False):
        result = await run_launcher(emu, tmp_path, TOKEN)  # the right shape, not this bot's
    line = the_one_line(result)
    assert "Discord rejected DISCORD_TOKEN" in line and "Reset Token" in line
    assert TOKEN not in result.stderr


async def test_refused_intents_stop_with_one_line(tmp_path: Path) -> None:
    emu = Emulator()
    emu.world.add_guild("Study Group")
    emu.world.application.privileged_intents = 0  # Server Members Intent turned off
    async with emu.running(patch_discord=False):
        result = await run_launcher(emu, tmp_path, emu.bot_token)
    line = the_one_line(result)
    assert "Server Members Intent" in line


def command_names(emu: Emulator, guild_id: int | None) -> set[str]:
    return {command.name for command in emu.commands.scope(guild_id)}


async def test_a_dev_guild_gets_the_commands_alone_and_loses_them_when_unset(
    tmp_path: Path,
) -> None:
    emu = Emulator()
    dev = emu.world.add_guild("Development")
    emu.world.add_guild("Study Group")
    database_url = f"sqlite:///{tmp_path}/cohort.sqlite3"

    dev.add_text_channel("general")
    developer = dev.add_member("Dev")

    async def start(dev_guild_id: int | None) -> None:
        settings = Settings(
            token=emu.bot_token, database_url=database_url, dev_guild_id=dev_guild_id
        )
        bot = await create_bot(settings, clock=FrozenClock(NOW))
        async with run_client(emu, bot):
            reply = await developer.slash("goal add", text=f"Goal while {dev_guild_id}")
            assert "Goal while" in reply.content  # the commands answer wherever they are

    async with emu.running():
        await start(dev.id)
        everything = command_names(emu, dev.id)
        assert {"settings", "checkin", "goal", "faq"} <= everything
        assert command_names(emu, None) == set()  # never twice in the dev guild

        calls = len(emu.commands.sync_calls)
        await start(dev.id)  # unchanged: nothing sent
        assert len(emu.commands.sync_calls) == calls

        await start(None)
        assert command_names(emu, None) == everything
        assert command_names(emu, dev.id) == set()  # the copies are gone

        calls = len(emu.commands.sync_calls)
        await start(None)
        assert len(emu.commands.sync_calls) == calls
