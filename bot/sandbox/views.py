"""What the sandbox page shows, as JSON: the server, the commands, messages and the checklist.

Everything here reads the emulator's state; nothing talks to the bot. A person acting as a
member sees what that member would see on Discord: the server's channels, their own DMs with
the bot, and ephemeral replies only when they are theirs ("only you can see this").
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from typing import Any

from discord_emulator import Channel, Emulator, Guild, Member, PostedMessage, Upload
from discord_emulator.commands import (
    ATTACHMENT,
    BOOLEAN,
    CHANNEL,
    CHAT_INPUT,
    INTEGER,
    MENTIONABLE,
    NUMBER,
    ROLE,
    SUB_COMMAND,
    SUB_COMMAND_GROUP,
    USER,
)

Json = dict[str, Any]

CHECKLIST = (
    ("announcements", "Set the announcements channel", "/settings channel (as the moderator)"),
    ("goal", "Add a goal", "/goal add"),
    ("checkin", "Check in", "/checkin"),
    ("faq", "Ask the FAQ", "/faq ask"),
    ("summary", "Jump to Sunday's summary", "the clock: jump to the next scheduled post"),
)


class BadInput(ValueError):
    """A request from the page that cannot be carried out; the message says why."""


# -- the server and its people --------------------------------------------------------------------
def member_json(member: Member, moderator: bool) -> Json:
    return {"id": str(member.id), "name": member.name, "moderator": moderator}


def server_json(emu: Emulator, guild: Guild, moderator: Member) -> Json:
    people = [m for m in guild.members.values() if not m.user.bot and m is not guild.owner]
    people.sort(key=lambda m: (m is not moderator, m.name))
    return {
        "guild": {"id": str(guild.id), "name": guild.name},
        "bot": {"id": str(emu.world.bot_user.id), "name": emu.world.bot_user.name},
        "channels": [
            {"id": str(c.id), "name": c.name, "topic": c.topic} for c in guild.text_channels
        ],
        "members": [member_json(m, m is moderator) for m in people],
        "roles": [
            {"id": str(r.id), "name": r.name} for r in guild.roles.values() if not r.is_everyone
        ],
        "names": names(emu, guild),
    }


def names(emu: Emulator, guild: Guild) -> Json:
    """Ids to display names, for mentions in message text (<@id>, <#id>, <@&id>)."""
    return {
        "users": {str(u.id): u.name for u in emu.world.users.values()},
        "channels": {str(c.id): c.name for c in guild.channels.values()},
        "roles": {str(r.id): r.name for r in guild.roles.values()},
    }


# -- commands -------------------------------------------------------------------------------------
def commands_for(emu: Emulator, guild: Guild, member: Member) -> list[Json]:
    """The slash commands `member` may run here, flattened to "goal add" with their options."""
    registered = emu.commands.scope(None) + emu.commands.scope(guild.id)
    allowed = member.guild_permissions
    out: list[Json] = []
    for command in registered:
        needed = command.default_member_permissions
        if command.type != CHAT_INPUT or (needed is not None and allowed & needed != needed):
            continue
        out.extend(_flatten(command.name, command.data.get("description", ""), command.options))
    return sorted(out, key=lambda c: c["name"])


def _flatten(name: str, description: str, options: list[Json]) -> Iterable[Json]:
    subs = [o for o in options if o.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP)]
    if not subs:
        yield {"name": name, "description": description, "options": options}
        return
    for sub in subs:
        yield from _flatten(
            f"{name} {sub['name']}", sub.get("description", ""), list(sub.get("options") or [])
        )


def find_command(commands: list[Json], name: str) -> Json:
    for command in commands:
        if command["name"] == name:
            return command
    raise BadInput(f"/{name} is not a command you can use here.")


def convert_options(
    emu: Emulator, guild: Guild, command: Json, given: Mapping[str, Any], *, lenient: bool = False
) -> dict[str, Any]:
    """The page's values (strings from inputs) as the emulator's option values.

    Empty values are left out (Discord's client does not send optional options left blank).
    `lenient` (autocomplete while typing) drops what cannot be read yet instead of refusing.
    """
    by_name = {o["name"]: o for o in command["options"]}
    values: dict[str, Any] = {}
    for name, raw in given.items():
        option = by_name.get(name)
        if option is None:
            raise BadInput(f"/{command['name']} has no option `{name}`.")
        if raw is None or raw == "":
            continue
        try:
            values[name] = _convert(emu, guild, option["type"], raw)
        except (BadInput, ValueError, KeyError, binascii.Error) as exc:
            if lenient:
                continue
            raise BadInput(f"`{name}`: {exc}") from None
    return values


def _convert(emu: Emulator, guild: Guild, kind: int, raw: Any) -> Any:
    if kind == INTEGER:
        return int(str(raw).strip())
    if kind == NUMBER:
        return float(str(raw).strip())
    if kind == BOOLEAN:
        if str(raw).lower() not in ("true", "false"):
            raise BadInput("choose true or false")
        return str(raw).lower() == "true"
    if kind in (USER, MENTIONABLE) and int(raw) in guild.members:
        return guild.members[int(raw)]
    if kind in (ROLE, MENTIONABLE) and int(raw) in guild.roles:
        return guild.roles[int(raw)]
    if kind == CHANNEL:
        channel = emu.world.channel(int(raw))
        if channel is None or channel.guild is not guild:
            raise BadInput("not a channel of this server")
        return channel
    if kind == ATTACHMENT:
        if not isinstance(raw, Mapping) or not raw.get("filename"):
            raise BadInput("choose a file")
        return Upload(str(raw["filename"]), base64.b64decode(str(raw.get("data", ""))))
    if kind in (USER, ROLE, MENTIONABLE):
        raise BadInput("not someone in this server")
    return str(raw)


# -- messages -------------------------------------------------------------------------------------
def visible_to(message: PostedMessage, user_id: int, dm: Channel | None) -> bool:
    if message.deleted:
        return False
    if message.guild_id is None:
        return dm is not None and message.channel_id == dm.id
    if not message.ephemeral:
        return True
    meta = message.interaction_metadata or {}
    return str((meta.get("user") or {}).get("id")) == str(user_id)


def command_used(emu: Emulator, meta: Json) -> str | None:
    """The full name ("faq ask") of the command a reply answers, as Discord's client shows it."""
    name = meta.get("name")
    if not name:
        return None
    interaction_id = str(meta.get("id", ""))
    result = emu.interactions.by_id.get(int(interaction_id)) if interaction_id.isdecimal() else None
    words = [str(name)]
    options = ((result.payload.get("data") or {}).get("options") or []) if result else []
    while options and options[0].get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP):
        words.append(str(options[0]["name"]))
        options = options[0].get("options") or []
    return " ".join(words)


def message_json(emu: Emulator, message: PostedMessage) -> Json:
    author = emu.world.users.get(message.author_id)
    meta = message.interaction_metadata or {}
    user_id = str((meta.get("user") or {}).get("id", ""))
    user = emu.world.users.get(int(user_id)) if user_id.isdecimal() else None
    used = command_used(emu, meta)
    return {
        "id": str(message.id),
        "channel_id": str(message.channel_id),
        "dm": message.guild_id is None,
        "author": {
            "id": str(message.author_id),
            "name": author.name if author else "unknown",
            "bot": bool(author and author.bot),
        },
        "content": message.content,
        "embeds": message.embeds,
        "components": message.components,
        "attachments": [
            {
                "filename": a.filename,
                "content_type": a.content_type or "",
                "size": a.size,
                "url": f"/api/attachments/{message.id}/{index}",
                "description": a.description,
            }
            for index, a in enumerate(message.attachments)
        ],
        "ephemeral": message.ephemeral,
        "loading": message.loading,
        "edited": message.edited_at is not None,
        "created_at": message.created_at.isoformat(),
        "interaction": {"name": used, "user": user.name if user else None} if used else None,
    }


def messages_for(emu: Emulator, member: Member) -> list[Json]:
    dm = emu.world.dm_channel(member.user)
    ordered = sorted(emu.messages.all(), key=lambda m: m.id)
    return [message_json(emu, m) for m in ordered if visible_to(m, member.id, dm)]


def fingerprint(emu: Emulator) -> tuple[int, ...]:
    """Changes whenever something the page shows changed (new, edited, deleted, filled in)."""
    messages = emu.messages.all(include_deleted=True)
    return (
        len(messages),
        sum(len(m.edits) for m in messages),
        sum(m.deleted for m in messages),
        sum(m.loading for m in messages),
        emu.sync_calls,
    )


# -- the guided first minute ----------------------------------------------------------------------
def checklist(emu: Emulator, asked_faq: bool) -> list[Json]:
    """Each step ticks once what it asks for happened, as seen in what the bot said."""
    said = [m for m in emu.messages.by_bot() if not m.deleted]
    done = {
        "announcements": any("Announcements will be posted in" in m.content for m in said),
        "goal": any(m.content.startswith("Added to your goals") for m in said),
        "checkin": any(
            "Checked in for" in m.content or "Updated your check-in" in m.content for m in said
        ),
        "faq": asked_faq,
        "summary": any(
            m.kind == "channel"
            and any(str(e.get("title", "")).endswith(" in numbers") for e in m.embeds)
            for m in said
        ),
    }
    return [
        {"key": key, "label": label, "hint": hint, "done": done[key]}
        for key, label, hint in CHECKLIST
    ]
