"""The emulated Discord state: users, guilds, roles, channels, members, and their JSON shapes.

Everything here is plain data plus the JSON Discord would send for it. Changes made while the
emulator runs (a member leaves, a channel is deleted …) are announced to the bot through the
gateway, like Discord does, via the `_emit` hook the emulator installs.
"""

from __future__ import annotations

import itertools
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from . import permissions as perms
from .actors import Actor
from .permissions import Overwrite

if TYPE_CHECKING:
    from .server import Emulator

Json = dict[str, Any]

DISCORD_EPOCH_MS = 1_420_070_400_000

# Channel types we model (https://discord.com/developers/docs/resources/channel#channel-object).
GUILD_TEXT = 0
DM = 1
GUILD_VOICE = 2
GUILD_CATEGORY = 4
GUILD_ANNOUNCEMENT = 5
ANNOUNCEMENT_THREAD = 10
PUBLIC_THREAD = 11
PRIVATE_THREAD = 12
GUILD_FORUM = 15
THREAD_TYPES = (ANNOUNCEMENT_THREAD, PUBLIC_THREAD, PRIVATE_THREAD)


class Snowflakes:
    """Discord-shaped ids: milliseconds since the Discord epoch, worker, increment."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = 0
        self._increment = 0

    def next(self) -> int:
        with self._lock:
            ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
            if ms <= self._last_ms:
                ms = self._last_ms
                self._increment += 1
                if self._increment >= 4096:
                    ms += 1
                    self._increment = 0
            else:
                self._increment = 0
            self._last_ms = ms
            return (ms << 22) | (1 << 17) | self._increment

    def next_on_shard(self, shard_id: int, shard_count: int) -> int:
        """A new id of a guild Discord would route to this shard (``(id >> 22) % count``)."""
        with self._lock:
            ms = max(int(time.time() * 1000) - DISCORD_EPOCH_MS, self._last_ms + 1)
            ms += (shard_id - ms) % shard_count
            self._last_ms, self._increment = ms, 0
            return (ms << 22) | (1 << 17)


def snowflake_time(snowflake: int) -> datetime:
    return datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, tz=UTC)


def iso(dt: datetime) -> str:
    """Discord's timestamp format (ISO 8601 with microseconds and +00:00)."""
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


def _username(name: str) -> str:
    return re.sub(r"[^a-z0-9_.]", "", name.lower().replace(" ", "_"))[:32] or "user"


@dataclass(eq=False)
class User(Actor):
    """A Discord account. Outside a guild it acts in its DM with the bot."""

    world: World = field(repr=False)
    id: int
    name: str
    bot: bool = False
    dms_open: bool = True
    locale: str = "en-US"

    @property
    def user(self) -> User:
        return self

    def _acting_user(self) -> User:
        return self

    def _acting_world(self) -> World:
        return self.world

    @property
    def username(self) -> str:
        return _username(self.name)

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def to_json(self) -> Json:
        data: Json = {
            "id": str(self.id),
            "username": self.username,
            "global_name": None if self.bot else self.name,
            "discriminator": "0",
            "avatar": None,
            "avatar_decoration_data": None,
            "collectibles": None,
            "primary_guild": None,
            "banner": None,
            "accent_color": None,
            "public_flags": 0,
            "flags": 0,
        }
        if self.bot:
            data["bot"] = True
        return data

    def memberships(self) -> list[Member]:
        return [g.members[self.id] for g in self.world.guilds.values() if self.id in g.members]

    def __hash__(self) -> int:
        return hash(self.id)


@dataclass(eq=False)
class Role:
    guild: Guild = field(repr=False)
    id: int
    name: str
    permissions: int = 0
    color: int = 0
    hoist: bool = False
    mentionable: bool = False
    position: int = 0
    managed: bool = False
    bot_id: int | None = None

    @property
    def mention(self) -> str:
        return "@everyone" if self.id == self.guild.id else f"<@&{self.id}>"

    @property
    def is_everyone(self) -> bool:
        return self.id == self.guild.id

    def to_json(self) -> Json:
        data: Json = {
            "id": str(self.id),
            "name": self.name,
            "description": None,
            "color": self.color,
            "colors": {
                "primary_color": self.color,
                "secondary_color": None,
                "tertiary_color": None,
            },
            "hoist": self.hoist,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data


@dataclass(eq=False)
class Channel:
    world: World = field(repr=False)
    id: int
    type: int
    name: str | None
    guild: Guild | None = field(default=None, repr=False)
    position: int = 0
    topic: str | None = None
    parent_id: int | None = None
    nsfw: bool = False
    overwrites: dict[tuple[int, int], Overwrite] = field(default_factory=dict, repr=False)
    recipient: User | None = field(default=None, repr=False)
    last_message_id: int | None = None
    pinned: list[int] = field(default_factory=list, repr=False)
    # Threads (and forum posts, which are threads of a forum channel).
    owner_id: int | None = None
    archived: bool = False
    locked: bool = False
    thread_members: set[int] = field(default_factory=set, repr=False)

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    @property
    def is_dm(self) -> bool:
        return self.type == DM

    @property
    def is_thread(self) -> bool:
        return self.type in THREAD_TYPES

    @property
    def parent(self) -> Channel | None:
        return self.world.channels.get(self.parent_id) if self.parent_id else None

    def add_thread(
        self, name: str, *, by: Member, private: bool = False, message: str | None = None
    ) -> Channel:
        """A thread in this text channel (a forum post in a forum channel: `message` is its
        first message, posted by `by`). Announced as THREAD_CREATE when running."""
        assert self.guild is not None and not self.is_thread, "threads live in guild channels"
        if self.type == GUILD_FORUM:
            assert not private, "forum posts are public threads"
            message = message or name
        thread_type = PRIVATE_THREAD if private else PUBLIC_THREAD
        if self.type == GUILD_ANNOUNCEMENT:
            thread_type = ANNOUNCEMENT_THREAD
        thread = Channel(
            self.world, self.world.snowflakes.next(), thread_type, name, guild=self.guild,
            parent_id=self.id, owner_id=by.id, thread_members={by.id},
        )  # fmt: skip
        self.guild.threads[thread.id] = thread
        self.world.channels[thread.id] = thread
        if thread.permissions_for(self.guild.bot_member) & perms.VIEW_CHANNEL:
            # Discord tells only those who can see it (a private thread: its members).
            created = {**thread.to_json(), "newly_created": True}
            self.world._emit("THREAD_CREATE", created, self.guild.id)
        if message is not None:
            from .messages import PostedMessage

            # A forum post's first message has the thread's id.
            starter = PostedMessage(
                id=thread.id, channel_id=thread.id, guild_id=self.guild.id, author_id=by.id,
                content=message, kind="user",
            )  # fmt: skip
            self.world.emulator.publish(starter, webhook=False)
        return thread

    def archive(self, *, locked: bool = False) -> Channel:
        """Archive a thread (locked: only members with Manage Threads may unarchive it)."""
        assert self.is_thread and self.guild is not None
        self.archived, self.locked = True, locked
        self.world._emit("THREAD_UPDATE", self.to_json(), self.guild.id)
        return self

    def set_permissions(
        self, target: Role | Member | User, *, allow: int = 0, deny: int = 0
    ) -> Channel:
        """Add or replace a permission overwrite (announced as CHANNEL_UPDATE when running)."""
        kind = 0 if isinstance(target, Role) else 1
        self.overwrites[(kind, target.id)] = Overwrite(target.id, kind, allow, deny)
        if self.guild is not None:
            self.world._emit("CHANNEL_UPDATE", self.to_json(), self.guild.id)
        return self

    def permissions_for(self, who: Member | User) -> int:
        """What Discord would put in `permissions` for this user in this channel."""
        if self.guild is None:
            return perms.DM_PERMISSIONS
        member = who if isinstance(who, Member) else self.guild.members.get(who.id)
        if member is None:
            return 0
        parent = self.parent if self.is_thread else None
        if parent is not None:
            # A thread has the permissions of its parent channel; a private thread is seen
            # only by its members and those who may manage threads.
            granted = parent.permissions_for(member)
            if (
                self.type == PRIVATE_THREAD
                and member.id not in self.thread_members
                and not granted & perms.MANAGE_THREADS
            ):
                return 0
            return granted
        return perms.channel_permissions(
            member.guild_permissions,
            guild_id=self.guild.id,
            member_id=member.id,
            member_role_ids=[r.id for r in member.roles],
            overwrites=self.overwrites,
        )

    def to_json(self, *, for_user: Member | User | None = None) -> Json:
        if self.type == DM:
            assert self.recipient is not None
            return {
                "id": str(self.id),
                "type": DM,
                "last_message_id": str(self.last_message_id) if self.last_message_id else None,
                "flags": 0,
                "recipients": [self.recipient.to_json()],
            }
        assert self.guild is not None
        data: Json = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild.id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [o.to_json() for o in self.overwrites.values()],
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "nsfw": self.nsfw,
            "flags": 0,
        }
        if self.type in (GUILD_TEXT, GUILD_ANNOUNCEMENT, GUILD_FORUM):
            data.update(
                topic=self.topic,
                last_message_id=str(self.last_message_id) if self.last_message_id else None,
                rate_limit_per_user=0,
                last_pin_timestamp=None,
            )
        if self.type == GUILD_FORUM:
            data.update(
                available_tags=[],
                default_reaction_emoji=None,
                default_thread_rate_limit_per_user=0,
                default_sort_order=None,
                default_forum_layout=0,
            )
        if self.is_thread:
            del data["permission_overwrites"], data["position"]
            data.update(
                owner_id=str(self.owner_id),
                last_message_id=str(self.last_message_id) if self.last_message_id else None,
                rate_limit_per_user=0,
                message_count=0,
                member_count=len(self.thread_members),
                total_message_sent=0,
                thread_metadata={
                    "archived": self.archived,
                    "auto_archive_duration": 1440,
                    "archive_timestamp": iso(snowflake_time(self.id)),
                    "locked": self.locked,
                    "create_timestamp": iso(snowflake_time(self.id)),
                    **({"invitable": False} if self.type == PRIVATE_THREAD else {}),
                },
            )
            if self.parent is not None and self.parent.type == GUILD_FORUM:
                data["applied_tags"] = []
        if for_user is not None:
            data["permissions"] = str(self.permissions_for(for_user))
        return data


@dataclass(eq=False)
class Member(Actor):
    """A user's membership of one guild; acts (slash commands, clicks …) inside that guild."""

    guild: Guild = field(repr=False)
    user: User
    roles: list[Role] = field(default_factory=list)
    nick: str | None = None
    joined_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def world(self) -> World:
        return self.guild.world

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def name(self) -> str:
        return self.nick or self.user.name

    @property
    def mention(self) -> str:
        return self.user.mention

    @property
    def guild_permissions(self) -> int:
        return perms.base_permissions(
            is_owner=self.guild.owner_id == self.id,
            everyone=self.guild.everyone.permissions,
            role_permissions=[r.permissions for r in self.roles],
        )

    def _default_guild(self) -> Guild | None:
        return self.guild

    def _acting_user(self) -> User:
        return self.user

    def _acting_world(self) -> World:
        return self.guild.world

    def permissions_in(self, channel: Channel) -> int:
        return channel.permissions_for(self)

    def add_role(self, role: Role) -> Member:
        if role not in self.roles:
            self.roles.append(role)
            self.world._emit("GUILD_MEMBER_UPDATE", self._update_json(), self.guild.id)
        return self

    def remove_role(self, role: Role) -> Member:
        if role in self.roles:
            self.roles.remove(role)
            self.world._emit("GUILD_MEMBER_UPDATE", self._update_json(), self.guild.id)
        return self

    def leave(self) -> None:
        """The member leaves the guild (GUILD_MEMBER_REMOVE)."""
        self.guild.remove_member(self)

    def to_json(self, *, with_user: bool = True, permissions: int | None = None) -> Json:
        data: Json = {
            "roles": [str(r.id) for r in self.roles],
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "joined_at": iso(self.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
            "unusual_dm_activity_until": None,
        }
        if with_user:
            data["user"] = self.user.to_json()
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data

    def _update_json(self) -> Json:
        data = self.to_json()
        data["guild_id"] = str(self.guild.id)
        return data

    def __hash__(self) -> int:
        return hash((self.guild.id, self.user.id))


class Guild:
    """A guild the bot is in. Its @everyone role has the guild's id, as on Discord."""

    def __init__(
        self, world: World, id: int, name: str, owner: User, *, bot_permissions: int
    ) -> None:
        self.world = world
        self.id = id
        self.name = name
        self.owner_id = owner.id
        self.locale = "en-US"
        self.roles: dict[int, Role] = {}
        self.channels: dict[int, Channel] = {}
        #: Threads and forum posts (Discord lists them apart from channels).
        self.threads: dict[int, Channel] = {}
        self.members: dict[int, Member] = {}
        self.bot_present = True
        self.joined_at = datetime.now(UTC)
        everyone = Role(self, id, "@everyone", perms.DEFAULT_EVERYONE)
        self.roles[id] = everyone
        bot = world.bot_user
        self.bot_role = self._new_role(
            bot.name, bot_permissions, managed=True, bot_id=bot.id, emit=False
        )
        self._new_member(owner, emit=False)
        self._new_member(bot, roles=[self.bot_role], emit=False)

    def __repr__(self) -> str:
        return f"Guild(id={self.id}, name={self.name!r})"

    # -- lookups ---------------------------------------------------------------------------------
    @property
    def everyone(self) -> Role:
        return self.roles[self.id]

    @property
    def owner(self) -> Member:
        return self.members[self.owner_id]

    @property
    def bot_member(self) -> Member:
        return self.members[self.world.bot_user.id]

    @property
    def text_channels(self) -> list[Channel]:
        return [c for c in self.channels.values() if c.type in (GUILD_TEXT, GUILD_ANNOUNCEMENT)]

    @property
    def first_text_channel(self) -> Channel:
        channels = self.text_channels
        if not channels:
            raise LookupError(f"{self!r} has no text channel; call guild.add_text_channel() first")
        return channels[0]

    def member(self, who: User | Member | int | str) -> Member:
        """Find a member by user, id or display name."""
        if isinstance(who, Member):
            who = who.user
        if isinstance(who, User):
            who = who.id
        if isinstance(who, int):
            return self.members[who]
        for m in self.members.values():
            if who in (m.name, m.user.name, m.user.username):
                return m
        raise KeyError(who)

    def role(self, name: str) -> Role:
        for r in self.roles.values():
            if r.name == name:
                return r
        raise KeyError(name)

    def channel(self, name: str) -> Channel:
        for c in self.channels.values():
            if c.name == name:
                return c
        raise KeyError(name)

    # -- building the world ----------------------------------------------------------------------
    def add_role(
        self,
        name: str,
        permissions: int = 0,
        *,
        color: int = 0,
        hoist: bool = False,
        mentionable: bool = False,
    ) -> Role:
        return self._new_role(name, permissions, color=color, hoist=hoist, mentionable=mentionable)

    def _new_role(
        self,
        name: str,
        permissions: int,
        *,
        color: int = 0,
        hoist: bool = False,
        mentionable: bool = False,
        managed: bool = False,
        bot_id: int | None = None,
        emit: bool = True,
    ) -> Role:
        role = Role(
            self,
            self.world.snowflakes.next(),
            name,
            permissions,
            color=color,
            hoist=hoist,
            mentionable=mentionable,
            position=len(self.roles),
            managed=managed,
            bot_id=bot_id,
        )
        self.roles[role.id] = role
        if emit:
            self.world._emit(
                "GUILD_ROLE_CREATE", {"guild_id": str(self.id), "role": role.to_json()}, self.id
            )
        return role

    def add_text_channel(
        self, name: str, *, topic: str | None = None, category: Channel | None = None
    ) -> Channel:
        return self._new_channel(name, GUILD_TEXT, topic=topic, category=category)

    def add_category(self, name: str) -> Channel:
        return self._new_channel(name, GUILD_CATEGORY)

    def add_forum_channel(self, name: str, *, category: Channel | None = None) -> Channel:
        """A forum: members open posts (`forum.add_thread(title, by=member, message=...)`);
        nothing can be posted in the forum itself."""
        return self._new_channel(name, GUILD_FORUM, category=category)

    def _new_channel(
        self, name: str, type: int, *, topic: str | None = None, category: Channel | None = None
    ) -> Channel:
        channel = Channel(
            self.world,
            self.world.snowflakes.next(),
            type,
            name,
            guild=self,
            position=len(self.channels),
            topic=topic,
            parent_id=category.id if category else None,
        )
        if category is not None:
            channel.overwrites = {k: Overwrite(**vars(o)) for k, o in category.overwrites.items()}
        self.channels[channel.id] = channel
        self.world.channels[channel.id] = channel
        self.world._emit("CHANNEL_CREATE", channel.to_json(), self.id)
        return channel

    def delete_channel(self, channel: Channel) -> None:
        del self.channels[channel.id]
        del self.world.channels[channel.id]
        self.world._emit("CHANNEL_DELETE", channel.to_json(), self.id)

    def add_member(
        self,
        user: User | str,
        *,
        roles: Iterable[Role] = (),
        permissions: int | None = None,
        nick: str | None = None,
    ) -> Member:
        """Add a member. `permissions=` gives them a role of their own with those bits."""
        if isinstance(user, str):
            user = self.world.add_user(user)
        role_list = list(roles)
        if permissions is not None:
            role_list.append(self._new_role(f"{user.name} permissions", permissions))
        return self._new_member(user, roles=role_list, nick=nick)

    def _new_member(
        self,
        user: User,
        *,
        roles: Iterable[Role] = (),
        nick: str | None = None,
        emit: bool = True,
    ) -> Member:
        if user.id in self.members:
            raise ValueError(f"{user.name} is already a member of {self.name}")
        member = Member(self, user, list(roles), nick)
        self.members[user.id] = member
        if emit:
            self.world._emit("GUILD_MEMBER_ADD", member._update_json(), self.id)
        return member

    def remove_member(self, member: Member | User) -> None:
        user = member.user
        del self.members[user.id]
        self.world._emit(
            "GUILD_MEMBER_REMOVE", {"guild_id": str(self.id), "user": user.to_json()}, self.id
        )

    def remove_bot(self) -> None:
        """The bot is kicked (GUILD_DELETE without `unavailable`)."""
        self.bot_present = False
        self.world._emit("GUILD_DELETE", {"id": str(self.id)}, self.id)

    # -- JSON ------------------------------------------------------------------------------------
    def to_json(self, *, with_counts: bool = False) -> Json:
        data: Json = {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "icon_hash": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "widget_enabled": False,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "roles": [r.to_json() for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "max_members": 500000,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": self.locale,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "region": "deprecated",
        }
        if with_counts:
            data["approximate_member_count"] = len(self.members)
            data["approximate_presence_count"] = 0
        return data

    def to_create_json(self, *, include_all_members: bool) -> Json:
        """GUILD_CREATE: without the GUILD_MEMBERS intent Discord only sends the bot's member."""
        data = self.to_json()
        members = list(self.members.values()) if include_all_members else [self.bot_member]
        data.update(
            joined_at=iso(self.joined_at),
            large=len(self.members) > 250,
            unavailable=False,
            member_count=len(self.members),
            voice_states=[],
            members=[m.to_json() for m in members],
            channels=[c.to_json() for c in self.channels.values()],
            threads=[
                t.to_json()
                for t in self.threads.values()
                if not t.archived and t.permissions_for(self.bot_member) & perms.VIEW_CHANNEL
            ],
            presences=[],
            stage_instances=[],
            guild_scheduled_events=[],
            soundboard_sounds=[],
            lazy=True,
        )
        return data


@dataclass
class Application:
    id: int
    name: str
    owner: User
    #: Approved privileged intents (Discord closes the gateway with 4014 for the others).
    privileged_intents: int = (1 << 1) | (1 << 8) | (1 << 15)
    flags: int = (1 << 13) | (1 << 15) | (1 << 19)  # the *_LIMITED intent flags Discord sets

    def to_json(self, bot: User) -> Json:
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "hook": True,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": secrets.token_hex(32),
            "flags": self.flags,
            "owner": self.owner.to_json(),
            "team": None,
            "bot": bot.to_json(),
            "rpc_origins": [],
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "tags": [],
            "approximate_guild_count": 0,
            "approximate_user_install_count": 0,
            "integration_types_config": {"0": {}},
            "is_monetized": False,
        }


class World:
    """All the state the emulator serves. Build it before or while the bot runs."""

    def __init__(self, *, bot_name: str = "Cohort") -> None:
        self.snowflakes = Snowflakes()
        self.users: dict[int, User] = {}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.dm_channels: dict[int, Channel] = {}
        self._emulator: Emulator | None = None
        self._emit_hook: Callable[[str, Json, int | None], None] | None = None
        app_id = self.snowflakes.next()
        # On Discord a bot user's id is its application's id.
        self.bot_user = User(self, app_id, bot_name, bot=True)
        self.users[app_id] = self.bot_user
        owner = self.add_user("App Owner")
        self.application = Application(app_id, bot_name, owner)
        self._names = itertools.count(1)

    @property
    def emulator(self) -> Emulator:
        if self._emulator is None:
            raise RuntimeError("this World is not attached to an Emulator")
        return self._emulator

    def add_user(self, name: str, *, dms_open: bool = True, locale: str = "en-US") -> User:
        """A user; `dms_open=False` makes DMs from the bot fail with 403/50007."""
        user = User(self, self.snowflakes.next(), name, dms_open=dms_open, locale=locale)
        self.users[user.id] = user
        return user

    def add_guild(
        self,
        name: str,
        *,
        owner: User | str | None = None,
        bot_permissions: int = perms.DEFAULT_BOT,
        shard: tuple[int, int] | None = None,
    ) -> Guild:
        """A guild with the bot in it (a managed role carries `bot_permissions`); `shard`
        (shard_id, shard_count) picks an id Discord would route to that shard."""
        if owner is None:
            owner = f"{name} Owner"
        if isinstance(owner, str):
            owner = self.add_user(owner)
        guild_id = (
            self.snowflakes.next_on_shard(*shard) if shard is not None else self.snowflakes.next()
        )
        guild = Guild(self, guild_id, name, owner, bot_permissions=bot_permissions)
        self.guilds[guild.id] = guild
        if self._emit_hook is not None:
            self._emit("GUILD_CREATE", guild.to_create_json(include_all_members=True), guild.id)
        return guild

    def user(self, user_id: int) -> User:
        return self.users[user_id]

    def guild(self, guild_id: int) -> Guild:
        return self.guilds[guild_id]

    def channel(self, channel_id: int) -> Channel | None:
        return self.channels.get(channel_id) or self.dm_channels.get(channel_id)

    def dm_channel(self, user: User) -> Channel:
        """The DM channel between `user` and the bot (created on first use, stable afterwards)."""
        for ch in self.dm_channels.values():
            if ch.recipient is user:
                return ch
        ch = Channel(self, self.snowflakes.next(), DM, None, recipient=user)
        self.dm_channels[ch.id] = ch
        return ch

    def shares_guild_with_bot(self, user: User) -> bool:
        return any(user.id in g.members and g.bot_present for g in self.guilds.values())

    def iter_members(self) -> Iterator[Member]:
        for g in self.guilds.values():
            yield from g.members.values()

    def _emit(self, event: str, data: Json, guild_id: int | None) -> None:
        if self._emit_hook is not None:
            self._emit_hook(event, data, guild_id)
