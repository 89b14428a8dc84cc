"""What a person can do in the emulated Discord client: the test-facing verbs.

`Member` (someone in a guild) and `User` (anyone; outside a guild they act in their DM with the
bot) both get these methods:

    reply = await sam.slash("goal add", text="Read chapter 2")
    choices = await sam.autocomplete("goal done", "goal", typed="Read")
    result = await sam.click(reply, "Check in")            # by label (or custom_id=)
    done = await sam.submit_modal(result.modal, {"Hours": "2"})
    await sam.say("hello", channel=general)                 # a normal chat message

Each interaction helper waits for the bot's acknowledgement and fails with a clear
AssertionError after Discord's 3 s deadline (pass wait_ack=False to skip that).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .interactions import Choice, InteractionEngine, InteractionResult, Modal
    from .messages import PostedMessage
    from .world import Channel, Guild, Member, User, World

_Context = tuple["User", "Member | None", "Guild | None", "Channel"]


class Actor:
    """Mixin for `User` and `Member`, which say who acts and in which world."""

    def _acting_user(self) -> User:
        raise NotImplementedError

    def _acting_world(self) -> World:
        raise NotImplementedError

    # -- where the action happens ---------------------------------------------------------------
    def _default_guild(self) -> Guild | None:
        return None

    def _context(self, guild: Guild | None = None, channel: Channel | None = None) -> _Context:
        user = self._acting_user()
        if channel is not None and channel.guild is None:
            if channel.recipient is not user:
                raise AssertionError(f"{user.name} cannot act in somebody else's DM")
            return user, None, None, channel
        if guild is None:
            guild = channel.guild if channel is not None else self._default_guild()
        if guild is None:
            return user, None, None, self._acting_world().dm_channel(user)
        if channel is not None and channel.guild is not guild:
            raise AssertionError(f"#{channel.name} is not in {guild.name}")
        member = guild.members.get(user.id)
        if member is None:
            raise AssertionError(f"{user.name} is not a member of {guild.name}")
        return user, member, guild, channel or guild.first_text_channel

    def _engine(self) -> InteractionEngine:
        return self._acting_world().emulator.interactions

    def _split_location(
        self, command: str, kwargs: dict[str, Any], in_channel: Channel | None
    ) -> tuple[Channel | None, Guild | None]:
        """`channel=`/`guild=` mean "where", unless the command has an option of that name."""
        from .world import Guild

        peek = kwargs.get("guild")
        option_names = self._option_names(command, peek if isinstance(peek, Guild) else None)
        guild = None
        if "guild" in kwargs and "guild" not in option_names:
            guild = kwargs.pop("guild")
        if "channel" in kwargs and "channel" not in option_names:
            where = kwargs.pop("channel")
            in_channel = in_channel or where
        return in_channel, guild

    def _option_names(self, command: str, guild: Guild | None) -> set[str]:
        words = command.strip().lstrip("/").split()
        target = guild or self._default_guild()
        cmd = self._acting_world().emulator.commands.find(
            words[0] if words else "", guild_id=target.id if target else None
        )
        if cmd is None:
            return set()
        options = cmd.options
        for word in words[1:]:
            sub = next((o for o in options if o.get("name") == word), None)
            options = list((sub or {}).get("options") or [])
        return {str(o.get("name")) for o in options}

    # -- application commands ---------------------------------------------------------------------
    async def slash(
        self,
        command: str,
        /,
        *,
        in_channel: Channel | None = None,
        options: Mapping[str, Any] | None = None,
        wait_ack: bool = True,
        **kwargs: Any,
    ) -> InteractionResult:
        """Run a slash command, e.g. `slash("goal add", text="…", hours=2.5)`.

        Option values: str/int/float/bool, world `User`/`Member`/`Channel`/`Role` objects and
        `Upload(filename, bytes)` (or a `(filename, bytes)` tuple) for attachments. Put option
        names that are not Python identifiers in `options={...}`. `channel=` / `guild=` choose
        where the command runs (default: the member's guild, its first text channel) unless the
        command itself has an option with that name; `in_channel=` always means "where".
        """
        in_channel, guild = self._split_location(command, kwargs, in_channel)
        values = {**(options or {}), **kwargs}
        user, member, guild, channel = self._context(guild, in_channel)
        engine = self._engine()
        result = engine.command(user, member, guild, channel, command, values)
        return await engine.send(result, wait_ack=wait_ack)

    async def autocomplete(
        self,
        command: str,
        option: str,
        /,
        typed: str = "",
        *,
        in_channel: Channel | None = None,
        options: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> list[Choice]:
        """Type `typed` into `option` of `command`; returns the choices the bot offered."""
        in_channel, guild = self._split_location(command, kwargs, in_channel)
        values = {**(options or {}), **kwargs}
        user, member, guild, channel = self._context(guild, in_channel)
        engine = self._engine()
        result = engine.command(
            user, member, guild, channel, command, values, focused=option, typed=typed
        )
        await engine.send(result)
        if result.choices is None:
            raise AssertionError(
                f"{result.label}: the bot answered {result.callback_type}, not choices"
            )
        return result.choices

    async def user_command(
        self, name: str, target: User | Member, /, *, in_channel: Channel | None = None
    ) -> InteractionResult:
        """Run a user context-menu command on `target`."""
        user, member, guild, channel = self._context(None, in_channel)
        engine = self._engine()
        return await engine.send(engine.context_menu(user, member, guild, channel, name, target))

    async def message_command(self, name: str, message: PostedMessage, /) -> InteractionResult:
        """Run a message context-menu command on `message`."""
        user, member, guild, channel = self._message_context(message)
        engine = self._engine()
        return await engine.send(engine.context_menu(user, member, guild, channel, name, message))

    # -- components and modals -------------------------------------------------------------------
    def _resolve_message(self, message: PostedMessage | InteractionResult | int) -> PostedMessage:
        from .interactions import InteractionResult

        if isinstance(message, InteractionResult):
            if message.original is None:
                raise AssertionError(f"{message.label} has no response message to click on")
            return message.original
        if isinstance(message, int):
            return self._acting_world().emulator.messages.get(message)
        return message

    def _message_context(self, message: PostedMessage) -> _Context:
        channel = self._acting_world().channel(message.channel_id)
        if channel is None:
            raise AssertionError(f"message {message.id} is in a deleted channel")
        return self._context(channel.guild, channel)

    async def click(
        self,
        message: PostedMessage | InteractionResult | int,
        label: str | None = None,
        /,
        *,
        custom_id: str | None = None,
        wait_ack: bool = True,
    ) -> InteractionResult:
        """Press a button found by its label (or `custom_id=`)."""
        msg = self._resolve_message(message)
        if msg.deleted:
            raise AssertionError(f"message {msg.id} was deleted")
        component = msg.find_component(label, custom_id=custom_id, type=2)
        user, member, guild, _ = self._message_context(msg)
        engine = self._engine()
        result = engine.component(user, member, guild, msg, component)
        return await engine.send(result, wait_ack=wait_ack)

    async def select(
        self,
        message: PostedMessage | InteractionResult | int,
        values: list[Any],
        /,
        *,
        placeholder: str | None = None,
        custom_id: str | None = None,
        wait_ack: bool = True,
    ) -> InteractionResult:
        """Pick `values` in a select menu (string options, or world users/roles/channels)."""
        msg = self._resolve_message(message)
        selects = [c for c in msg.iter_components() if c.get("type") in (3, 5, 6, 7, 8)]
        if custom_id is not None or placeholder is not None:
            component = msg.find_component(placeholder, custom_id=custom_id)
        elif len(selects) == 1:
            component = selects[0]
        else:
            raise AssertionError(f"message {msg.id} has {len(selects)} selects; pass placeholder=")
        user, member, guild, channel = self._message_context(msg)
        engine = self._engine()
        raw, resolved = _select_values(engine, component, values, guild, channel)
        result = engine.component(user, member, guild, msg, component, raw, resolved)
        return await engine.send(result, wait_ack=wait_ack)

    async def submit_modal(
        self, modal: Modal | None, values: Mapping[str, Any], /, *, wait_ack: bool = True
    ) -> InteractionResult:
        """Fill in a modal the bot showed this user (keys: field label or custom_id)."""
        if modal is None:
            raise AssertionError("there is no modal to submit (the bot did not answer with one)")
        opener = modal.opened_by
        engine = self._engine()
        result = engine.modal_submit(opener.user, opener.member, opener.guild, modal, values)
        if opener.user is not self._acting_user():
            raise AssertionError(
                f"{self._acting_user().name} cannot submit a modal shown to {opener.user.name}"
            )
        return await engine.send(result, wait_ack=wait_ack)

    # -- chatting --------------------------------------------------------------------------------
    async def say(self, content: str, /, *, channel: Channel | None = None) -> PostedMessage:
        """Post a chat message as this user (MESSAGE_CREATE, subject to the bot's intents)."""
        from .messages import PostedMessage

        user, _member, guild, where = self._context(None, channel)
        emu = self._acting_world().emulator
        await emu._wait(lambda: emu.gateway.connected, 5.0, "the bot to be connected")
        msg = PostedMessage(
            id=self._acting_world().snowflakes.next(),
            channel_id=where.id,
            guild_id=guild.id if guild else None,
            author_id=user.id,
            content=content,
            kind="user",
        )
        return emu.publish(msg, webhook=False)


def _select_values(
    engine: InteractionEngine,
    component: dict[str, Any],
    values: list[Any],
    guild: Guild | None,
    channel: Channel,
) -> tuple[list[str], dict[str, Any]]:
    from .world import Channel as ChannelCls
    from .world import Member as MemberCls
    from .world import Role as RoleCls
    from .world import User as UserCls

    lo, hi = component.get("min_values", 1), component.get("max_values", 1)
    if not lo <= len(values) <= hi:
        raise AssertionError(f"this select takes {lo}..{hi} values, got {len(values)}")
    resolved: dict[str, Any] = {}
    if component.get("type") == 3:
        offered = [o["value"] for o in component.get("options") or []]
        for v in values:
            if v not in offered:
                raise AssertionError(f"{v!r} is not an option of this select; options: {offered}")
        return [str(v) for v in values], resolved
    raw = []
    for v in values:
        if isinstance(v, MemberCls):
            v = v.user
        if isinstance(v, ChannelCls):
            resolved.setdefault("channels", {})[str(v.id)] = v.to_json()
        elif isinstance(v, RoleCls):
            resolved.setdefault("roles", {})[str(v.id)] = v.to_json()
        elif isinstance(v, UserCls):
            engine._resolve_user(v, resolved, guild, channel)
        else:
            raise TypeError(f"select values must be world users, roles or channels, got {v!r}")
        raw.append(str(v.id))
    return raw, resolved
