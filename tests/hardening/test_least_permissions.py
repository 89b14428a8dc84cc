"""The permissions SECURITY.md asks for are enough for everything Cohort posts, and each
of those needed to post is checked before the bot accepts a channel. Read Message History and
Send Messages in Threads are asked for too but not required: servers invited with the older
permissions keep working."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.app import create_bot
from bot.clock import FrozenClock
from bot.config import Settings
from discord_emulator import (
    ATTACH_FILES,
    EMBED_LINKS,
    MANAGE_GUILD,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    Emulator,
    run_client,
)
from discord_emulator.permissions import (
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES_IN_THREADS,
    USE_APPLICATION_COMMANDS,
)
from tests.e2e.conftest import NOW
from tests.hardening.support import changed_tables, rows_of

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
NEEDED = {
    "View Channel": VIEW_CHANNEL,
    "Send Messages": SEND_MESSAGES,
    "Embed Links": EMBED_LINKS,
    "Attach Files": ATTACH_FILES,
}


def documented_permissions() -> int:
    text = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    found = re.search(r"permissions\s+integer\s+`(\d+)`", text)
    assert found, "SECURITY.md names the permissions integer"
    return int(found[1])


#: Asked for, not required of a channel (servers invited with fewer keep working): finding an
#: interrupted post and replying need the first, telling an asker in a thread the second.
RECOMMENDED = {
    "Read Message History": READ_MESSAGE_HISTORY,
    "Send Messages in Threads": SEND_MESSAGES_IN_THREADS,
}


def test_security_md_asks_for_exactly_these() -> None:
    assert documented_permissions() == sum(NEEDED.values()) + sum(RECOMMENDED.values())


async def test_the_least_permissions_are_enough_and_each_is_needed(tmp_path: Path) -> None:
    emu = Emulator()
    guild = emu.world.add_guild("Least", bot_permissions=documented_permissions())
    guild.everyone.permissions = 0  # nothing comes to the bot through @everyone
    people = guild.add_role(
        "People", VIEW_CHANNEL | SEND_MESSAGES | READ_MESSAGE_HISTORY | USE_APPLICATION_COMMANDS
    )
    general = guild.add_text_channel("general")
    mia = guild.add_member("Mia", roles=[people], permissions=MANAGE_GUILD)
    sam = guild.add_member("Sam", roles=[people])
    database = tmp_path / "cohort.sqlite3"
    settings = Settings(token=emu.bot_token, database_url=f"sqlite:///{database}")

    async with emu.running():
        bot = await create_bot(settings, clock=FrozenClock(NOW))
        async with run_client(emu, bot, wait_for_sync=True):
            await sam.slash("checkin", hours=2)
            reply = await mia.slash("settings channel", purpose="announcements", channel=general)
            assert "weekly rhythm" in reply.content, reply.content
            added = await mia.slash(
                "schedule add",
                kind="reminder",
                when="daily 13:00",
                channel=general,
                message="Reminder with the least permissions",
            )
            assert "Added schedule" in added.content, added.content
            for choice in await mia.autocomplete("schedule run", "schedule"):
                ran = await mia.slash("schedule run", schedule=choice.value)
                assert "Posted" in (await ran.wait_for_followup()).content, choice.name
            posts = [m for m in emu.messages.in_channel(general) if m.kind == "channel"]
            assert len(posts) == 4  # goal prompt, check-in prompt, summary (chart), reminder
            assert any(m.attachments for m in posts) and any(m.embeds for m in posts)
            assert any(m.buttons for m in posts)
            prompt = next(m for m in posts if "Check in" in m.button_labels())
            opened = await sam.click(prompt, "Check in")
            assert opened.modal is not None
            assert not [r for r in emu.requests if r.status == 403]

            # Take any one of them away in a channel: the bot refuses to use that channel.
            for name, bit in NEEDED.items():
                lacking = guild.add_text_channel(f"no-{bit}")
                lacking.set_permissions(guild.bot_role, deny=bit)
                before = rows_of(database, skip=("bot_state",))
                refused = await mia.slash("settings channel", purpose="checkins", channel=lacking)
                assert refused.ephemeral and name in refused.content, (name, refused.content)
                assert changed_tables(before, rows_of(database, skip=("bot_state",))) == []
