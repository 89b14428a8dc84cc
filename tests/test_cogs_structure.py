"""Every cog loads together, command names are unique, and options match the contract."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import discord
import pytest
from discord import app_commands

from bot.app import create_bot
from bot.bot import CohortBot, all_extensions
from bot.config import Settings
from tests.conftest import TOKEN
from tests.contract import CONTRACT, MODERATOR_GROUPS

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture
async def loaded_bot(sqlite_url: str) -> AsyncIterator[CohortBot]:
    bot = await create_bot(Settings(token=TOKEN, database_url=sqlite_url))
    for extension in all_extensions():
        await bot.load_extension(extension)
    try:
        yield bot
    finally:
        await bot.close()


def command_paths(tree: app_commands.CommandTree) -> dict[str, app_commands.Command]:
    paths: dict[str, app_commands.Command] = {}
    for command in tree.walk_commands():
        if isinstance(command, app_commands.Command):
            paths[command.qualified_name] = command
    return paths


def test_there_are_cogs_to_load() -> None:
    assert "cogs.settings" in all_extensions() and "cogs.me" in all_extensions()
    assert not any(name.startswith("cogs._") for name in all_extensions())


async def test_no_duplicate_command_names(loaded_bot: CohortBot) -> None:
    top = Counter(command.name for command in loaded_bot.tree.get_commands())
    assert [name for name, count in top.items() if count > 1] == []


async def test_every_command_is_in_the_contract_with_its_options(loaded_bot: CohortBot) -> None:
    paths = command_paths(loaded_bot.tree)
    for path, command in paths.items():
        assert path in CONTRACT, f"/{path} is not in the command contract (tests/contract.py)"
        assert tuple(p.name for p in command.parameters) == CONTRACT[path], path
    assert sorted(paths) == sorted(CONTRACT), "a command of the contract is missing"


async def test_moderator_groups_default_to_manage_server(loaded_bot: CohortBot) -> None:
    moderator = [c for c in loaded_bot.tree.get_commands() if c.name in MODERATOR_GROUPS]
    assert sorted(c.name for c in moderator) == sorted(MODERATOR_GROUPS)
    for command in moderator:
        assert command.default_permissions == discord.Permissions(manage_guild=True), command.name


async def test_commands_work_in_guilds_only(loaded_bot: CohortBot) -> None:
    commands = loaded_bot.tree.get_commands()
    assert commands
    for command in commands:
        assert command.guild_only, f"/{command.name} should be guild-only"


async def test_readme_lists_every_command(loaded_bot: CohortBot) -> None:
    text = README.read_text()
    section = text.split("<!-- commands:start -->")[1].split("<!-- commands:end -->")[0]
    listed = set(re.findall(r"^\| `/([a-z -]+)` \|", section, re.M))
    assert listed
    for path in command_paths(loaded_bot.tree):
        assert path in listed, f"README's command list lacks /{path}"
