"""Hostile input in every text option, form field and autocomplete of the synced tree.

Each hostile value runs in a guild of its own (so per-member and per-guild limits never hide
a case). What Discord itself refuses (lengths outside the registered limits) must be refused
by Discord; everything else gets an answer within 3 s that is either a clear error or safe
output, never an incident. Afterwards: no message the bot sent could ping anyone, and the
database schema is exactly what it was.
"""

from __future__ import annotations

import asyncio
import json
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from discord_emulator import CommandUnavailable, InteractionResult, Upload
from tests.e2e.conftest import StudyGroup
from tests.hardening.support import (
    ATTACHMENT,
    INCIDENT,
    INTEGER,
    NUMBER,
    STRING,
    Leaf,
    assert_no_ping_escaped,
    integrity,
    leaves,
    schema_of,
    sqlite_path,
)
from tests.hardening.tour import (
    Cast,
    actor_for,
    answer_of,
    answer_text,
    cast_of,
    invoke,
    make_cast,
    seed,
)

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Hostile:
    name: str
    make: Callable[[Cast, int | None], str]  # (cast, the option's max length) -> value
    markup: bool = False  # shown raw, it would change how the bot's reply renders


def fixed(text: str) -> Callable[[Cast, int | None], str]:
    return lambda _cast, _limit: text


HOSTILE = (
    Hostile("empty", fixed("")),
    Hostile("whitespace", fixed("  \t \n ")),
    Hostile("one character", fixed("x")),
    Hostile("at the limit", lambda _c, limit: "m" * (limit or 100)),
    Hostile("one over the limit", lambda _c, limit: "m" * ((limit or 100) + 1)),
    Hostile("10,000 characters", fixed("y" * 10_000)),
    Hostile("zero-width", fixed("\u200b\u200c\u200d\u2060\ufeff")),
    Hostile("right-to-left", fixed("\u202egnp.exe\u202c \u2067שלום\u2069 مرحبا")),
    Hostile(
        "markdown",
        fixed("**bold** __under__ ~~gone~~ ||spoiler|| [click](https://evil.example) # big"),
        markup=True,
    ),
    Hostile("code block breakout", fixed("```\n@everyone\n```\n**out**"), markup=True),
    Hostile("inline code breakout", fixed("`` ` `` **x**"), markup=True),
    Hostile("everyone", fixed("@everyone")),
    Hostile("here", fixed("@here read this")),
    Hostile("role mention", lambda c, _l: f"<@&{c.role.id}> ping"),
    Hostile("user mention", lambda c, _l: f"<@{c.victim.id}> <@!{c.victim.id}>"),
    Hostile("sql", fixed("'); DROP TABLE goals; --")),
    Hostile("sql or", fixed('" OR 1=1; DELETE FROM checkins; --')),
    Hostile("percent", fixed("%")),
    Hostile("underscore", fixed("_")),
    Hostile("like pattern", fixed("%_%\\")),
    Hostile("format string", fixed("{0} {text!r} %s %(x)s {{}}")),
    Hostile("emoji", fixed("🎯" * 40)),
)


# Commands whose answer is public (README.md, Commands); everything else answers privately.
PUBLIC_ANSWERS = ("faq ask",)


def refused_by_discord(option: dict[str, object], value: str) -> bool:
    low, high = option.get("min_length"), option.get("max_length")
    return (isinstance(low, int) and len(value) < low) or (
        isinstance(high, int) and len(value) > high
    )


async def outcome(result: InteractionResult) -> str:
    if result.modal is not None:
        return "(a form)"
    return await answer_text(result)


async def rendered(result: InteractionResult) -> str:
    """The parts of the answer where Discord renders markdown (not embed footers)."""
    parts = []
    for message in await answer_of(result):
        parts.append(message.content)
        for embed in message.embeds:
            parts += [embed.get("title") or "", embed.get("description") or ""]
            parts += [f"{f.get('name')}\n{f.get('value')}" for f in embed.get("fields") or []]
    return "\n".join(parts)


async def check_answer(
    where: str, hostile: Hostile, value: str, result: InteractionResult, leaf: Leaf
) -> list[str]:
    problems = []
    text = await outcome(result)
    if INCIDENT in text:
        problems.append(f"{where}: unexpected error: {text}")
    if result.modal is None and not text:
        problems.append(f"{where}: empty answer")
    if result.modal is None and not result.ephemeral and leaf.path not in PUBLIC_ANSWERS:
        problems.append(f"{where}: answered in public: {text[:200]!r}")
    shown = await rendered(result)
    if hostile.markup and not leaf.moderator and value.strip() in shown:
        problems.append(f"{where}: member text shown unescaped: {shown[:200]!r}")
    return problems


async def try_every_text_option(
    cast: Cast, tree: dict[str, Leaf], hostile: Hostile
) -> tuple[list[str], int]:
    problems, tried = [], 0
    # Members first: what moderators write (FAQ answers, reminders) is theirs to format.
    for leaf in sorted(tree.values(), key=lambda leaf: (leaf.moderator, leaf.path)):
        for option in leaf.text_options:
            value = hostile.make(cast, option.get("max_length"))
            where = f"/{leaf.path} {option['name']}={hostile.name}"
            try:
                result = await invoke(
                    leaf, cast, actor_for(leaf, cast), {option["name"]: value}, optional_text=True
                )
            except CommandUnavailable:
                if not refused_by_discord(option, value):
                    problems.append(f"{where}: refused before reaching the bot")
                continue
            tried += 1
            if refused_by_discord(option, value):
                problems.append(f"{where}: Discord would have refused this")
            problems += await check_answer(where, hostile, value, result, leaf)
    return problems, tried


async def forms_of(cast: Cast, tree: dict[str, Leaf]) -> list[Leaf]:
    """The commands that answer with a form when run with their required options only."""
    found = []
    for leaf in tree.values():
        opened = await invoke(leaf, cast)
        if opened.modal is not None:
            found.append(leaf)
        else:
            await outcome(opened)
    return found


async def try_every_form(cast: Cast, forms: list[Leaf], hostile: Hostile) -> tuple[list[str], int]:
    """Each text field of each form (e.g. /checkin without options)."""
    problems, tried = [], 0
    for leaf in forms:
        actor = actor_for(leaf, cast)
        fields = (await invoke(leaf, cast)).modal
        assert fields is not None
        for field in [f for f in fields.fields if f.type == 4]:
            value = hostile.make(cast, field.max_length)
            form = (await invoke(leaf, cast)).modal
            assert form is not None
            # Field ids differ between two openings of a form; labels do not.
            values = {
                str(f.label): f.value or f.placeholder or "2"
                for f in form.fields
                if f.required and f.label != field.label
            }
            values[str(field.label)] = value
            where = f"/{leaf.path} form {field.label!r}={hostile.name}"
            try:
                result = await actor.submit_modal(form, values)
            except CommandUnavailable:
                raise
            except AssertionError as refused:  # Discord's client refuses the form
                if "characters" not in str(refused) and "required" not in str(refused):
                    raise
                continue
            tried += 1
            problems += await check_answer(where, hostile, value, result, leaf)
    return problems, tried


async def test_hostile_text_everywhere(group: StudyGroup) -> None:
    emu = group.emu
    tree = {leaf.path: leaf for leaf in leaves(emu)}
    assert any(leaf.text_options for leaf in tree.values())
    database = sqlite_path(group.database_url)
    schema = schema_of(database)

    forms = await forms_of(make_cast(emu, "Forms"), tree)
    assert "checkin" in [leaf.path for leaf in forms]
    actors: set[int] = set()

    async def run(index: int, hostile: Hostile) -> tuple[list[str], int]:
        cast = make_cast(emu, f"Hostile {index}")
        actors.update((cast.member.id, cast.moderator.id, cast.bystander.id))
        await seed(cast, tree)
        found, tried = await try_every_text_option(cast, tree, hostile)
        in_forms, tried_forms = await try_every_form(cast, forms, hostile)
        return found + in_forms, tried + tried_forms

    slots = asyncio.Semaphore(4)

    async def limited(index: int, hostile: Hostile) -> tuple[list[str], int]:
        async with slots:
            return await run(index, hostile)

    results = await asyncio.gather(*(limited(i, h) for i, h in enumerate(HOSTILE)))
    problems = [p for found, _ in results for p in found]
    assert not problems, "\n".join(problems)
    assert sum(tried for _, tried in results) > 100
    # The bot may address the people who used it (a FAQ asker told of an answer, reviewers
    # of a pairing); the member and role named in hostile text are never notified.
    assert_no_ping_escaped(emu, users=frozenset(actors))
    assert schema_of(database) == schema
    assert integrity(database) == "ok"


# Discord lets an integer or number option carry anything in ±(2^53 - 1) unless the command
# registered a range; an autocomplete option takes any value typed, not just a suggestion.
EXTREME_NUMBERS = (0, -1, 2**53 - 1, -(2**53 - 1), 10**15)


async def test_hostile_numbers_everywhere(group: StudyGroup) -> None:
    tree = {leaf.path: leaf for leaf in leaves(group.emu)}
    cast = make_cast(group.emu, "Numbers")
    await seed(cast, tree)
    database = sqlite_path(group.database_url)
    schema = schema_of(database)
    problems, tried = [], 0
    for leaf in sorted(tree.values(), key=lambda leaf: (leaf.moderator, leaf.path)):
        for option in leaf.options:
            if option["type"] not in (INTEGER, NUMBER) or option.get("choices"):
                continue
            values = [*EXTREME_NUMBERS, 0.0001] if option["type"] == NUMBER else EXTREME_NUMBERS
            for value in values:
                low, high = option.get("min_value"), option.get("max_value")
                outside = (low is not None and value < low) or (high is not None and value > high)
                where = f"/{leaf.path} {option['name']}={value}"
                try:
                    result = await invoke(leaf, cast, given={option["name"]: value})
                except CommandUnavailable:
                    if not outside:
                        problems.append(f"{where}: refused before reaching the bot")
                    continue
                tried += 1
                text = await outcome(result)
                if INCIDENT in text or (result.modal is None and not text):
                    problems.append(f"{where}: {text[:200]!r}")
    assert not problems, "\n".join(problems)
    assert tried >= 20
    assert schema_of(database) == schema
    assert_no_ping_escaped(group.emu, users=frozenset({cast.member.id, cast.bystander.id}))


HOSTILE_FILES = (
    Upload("empty.json", b""),
    Upload("binary.json", bytes(range(256))),
    Upload("deep.json", b"[" * 100_000),
    Upload("huge.json", b'{"version": 1, "entries": [' + b" " * 1_100_000 + b"]}"),
    Upload("export.txt", b'{"version": 1}'),
    Upload("utf16.json", '{"version": 1, "entries": []}'.encode("utf-16")),
    Upload(
        "mentions.json",
        json.dumps(
            {"version": 1, "entries": [{"question": "@everyone <@&1> ```", "answer": "@here"}]}
        ).encode(),
    ),
)


async def test_hostile_files_in_every_attachment_option(group: StudyGroup) -> None:
    tree = {leaf.path: leaf for leaf in leaves(group.emu)}
    cast = make_cast(group.emu, "Files")
    attachment_options = [
        (leaf, o) for leaf in tree.values() for o in leaf.options if o["type"] == ATTACHMENT
    ]
    assert attachment_options
    problems = []
    for leaf, option in attachment_options:
        for upload in HOSTILE_FILES:
            result = await invoke(leaf, cast, given={option["name"]: upload})
            text = await outcome(result)
            if INCIDENT in text or not text or not result.ephemeral:
                problems.append(f"/{leaf.path} {upload.filename}: {text[:200]!r}")
    assert not problems, "\n".join(problems)
    assert_no_ping_escaped(group.emu)


async def test_every_text_input_has_a_length_limit(group: StudyGroup) -> None:
    tree = {leaf.path: leaf for leaf in leaves(group.emu)}
    unlimited = [
        f"/{leaf.path} {o['name']}"
        for leaf in tree.values()
        for o in leaf.text_options
        if not o.get("max_length") or o["max_length"] > 4000
    ]
    assert unlimited == []
    cast = cast_of(group)
    for leaf in tree.values():
        opened = await invoke(leaf, cast)
        if opened.modal is not None:
            for field in opened.modal.fields:
                assert field.type != 4 or field.max_length, (leaf.path, field.label)
        else:
            await outcome(opened)


HOSTILE_SEARCHES = ("%", "_", "%%", "_%", "\\", "'", '"; --', "\u200b", "🎯", "x" * 100)


async def test_hostile_autocomplete_reveals_nothing_more(group: StudyGroup) -> None:
    """Whatever is typed, every autocomplete answers a valid list for Discord, and % or _
    (wildcards to SQL LIKE) never show more than typing nothing does."""
    tree = {leaf.path: leaf for leaf in leaves(group.emu)}
    cast = cast_of(group)
    await seed(cast, tree)
    zones = zoneinfo.available_timezones() | {"UTC", "reset"}
    checked = 0
    for leaf in tree.values():
        for option in leaf.autocomplete_options:
            actor = actor_for(leaf, cast)
            blank = await actor.autocomplete(leaf.path, option["name"], typed="")
            for typed in HOSTILE_SEARCHES:
                choices = await actor.autocomplete(leaf.path, option["name"], typed=typed)
                checked += 1
                assert len(choices) <= 25
                for choice in choices:
                    assert 1 <= len(choice.name) <= 100, (leaf.path, choice)
                    kind = int if option["type"] == INTEGER else str
                    assert isinstance(choice.value, kind), (leaf.path, choice)
                if option["type"] == STRING and option["name"] == "tz":
                    assert {c.value for c in choices} <= zones, (leaf.path, typed, choices)
                elif typed in ("%", "_", "%%", "_%", "\\"):
                    assert set(choices) <= set(blank), (leaf.path, option["name"], typed)
    assert checked >= len(HOSTILE_SEARCHES) * 4


async def test_sql_and_wildcards_are_stored_and_shown_literally(group: StudyGroup) -> None:
    database = sqlite_path(group.database_url)
    schema = schema_of(database)
    for text in ("'); DROP TABLE goals; --", "100% done_ok", "**not bold** @everyone"):
        added = await group.sam.slash("goal add", text=text)
        assert added.ephemeral and INCIDENT not in added.content
    listed = (await group.sam.slash("goal list")).embed["description"]
    assert "'); DROP TABLE goals; --" in listed
    assert "100% done\\_ok" in listed  # markdown-escaped, otherwise exactly as typed
    assert "\\*\\*not bold\\*\\*" in listed and "@everyone" not in listed
    (pct,) = await group.sam.autocomplete("goal done", "goal", typed="%")
    assert pct.name.endswith("100% done_ok")
    assert len(await group.sam.autocomplete("goal done", "goal", typed="_")) == 1
    assert schema_of(database) == schema
    group.emu.messages.assert_nobody_pinged()


async def test_a_moderators_reminder_pings_nobody_it_should_not(group: StudyGroup) -> None:
    """Public posts carry moderator text as written: mentions in it are filtered all the
    same (a role only when it is mentionable, never @everyone or members)."""
    quiet = group.guild.add_role("Quiet")  # not mentionable
    loud = group.guild.add_role("Learners", mentionable=True)
    text = f"@everyone @here <@{group.sam.id}> <@&{quiet.id}> <@&{loud.id}> ```\n@everyone"
    added = await group.mia.slash(
        "schedule add", kind="reminder", when="daily 13:00", channel=group.general, message=text
    )
    schedule_id = int(added.content.split("**#")[1].split("**")[0])
    await (await group.mia.slash("schedule run", schedule=schedule_id)).wait_for_followup()
    (post,) = group.posts(group.general)
    assert post.pings.roles == {loud.id} and not post.pings.users and not post.pings.everyone
    assert_no_ping_escaped(group.emu, roles=frozenset({loud.id}))
