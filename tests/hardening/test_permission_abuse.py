"""Permission abuse: moderator commands by plain members, ids from another guild or member,
forged button ids, and guild commands used in DMs. Each is refused, changes nothing, and
refusals are logged.

Driven by the command tree the bot synced, so commands added later are covered too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re

import pytest

from discord_emulator import MANAGE_GUILD, CommandUnavailable, InteractionResult, PostedMessage
from tests.contract import CONTRACT, MODERATOR_GROUPS
from tests.e2e.conftest import StudyGroup
from tests.hardening.support import (
    INCIDENT,
    INTEGER,
    Leaf,
    changed_tables,
    contract_moderator_commands,
    leaves,
    open_every_command,
    rows_of,
    sqlite_path,
)
from tests.hardening.tour import Cast, answer_text, cast_of, invoke, make_cast, seed

pytestmark = pytest.mark.e2e

MODERATOR_ONLY = "Only moderators"
SECRET = "ZOESECRET"
# Written by the scheduler's own bookkeeping or at start-up, not by the commands tried here.
VOLATILE = ("bot_state",)
# Autocomplete lists anyone may see anyway: FAQ entries (`/faq list`), timezone names.
PUBLIC_LISTS = ("entry", "tz")


def tree_of(group: StudyGroup) -> dict[str, Leaf]:
    return {leaf.path: leaf for leaf in leaves(group.emu)}


def refusals_logged(caplog: pytest.LogCaptureFixture, user_id: int) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith(("bot", "cogs")) and str(user_id) in r.getMessage()
    ]


async def test_the_tables_cover_the_whole_contract(group: StudyGroup) -> None:
    """These tests walk the synced tree: it holds every command of the contract, the moderator
    ones are those the contract names, and the moderator groups are hidden by default."""
    tree = tree_of(group)
    assert sorted(tree) == sorted(CONTRACT)
    assert sorted(p for p, leaf in tree.items() if leaf.moderator) == contract_moderator_commands()
    for command in group.emu.commands.tree():
        hidden = command["default_member_permissions"] == str(MANAGE_GUILD)
        assert hidden == (command["name"] in MODERATOR_GROUPS), command["name"]


async def test_plain_members_cannot_use_any_moderator_command(
    group: StudyGroup, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    cast = cast_of(group)
    tree = tree_of(group)
    await seed(cast, tree)
    moderator_leaves = [leaf for leaf in tree.values() if leaf.moderator]
    assert moderator_leaves

    for leaf in moderator_leaves:
        if leaf.top in MODERATOR_GROUPS:  # Discord itself hides these from members
            with pytest.raises(CommandUnavailable):
                await invoke(leaf, cast, group.sam)

    open_every_command(group.emu)  # as a server admin can, in Integrations settings
    database = sqlite_path(group.database_url)
    before = rows_of(database, skip=VOLATILE)
    for leaf in moderator_leaves:
        result = await invoke(leaf, cast, group.sam)
        text = await answer_text(result)
        assert result.modal is None, f"/{leaf.path} opened a form for a plain member"
        assert result.ephemeral and MODERATOR_ONLY in text, (leaf.path, text)
        for option in leaf.autocomplete_options:
            if option["name"] in PUBLIC_LISTS:
                continue
            choices = await group.sam.autocomplete(leaf.path, option["name"], typed="")
            assert choices == [], f"/{leaf.path} {option['name']} lists moderator data"
    assert changed_tables(before, rows_of(database, skip=VOLATILE)) == []
    assert len(refusals_logged(caplog, group.sam.id)) >= len(moderator_leaves)


async def test_ids_from_another_guild_or_member_are_refused(
    group: StudyGroup, caplog: pytest.LogCaptureFixture
) -> None:
    """Every command with an id option, given an id that exists but belongs elsewhere."""
    caplog.set_level(logging.INFO)
    tree = tree_of(group)
    home = cast_of(group)
    away = make_cast(group.emu, "Elsewhere")
    await seed(home, tree)
    await seed(away, tree, marker=SECRET)
    # Something of Ada's in the same guild, for the member-owned ids.
    await seed(
        Cast(
            group.emu,
            group.guild,
            group.general,
            group.mia,
            group.ada,
            group.sam,
            home.role,
            home.victim,
        ),
        tree,
        marker=SECRET,
    )

    database = sqlite_path(group.database_url)
    tried: dict[str, int] = {}
    for leaf in tree.values():
        for option in leaf.autocomplete_options:
            if option["type"] != INTEGER:
                continue
            owners = [(away, away.moderator if leaf.moderator else away.member)]
            if not leaf.moderator:
                owners.append((home, group.ada))
            foreign = set()
            for _owner_cast, owner in owners:
                choices = await owner.autocomplete(leaf.path, option["name"], typed="")
                foreign |= {int(c.value) for c in choices}
            attacker = group.mia if leaf.moderator else group.sam
            own = {
                int(c.value)
                for c in await attacker.autocomplete(leaf.path, option["name"], typed="")
            }
            for item_id in sorted(foreign - own):
                before = rows_of(database, skip=VOLATILE)
                result = await invoke(leaf, home, attacker, {option["name"]: item_id})
                text = await answer_text(result)
                assert result.modal is None, f"/{leaf.path} opened a form on {item_id}"
                assert result.ephemeral and text and INCIDENT not in text, (leaf.path, text)
                assert SECRET not in text, f"/{leaf.path} showed someone else's data: {text}"
                assert changed_tables(before, rows_of(database, skip=VOLATILE)) == [], leaf.path
                tried[leaf.path] = tried.get(leaf.path, 0) + 1
                assert refusals_logged(caplog, attacker.id), f"/{leaf.path} refusal not logged"
    # Every id option of the tree was tried (a new one needs a seed in tour.SEEDS).
    id_commands = {
        leaf.path
        for leaf in tree.values()
        if any(o["type"] == INTEGER for o in leaf.autocomplete_options)
    }
    assert set(tried) == id_commands, sorted(id_commands - set(tried))


async def test_guild_commands_in_a_dm_get_a_clear_answer(group: StudyGroup) -> None:
    tree = tree_of(group)
    cast = cast_of(group)
    open_every_command(group.emu, in_dms=True)  # an outdated client may still offer them
    database = sqlite_path(group.database_url)
    before = rows_of(database, skip=VOLATILE)
    for leaf in tree.values():
        result = await invoke(leaf, cast, group.sam, in_dm=True)
        text = await answer_text(result)
        assert result.modal is None, f"/{leaf.path} opened a form in a DM"
        assert result.ephemeral and "inside a server" in text, (leaf.path, text)
        for option in leaf.autocomplete_options:
            choices = await group.sam.user.autocomplete(leaf.path, option["name"], typed="a")
            if option["name"] != "tz":  # timezone names are no one's data
                assert choices == [], leaf.path
    assert changed_tables(before, rows_of(database, skip=VOLATILE)) == []


# ------------------------------------------------------------------------------ buttons


def forgeries(custom_id: str, foreign_ids: list[int]) -> list[str]:
    """The same custom_id pointing elsewhere: every number in it replaced by ids that belong
    to someone else or to nothing, plus damaged shapes."""
    out = {custom_id + ":1", custom_id[:-1], custom_id + "\u200b", "cohort:" + "9" * 40}
    for match in re.finditer(r"\d+", custom_id):
        for replacement in [*map(str, foreign_ids), "0", "9" * 20, "9" * 30, "-1"]:
            out.add(custom_id[: match.start()] + replacement + custom_id[match.end() :])
    out.discard(custom_id)
    return sorted(out)


async def tour_buttons(group: StudyGroup, tree: dict[str, Leaf]) -> list[PostedMessage]:
    """Bot messages with buttons: every command run once, plus posts with study buttons."""
    cast = cast_of(group)
    await seed(cast, tree)
    for kind in ("goal-prompt", "checkin-prompt"):
        added = await group.mia.slash(
            "schedule add", kind=kind, when="mon 09:00", channel=group.general
        )
        schedule_id = int(added.content.split("**#")[1].split("**")[0])
        await (await group.mia.slash("schedule run", schedule=schedule_id)).wait_for_followup()
    for leaf in tree.values():
        if leaf.path.startswith(("schedule remove", "faq remove", "me forget")):
            continue  # keep what the others point at; /me forget is pressed below
        await answer_text(await invoke(leaf, cast))
    if "me forget" in tree:
        await answer_text(await group.sam.slash("me forget"))
    return [
        m
        for m in group.emu.messages.all()
        if m.author_id == group.emu.world.bot_user.id and m.buttons
    ]


def carrying(
    group: StudyGroup, message: PostedMessage, old: str, new: str, *, into: Cast | None = None
) -> PostedMessage:
    """A copy of the bot's `message` whose button `old` says `new` (in another server's
    channel with `into`)."""
    components = json.loads(
        json.dumps(message.components).replace(json.dumps(old), json.dumps(new))
    )
    fake = PostedMessage(
        id=group.emu.world.snowflakes.next(),
        channel_id=into.channel.id if into else message.channel_id,
        guild_id=into.guild.id if into else message.guild_id,
        author_id=message.author_id,
        content=message.content,
        embeds=message.embeds,
        components=components,
        flags=0 if into else message.flags,
        interaction_id=None if into else message.interaction_id,
        kind=message.kind,
    )
    return group.emu.publish(fake, webhook=False)


async def test_forged_and_foreign_button_ids_are_refused(
    group: StudyGroup, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    tree = tree_of(group)
    messages = await tour_buttons(group, tree)
    assert any(b.get("label") == "Check in" for m in messages for b in m.buttons)
    away = make_cast(group.emu, "Elsewhere")
    await seed(away, tree, marker=SECRET)
    foreign_ids = [away.guild.id, away.member.id, group.sam.id]

    database = sqlite_path(group.database_url)
    before = rows_of(database, skip=VOLATILE)
    clicks: list[tuple[str, InteractionResult]] = []
    for message in messages:
        owner = next(
            (r.user for r in group.emu.interactions.all if r.id == message.interaction_id), None
        )
        # Only its owner can press an ephemeral message; anyone else presses the others.
        clicker = group.guild.member(owner if message.ephemeral and owner else group.ada.user)
        for button in [b for b in message.buttons if "custom_id" in b]:
            original = button["custom_id"]
            for forged in forgeries(original, foreign_ids):
                # Each press on a copy of its own, so one press editing it cannot hide the next.
                fake = carrying(group, message, original, forged)
                clicks.append((forged, await clicker.click(fake, custom_id=forged, wait_ack=False)))
            # The genuine button carried into another server (a forwarded message).
            moved = carrying(group, message, original, original, into=away)
            clicks.append(
                (
                    f"{original} in another server",
                    await away.member.click(moved, custom_id=original, wait_ack=False),
                )
            )

    # Every press is answered or, an unknown id, never is: wait for each answer up to Discord's
    # deadline (the emulator's wait_ack raises an AssertionError once it has passed).
    async def settled(result: InteractionResult) -> None:
        with contextlib.suppress(AssertionError):
            await group.emu.interactions.wait_ack(result)

    await asyncio.gather(*(settled(result) for _, result in clicks))
    answered, problems = 0, []
    for forged, result in clicks:
        if not result.acknowledged:
            continue  # no handler matched: discord.py drops it before any Cohort code runs
        answered += 1
        text = await answer_text(result)
        if result.modal is not None:
            problems.append(f"{forged!r} opened a form")
        elif not (result.ephemeral and text) or INCIDENT in text or SECRET in text:
            problems.append(f"{forged!r}: {text!r}")
    assert not problems, "\n".join(problems)
    assert answered, "no forged button reached Cohort's handlers"
    assert changed_tables(before, rows_of(database, skip=VOLATILE)) == []
    assert refusals_logged(caplog, group.ada.id) or refusals_logged(caplog, away.member.id)
    group.emu.take_rejected_callbacks()
