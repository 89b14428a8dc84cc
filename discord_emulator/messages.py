"""Everything the bot posted: channel messages, DMs, interaction responses and follow-ups.

Each message remembers who it would actually ping, computed with Discord's rules: mentions are
parsed from `content` (`<@id>`, `<@!id>`, `<@&id>`, `@everyone`, `@here`) and filtered through
`allowed_mentions` (absent = Discord's default, which pings everything parsed). Ephemeral messages
notify nobody.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .permissions import MENTION_EVERYONE
from .waiting import Notifier
from .world import DM, iso

if TYPE_CHECKING:
    from .world import World

Json = dict[str, Any]

EPHEMERAL = 1 << 6
LOADING = 1 << 7
SUPPRESS_NOTIFICATIONS = 1 << 12

_USER_MENTION = re.compile(r"<@!?(\d{15,21})>")
_ROLE_MENTION = re.compile(r"<@&(\d{15,21})>")
_EVERYONE = re.compile(r"@(everyone|here)\b")


@dataclass
class Attachment:
    """A file the bot uploaded; `data` holds the exact bytes."""

    id: int
    filename: str
    data: bytes
    content_type: str | None
    url: str
    description: str | None = None
    title: str | None = None

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")

    def to_json(self) -> Json:
        data: Json = {
            "id": str(self.id),
            "filename": self.filename,
            "size": self.size,
            "url": self.url,
            "proxy_url": self.url,
        }
        if self.content_type:
            data["content_type"] = self.content_type
        if self.description is not None:
            data["description"] = self.description
        if self.title is not None:
            data["title"] = self.title
        return data


@dataclass(frozen=True)
class Pings:
    """Who a message would notify on Discord."""

    users: frozenset[int] = frozenset()
    roles: frozenset[int] = frozenset()
    everyone: bool = False

    @property
    def anyone(self) -> bool:
        return bool(self.users or self.roles or self.everyone)

    def __or__(self, other: Pings) -> Pings:
        return Pings(
            self.users | other.users, self.roles | other.roles, self.everyone or other.everyone
        )


def compute_pings(
    content: str,
    allowed_mentions: Json | None,
    *,
    can_mention_everyone: bool,
    mentionable_roles: frozenset[int],
    replied_user: int | None = None,
) -> Pings:
    """Discord's mention resolution for one message.

    `allowed_mentions=None` means the field was absent: Discord then parses every mention type.
    Role mentions ping only mentionable roles unless the author may mention everyone; `@everyone`
    and `@here` need that permission too.
    """
    users = {int(m) for m in _USER_MENTION.findall(content)}
    roles = {int(m) for m in _ROLE_MENTION.findall(content)}
    everyone = bool(_EVERYONE.search(content))
    reply_ping = replied_user is not None
    if allowed_mentions is not None:
        parse = set(allowed_mentions.get("parse") or ())
        allowed_users = {int(x) for x in allowed_mentions.get("users") or ()}
        allowed_roles = {int(x) for x in allowed_mentions.get("roles") or ()}
        users = users if "users" in parse else users & allowed_users
        roles = roles if "roles" in parse else roles & allowed_roles
        everyone = everyone and "everyone" in parse
        reply_ping = reply_ping and bool(allowed_mentions.get("replied_user"))
    if not can_mention_everyone:
        roles &= mentionable_roles
        everyone = False
    if reply_ping and replied_user is not None:
        users.add(replied_user)
    return Pings(frozenset(users), frozenset(roles), everyone)


@dataclass(eq=False)
class PostedMessage:
    """A message as Discord stores it, plus the request details a test may want to check."""

    id: int
    channel_id: int
    guild_id: int | None
    author_id: int
    content: str = ""
    embeds: list[Json] = field(default_factory=list)
    components: list[Json] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    flags: int = 0
    tts: bool = False
    #: The `allowed_mentions` object exactly as sent (None when the request omitted it).
    allowed_mentions: Json | None = None
    nonce: str | int | None = None
    message_reference: Json | None = None
    type: int = 0
    webhook_id: int | None = None
    application_id: int | None = None
    #: The interaction this message answers (responses and follow-ups).
    interaction_id: int | None = None
    interaction_metadata: Json | None = None
    #: "channel" (REST post), "response" (interaction response), "followup" or "user".
    kind: str = "channel"
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    edited_at: datetime | None = None
    pings: Pings = field(default_factory=Pings)
    mentions: list[int] = field(default_factory=list)
    mention_roles: list[int] = field(default_factory=list)
    mention_everyone: bool = False
    #: Earlier states, oldest first: each a dict of the fields that changed.
    edits: list[Json] = field(default_factory=list)
    deleted: bool = False
    reactions: list[str] = field(default_factory=list)
    pinned: bool = False

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        return bool(self.flags & LOADING)

    @property
    def pinged_anyone(self) -> bool:
        return self.pings.anyone

    @property
    def is_dm(self) -> bool:
        return self.guild_id is None

    def iter_components(self) -> Iterator[Json]:
        """Every component, depth first (rows, containers, sections, labels and accessories)."""
        stack = list(reversed(self.components))
        while stack:
            comp = stack.pop()
            yield comp
            children = list(comp.get("components") or [])
            for key in ("accessory", "component"):
                if comp.get(key):
                    children.append(comp[key])
            stack.extend(reversed(children))

    def find_component(
        self, label: str | None = None, *, custom_id: str | None = None, type: int | None = None
    ) -> Json:
        """A button/select by its label (or placeholder) or custom_id."""
        found = []
        for comp in self.iter_components():
            if type is not None and comp.get("type") != type:
                continue
            if custom_id is not None and comp.get("custom_id") == custom_id:
                return comp
            if label is not None and label in (comp.get("label"), comp.get("placeholder")):
                found.append(comp)
        if found:
            return found[0]
        described = [
            c.get("label") or c.get("placeholder") or c.get("custom_id")
            for c in self.iter_components()
            if c.get("type") not in (1, 9, 10, 17)
        ]
        raise LookupError(
            f"message {self.id} has no component {label or custom_id!r}; it has {described}"
        )

    @property
    def buttons(self) -> list[Json]:
        return [c for c in self.iter_components() if c.get("type") == 2]

    def button_labels(self) -> list[str | None]:
        return [c.get("label") for c in self.buttons]

    def text(self) -> str:
        """Content, embed text and text-display components joined: handy for `in` assertions."""
        parts = [self.content]
        for e in self.embeds:
            parts += [e.get("title") or "", e.get("description") or ""]
            parts += [f"{f.get('name')} {f.get('value')}" for f in e.get("fields") or []]
            parts.append((e.get("footer") or {}).get("text") or "")
            parts.append((e.get("author") or {}).get("name") or "")
        parts += [c.get("content") or "" for c in self.iter_components() if c.get("type") == 10]
        return "\n".join(p for p in parts if p)

    def to_json(self, world: World) -> Json:
        author = world.users[self.author_id]
        data: Json = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "type": self.type,
            "author": author.to_json(),
            "content": self.content,
            "timestamp": iso(self.created_at),
            "edited_timestamp": iso(self.edited_at) if self.edited_at else None,
            "tts": self.tts,
            "mention_everyone": self.mention_everyone,
            "mentions": [world.users[u].to_json() for u in self.mentions if u in world.users],
            "mention_roles": [str(r) for r in self.mention_roles],
            "mention_channels": [],
            "attachments": [a.to_json() for a in self.attachments],
            "embeds": self.embeds,
            "components": self.components,
            "pinned": self.pinned,
            "flags": self.flags,
        }
        if self.nonce is not None:
            data["nonce"] = self.nonce
        if self.webhook_id is not None:
            data["webhook_id"] = str(self.webhook_id)
        if self.application_id is not None:
            data["application_id"] = str(self.application_id)
        if self.interaction_metadata is not None:
            data["interaction_metadata"] = self.interaction_metadata
        if self.message_reference is not None:
            data["message_reference"] = self.message_reference
        return data


class Messages:
    """A queryable view over every message in the emulated world."""

    def __init__(self, world: World, notifier: Notifier | None = None) -> None:
        self._world = world
        self._by_id: dict[int, PostedMessage] = {}
        self._notifier = notifier or Notifier()

    # -- queries ---------------------------------------------------------------------------------
    def all(self, *, include_deleted: bool = False) -> list[PostedMessage]:
        return [m for m in self._by_id.values() if include_deleted or not m.deleted]

    def by_bot(self, *, include_ephemeral: bool = True) -> list[PostedMessage]:
        bot = self._world.bot_user.id
        return [
            m for m in self.all() if m.author_id == bot and (include_ephemeral or not m.ephemeral)
        ]

    def get(self, message_id: int) -> PostedMessage:
        return self._by_id[message_id]

    def in_channel(
        self,
        channel_id: int | Any,
        *,
        include_ephemeral: bool = False,
        include_deleted: bool = False,
    ) -> list[PostedMessage]:
        """What everybody sees in a channel, oldest first (ephemeral messages left out)."""
        cid = getattr(channel_id, "id", channel_id)
        return [
            m
            for m in self._by_id.values()
            if m.channel_id == cid
            and (include_deleted or not m.deleted)
            and (include_ephemeral or not m.ephemeral)
        ]

    def dms_to(self, user: int | Any) -> list[PostedMessage]:
        """What the bot sent to one user in DMs, oldest first."""
        uid = getattr(user, "id", user)
        channels = {
            cid
            for cid, ch in self._world.dm_channels.items()
            if ch.recipient and ch.recipient.id == uid
        }
        bot = self._world.bot_user.id
        return [
            m
            for m in self._by_id.values()
            if m.channel_id in channels and m.author_id == bot and not m.deleted
        ]

    def pinging(self) -> list[PostedMessage]:
        """Messages that would notify someone."""
        return [m for m in self.all() if m.pings.anyone]

    def assert_nobody_pinged(self) -> None:
        noisy = self.pinging()
        if noisy:
            lines = [
                f"  message {m.id} in {m.channel_id}: users={sorted(m.pings.users)} "
                f"roles={sorted(m.pings.roles)} everyone={m.pings.everyone} content={m.content!r}"
                for m in noisy
            ]
            raise AssertionError("messages that would ping someone:\n" + "\n".join(lines))

    async def wait_for(
        self,
        predicate: Callable[[PostedMessage], bool] | None = None,
        *,
        channel: int | Any | None = None,
        timeout: float = 3.0,
    ) -> PostedMessage:
        """The first (oldest) live message matching, waiting for it to appear if needed."""
        cid = getattr(channel, "id", channel)

        def match() -> PostedMessage | None:
            for m in self._by_id.values():
                if m.deleted or (cid is not None and m.channel_id != cid):
                    continue
                if predicate is None or predicate(m):
                    return m
            return None

        where = f" in channel {cid}" if cid is not None else ""
        await self._notifier.wait_for(lambda: match() is not None, timeout, f"a message{where}")
        found = match()
        assert found is not None
        return found

    def __len__(self) -> int:
        return len(self.all())

    def __iter__(self) -> Iterator[PostedMessage]:
        return iter(self.all())

    # -- recording (used by the REST layer) ------------------------------------------------------
    def add(self, message: PostedMessage) -> PostedMessage:
        self._by_id[message.id] = message
        channel = self._world.channel(message.channel_id)
        if channel is not None:
            channel.last_message_id = message.id
        self.changed()
        return message

    def changed(self) -> None:
        self._notifier.notify()

    def resolve_pings(self, message: PostedMessage, *, webhook: bool) -> None:
        """Fill mentions/pings for a new or edited message from its content."""
        world = self._world
        channel = world.channel(message.channel_id)
        guild = channel.guild if channel is not None else None
        # Webhooks (interaction responses included) may always mention everyone; in a DM
        # nobody beyond the recipient can be reached, so @everyone and roles ping no one.
        if channel is not None and channel.type == DM:
            can_everyone = False
        elif webhook or channel is None:
            can_everyone = True
        else:
            can_everyone = bool(
                channel.permissions_for(world.users[message.author_id]) & MENTION_EVERYONE
            )
        mentionable = frozenset(
            r.id for r in (guild.roles.values() if guild else ()) if r.mentionable
        )
        replied: int | None = None
        ref = message.message_reference
        if ref and ref.get("message_id"):
            original = self._by_id.get(int(ref["message_id"]))
            if original is not None and original.author_id != message.author_id:
                replied = original.author_id
        pings = compute_pings(
            message.content,
            message.allowed_mentions,
            can_mention_everyone=can_everyone,
            mentionable_roles=mentionable,
            replied_user=replied,
        )
        if message.ephemeral:
            # Only the invoking user sees an ephemeral message: it notifies nobody.
            message.mentions = sorted(pings.users)
            message.mention_roles = sorted(pings.roles)
            message.mention_everyone = pings.everyone
            message.pings = Pings()
            return
        message.pings = message.pings | pings
        message.mentions = sorted(pings.users)
        message.mention_roles = sorted(pings.roles)
        message.mention_everyone = pings.everyone
