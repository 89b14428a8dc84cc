"""Running any command of the synced tree with plausible values, as a given person.

`Cast` is a small guild (a moderator, a member, a bystander, a role, a channel, and a
member who is only ever named in hostile text). `invoke`
fills every required option the test did not give with a valid sample of its type, so a
table of commands can be driven without knowing each command. `SEEDS` create something for
the id options (goals, schedules, FAQ entries and questions, submissions, course modules) when
those commands exist.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from discord_emulator import (
    MANAGE_GUILD,
    Channel,
    Emulator,
    Guild,
    InteractionResult,
    Member,
    PostedMessage,
    Role,
    Upload,
)
from tests.e2e.conftest import StudyGroup
from tests.hardening.support import (
    ATTACHMENT,
    BOOLEAN,
    CHANNEL,
    INTEGER,
    MENTIONABLE,
    NUMBER,
    ROLE,
    STRING,
    USER,
    Leaf,
)

FAQ_EXPORT = {
    "version": 1,
    "entries": [
        {
            "question": "How long does the certificate take?",
            "answer": "About seven to eight months at five to seven hours a week.",
            "aliases": ["duration"],
        }
    ],
}

# Valid values for text options, by option name (anything else gets "hello").
TEXT_SAMPLES = {
    "text": "Read chapter 2",
    "when": "daily 13:00",
    "message": "Weekly call at six",
    "tz": "Europe/Berlin",
    "question": "How do I submit the graded assignment?",
    "answer": "Open the assignment page and press Submit.",
    "aliases": "submit, hand in",
    "link": "https://github.com/example/little-lemon",
    "title": "Little Lemon API",
    "note": "Please check the serializers",
    "feedback": "Clear code, add tests",
    "done": "Watched module 3",
    "next": "Quiz 3",
    "blockers": "Docker on Windows",
}


@dataclass
class Cast:
    emu: Emulator
    guild: Guild
    channel: Channel
    moderator: Member
    member: Member
    bystander: Member
    role: Role
    victim: Member  # only ever named in hostile text: must never be notified


def make_cast(emu: Emulator, name: str) -> Cast:
    guild = emu.world.add_guild(name)
    channel = guild.add_text_channel("general")
    return Cast(
        emu,
        guild,
        channel,
        guild.add_member(f"{name} moderator", permissions=MANAGE_GUILD),
        guild.add_member(f"{name} member"),
        guild.add_member(f"{name} bystander"),
        guild.add_role(f"{name} learners"),  # not mentionable
        guild.add_member(f"{name} victim"),
    )


def cast_of(group: StudyGroup) -> Cast:
    """The `group` fixture's server as a cast (Mia moderates, Sam acts, Ada looks on)."""
    return Cast(
        group.emu,
        group.guild,
        group.general,
        group.mia,
        group.sam,
        group.ada,
        group.guild.add_role("Learners"),
        group.guild.add_member("Vic"),
    )


def actor_for(leaf: Leaf, cast: Cast) -> Member:
    return cast.moderator if leaf.moderator else cast.member


async def sample(option: Mapping[str, Any], leaf: Leaf, cast: Cast, actor: Member) -> Any:
    kind = option["type"]
    if option.get("choices"):
        return option["choices"][0]["value"]
    if option.get("autocomplete") and kind != STRING:
        # An id of something this guild has (the moderator sees moderator lists).
        for who in (actor, cast.moderator):
            choices = await who.autocomplete(leaf.path, option["name"], typed="")
            if choices:
                return choices[0].value
        return 1
    if kind == STRING:
        return TEXT_SAMPLES.get(option["name"], "hello")
    if kind == INTEGER:
        return int(option.get("min_value") or 1)
    if kind == NUMBER:
        return float(option.get("min_value") or 1.0)
    if kind == BOOLEAN:
        return True
    if kind in (USER, MENTIONABLE):
        return cast.bystander
    if kind == CHANNEL:
        return cast.channel
    if kind == ROLE:
        return cast.role
    if kind == ATTACHMENT:
        return Upload("faq.json", json.dumps(FAQ_EXPORT).encode(), "application/json")
    raise AssertionError(f"no sample for option type {kind} of /{leaf.path}")


async def invoke(
    leaf: Leaf,
    cast: Cast,
    actor: Member | None = None,
    given: Mapping[str, Any] | None = None,
    *,
    in_dm: bool = False,
    optional_text: bool = False,
) -> InteractionResult:
    """Run `leaf` with `given` plus a sample for every other required option (and with
    `optional_text`, for the optional text options too: a reminder needs its message before
    its `when` is even read)."""
    actor = actor or actor_for(leaf, cast)
    values = dict(given or {})
    for option in leaf.options:
        wanted = option.get("required") or (
            optional_text and option["type"] == STRING and option["name"] in TEXT_SAMPLES
        )
        if wanted and option["name"] not in values:
            values[option["name"]] = await sample(option, leaf, cast, actor)
    where = actor.user if in_dm else actor
    return await where.slash(leaf.path, options=values)


async def answer_of(result: InteractionResult, timeout: float = 5.0) -> list[PostedMessage]:
    """The messages that make up the bot's answer (the response and, after a deferral, its
    first follow-up)."""
    if result.is_modal or result.choices is not None:
        return []
    if result.deferred and result.original is not None and result.original.loading:
        await result.wait_until(
            lambda r: r.original is not None and not r.original.loading, timeout=timeout
        )
    found: dict[int, PostedMessage] = {}
    for message in (result.original, *result.followup_messages):
        if message is not None:
            found.setdefault(message.id, message)  # a first follow-up can be the original
    return list(found.values())


async def answer_text(result: InteractionResult) -> str:
    return "\n".join(m.text() for m in await answer_of(result))


# -- things for id options to point at -----------------------------------------------------


@dataclass(frozen=True)
class Seed:
    path: str
    who: str  # "member", "moderator" or "bystander"
    values: Mapping[str, Any]


SEEDS = (
    Seed("goal add", "member", {"text": "{marker} goal"}),
    Seed(
        "schedule add",
        "moderator",
        {"kind": "reminder", "when": "daily 13:00", "message": "{marker}"},
    ),
    Seed("faq add", "moderator", {"question": "{marker} how long does the course take?"}),
    # Off-topic for every ranking (it must reach the moderators' queue).
    Seed("faq ask", "member", {"question": "{marker} can I bring my dog to the meetup?"}),
    # Two submissions and a pairing (posted in the reviews channel): the member owes a review.
    Seed("settings channel", "moderator", {"purpose": "reviews"}),
    Seed("review submit", "member", {"title": "{marker} project"}),
    Seed(
        "review submit",
        "bystander",
        {"link": "https://github.com/example/other-app", "title": "{marker} other project"},
    ),
    Seed("review pair", "moderator", {}),
    # A course, the member's plan through it and a finished module (the module options).
    Seed("plan import", "moderator", {"pack": "meta-back-end"}),
    Seed("plan start", "member", {"course": "meta-back-end", "hours": 6}),
    Seed("plan done", "member", {}),
)


async def seed(cast: Cast, tree: Mapping[str, Leaf], marker: str = "Seeded") -> list[str]:
    """Create one of each thing the id options refer to (for the commands that exist); their
    texts carry `marker`, so a test can tell whether they leak."""
    done = []
    for item in SEEDS:
        leaf = tree.get(item.path)
        if leaf is None:
            continue
        who = {"member": cast.member, "moderator": cast.moderator, "bystander": cast.bystander}[
            item.who
        ]
        values = {
            k: v.replace("{marker}", marker) if isinstance(v, str) else v
            for k, v in item.values.items()
        }
        result = await invoke(leaf, cast, who, values)
        await answer_of(result)
        done.append(item.path)
    return done
