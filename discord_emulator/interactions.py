"""Interactions: built the way Discord builds them, and what the bot answered to each.

An `InteractionResult` is returned to the test for every interaction it triggers. It fills up as
the bot answers: the initial callback (message, deferral, modal, autocomplete choices, message
update), then follow-ups and edits of the original response. Discord's rules apply: one
callback per interaction, within 3 s; follow-ups only after the callback; tokens live 15 minutes.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import commands as opt
from .messages import EPHEMERAL, LOADING, Attachment, PostedMessage
from .permissions import USE_APPLICATION_COMMANDS

if TYPE_CHECKING:
    from .commands import RegisteredCommand
    from .server import Emulator
    from .world import Channel, Guild, Member, User

log = logging.getLogger(__name__)

Json = dict[str, Any]

# Interaction types.
PING = 1
APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
APPLICATION_COMMAND_AUTOCOMPLETE = 4
MODAL_SUBMIT = 5

# Callback types.
PONG = 1
CHANNEL_MESSAGE_WITH_SOURCE = 4
DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
APPLICATION_COMMAND_AUTOCOMPLETE_RESULT = 8
MODAL = 9

CALLBACK_NAMES = {
    1: "PONG",
    4: "CHANNEL_MESSAGE_WITH_SOURCE",
    5: "DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE",
    6: "DEFERRED_UPDATE_MESSAGE",
    7: "UPDATE_MESSAGE",
    8: "APPLICATION_COMMAND_AUTOCOMPLETE_RESULT",
    9: "MODAL",
    10: "PREMIUM_REQUIRED",
    12: "LAUNCH_ACTIVITY",
}

#: Which callbacks Discord accepts for which interaction type.
ALLOWED_CALLBACKS = {
    APPLICATION_COMMAND: {4, 5, 9},
    MESSAGE_COMPONENT: {4, 5, 6, 7, 9},
    APPLICATION_COMMAND_AUTOCOMPLETE: {8},
    MODAL_SUBMIT: {4, 5, 6, 7},
}

ACK_DEADLINE = 3.0
TOKEN_LIFETIME = 15 * 60.0
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024


class CommandUnavailable(AssertionError):
    """The user could not run this in Discord (unknown, hidden by permissions, wrong place)."""


class InteractionNotAcknowledged(AssertionError):
    """The bot did not send the initial callback within Discord's 3 second deadline."""


@dataclass(frozen=True)
class Upload:
    """A file a user attaches to an attachment option."""

    filename: str
    data: bytes
    content_type: str | None = None


@dataclass(frozen=True)
class Choice:
    """One autocomplete or option choice."""

    name: str
    value: str | int | float


@dataclass
class ModalField:
    """An input in a modal (text input or select), found through rows and labels."""

    custom_id: str
    type: int
    label: str | None
    required: bool
    value: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    style: int | None = None
    placeholder: str | None = None
    options: list[Json] = field(default_factory=list)
    raw: Json = field(default_factory=dict, repr=False)


@dataclass
class Modal:
    """A modal the bot opened; pass it to `submit_modal` to answer it."""

    custom_id: str
    title: str
    components: list[Json]
    opened_by: InteractionResult = field(repr=False)

    @property
    def fields(self) -> list[ModalField]:
        out: list[ModalField] = []

        def visit(comp: Json, label: str | None) -> None:
            ctype = comp.get("type")
            if ctype == 1:
                for child in comp.get("components") or []:
                    visit(child, None)
            elif ctype == 18:
                visit(comp["component"], comp.get("label"))
            elif ctype in (3, 4, 5, 6, 7, 8, 19, 21, 22, 23):
                out.append(
                    ModalField(
                        custom_id=comp["custom_id"],
                        type=ctype,
                        label=comp.get("label") or label,
                        required=bool(comp.get("required", True)),
                        value=comp.get("value"),
                        min_length=comp.get("min_length"),
                        max_length=comp.get("max_length"),
                        style=comp.get("style"),
                        placeholder=comp.get("placeholder"),
                        options=list(comp.get("options") or []),
                        raw=comp,
                    )
                )

        for comp in self.components:
            visit(comp, None)
        return out

    def field(self, key: str) -> ModalField:
        for f in self.fields:
            if key in (f.custom_id, f.label) or (f.label and f.label.lower() == key.lower()):
                return f
        raise LookupError(
            f"modal {self.title!r} has no field {key!r}; fields: "
            + ", ".join(f"{f.label!r} ({f.custom_id})" for f in self.fields)
        )


class InteractionResult:
    """What the bot did with one interaction. Read it after the awaited helper returns."""

    def __init__(
        self,
        engine: InteractionEngine,
        *,
        id: int,
        token: str,
        type: int,
        payload: Json,
        user: User,
        member: Member | None,
        guild: Guild | None,
        channel: Channel,
        label: str,
        source_message: PostedMessage | None = None,
    ) -> None:
        self._engine = engine
        self.id = id
        self.token = token
        self.type = type
        #: The INTERACTION_CREATE payload sent to the bot.
        self.payload = payload
        self.user = user
        self.member = member
        self.guild = guild
        self.channel = channel
        self.label = label
        #: For component and modal interactions: the message the component was on.
        self.source_message = source_message
        self.created_at = asyncio.get_running_loop().time()
        self.callback_type: int | None = None
        self.callback_body: Json | None = None
        self.ack_latency: float | None = None
        #: The response message (type 4/5), or the component's message after a 6/7 update.
        self.original: PostedMessage | None = None
        self.followup_messages: list[PostedMessage] = []
        self.modal: Modal | None = None
        self.choices: list[Choice] | None = None
        #: Callbacks Discord refused (late, duplicate, wrong type): (status, error body).
        self.rejected_callbacks: list[tuple[int, Json]] = []
        self._followup_cursor = 0
        self._acked = asyncio.Event()

    def __repr__(self) -> str:
        cb = CALLBACK_NAMES.get(self.callback_type or 0, self.callback_type)
        return f"<InteractionResult {self.label} callback={cb} content={self.content!r}>"

    # -- the response at a glance ---------------------------------------------------------------
    @property
    def acknowledged(self) -> bool:
        return self.callback_type is not None

    @property
    def message(self) -> PostedMessage | None:
        return self.original

    @property
    def content(self) -> str:
        return self.original.content if self.original else ""

    @property
    def embeds(self) -> list[Json]:
        return self.original.embeds if self.original else []

    @property
    def embed(self) -> Json:
        if len(self.embeds) != 1:
            raise AssertionError(f"expected exactly one embed, got {len(self.embeds)}")
        return self.embeds[0]

    @property
    def components(self) -> list[Json]:
        return self.original.components if self.original else []

    @property
    def attachments(self) -> list[Attachment]:
        return self.original.attachments if self.original else []

    @property
    def flags(self) -> int:
        return self.original.flags if self.original else 0

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def deferred(self) -> bool:
        return self.callback_type in (DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_UPDATE_MESSAGE)

    @property
    def is_modal(self) -> bool:
        return self.callback_type == MODAL

    def text(self) -> str:
        """All visible text of the response (content, embeds, text displays)."""
        return self.original.text() if self.original else ""

    # -- waiting for what comes after the callback -----------------------------------------------
    async def wait_until(
        self,
        predicate: Callable[[InteractionResult], bool],
        *,
        timeout: float = 3.0,
        what: str = "",
    ) -> InteractionResult:
        await self._engine._emu._wait(
            lambda: predicate(self), timeout, what or f"condition on {self.label}"
        )
        return self

    async def followups(self, n: int = 1, *, timeout: float = 3.0) -> list[PostedMessage]:
        """Wait until the bot sent at least `n` follow-ups; returns all of them so far."""
        await self._engine._emu._wait(
            lambda: len(self.followup_messages) >= n,
            timeout,
            f"{n} follow-up(s) to {self.label} (got {len(self.followup_messages)})",
        )
        return list(self.followup_messages)

    async def wait_for_followup(self, *, timeout: float = 3.0) -> PostedMessage:
        """The next follow-up not returned by an earlier call (waits for it if needed)."""
        want = self._followup_cursor + 1
        await self.followups(want, timeout=timeout)
        self._followup_cursor = want
        return self.followup_messages[want - 1]

    async def wait_for_edit(self, *, count: int = 1, timeout: float = 3.0) -> PostedMessage:
        """Wait until the original response has been edited `count` times in total."""
        await self._engine._emu._wait(
            lambda: self.original is not None and len(self.original.edits) >= count,
            timeout,
            f"{count} edit(s) of the original response to {self.label}",
        )
        assert self.original is not None
        return self.original

    def button(self, label: str) -> Json:
        if self.original is None:
            raise AssertionError(f"{self.label} has no response message")
        return self.original.find_component(label)

    # -- bookkeeping -----------------------------------------------------------------------------
    def _ack(self, callback_type: int, body: Json) -> None:
        self.callback_type = callback_type
        self.callback_body = body
        self.ack_latency = asyncio.get_running_loop().time() - self.created_at
        self._acked.set()


def _option_label(o: Json) -> str:
    return f"{o['name']} ({_TYPE_NAMES.get(o.get('type', 0), o.get('type'))})"


_TYPE_NAMES = {
    1: "subcommand",
    2: "group",
    3: "string",
    4: "integer",
    5: "boolean",
    6: "user",
    7: "channel",
    8: "role",
    9: "mentionable",
    10: "number",
    11: "attachment",
}


class InteractionEngine:
    """Creates interactions, tracks them by id and token, and applies the bot's callbacks."""

    def __init__(self, emulator: Emulator, *, ack_deadline: float = ACK_DEADLINE) -> None:
        self._emu = emulator
        self.ack_deadline = ack_deadline
        self.by_id: dict[int, InteractionResult] = {}
        self.by_token: dict[str, InteractionResult] = {}

    @property
    def all(self) -> list[InteractionResult]:
        return list(self.by_id.values())

    # -- building --------------------------------------------------------------------------------
    def _base(
        self,
        type: int,
        user: User,
        member: Member | None,
        guild: Guild | None,
        channel: Channel,
        *,
        label: str,
        data: Json | None = None,
        message: PostedMessage | None = None,
    ) -> InteractionResult:
        world = self._emu.world
        iid = world.snowflakes.next()
        token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(96)
        payload: Json = {
            "id": str(iid),
            "application_id": str(world.application.id),
            "type": type,
            "token": token,
            "version": 1,
            "locale": user.locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
            "channel_id": str(channel.id),
        }
        if data is not None:
            payload["data"] = data
        if guild is not None and member is not None:
            bot_member = guild.bot_member
            payload.update(
                guild_id=str(guild.id),
                guild={"id": str(guild.id), "locale": guild.locale, "features": []},
                guild_locale=guild.locale,
                member=member.to_json(permissions=channel.permissions_for(member)),
                channel=channel.to_json(for_user=member),
                app_permissions=str(channel.permissions_for(bot_member)),
                authorizing_integration_owners={"0": str(guild.id)},
                context=0,
            )
        else:
            payload.update(
                user=user.to_json(),
                channel=channel.to_json(),
                app_permissions=str(channel.permissions_for(user)),
                # A guild-installed app used in its bot DM: the guild key is "0".
                authorizing_integration_owners={"0": "0"},
                context=1,
            )
        if message is not None:
            payload["message"] = self._emu.message_json(message)
        result = InteractionResult(
            self,
            id=iid,
            token=token,
            type=type,
            payload=payload,
            user=user,
            member=member,
            guild=guild,
            channel=channel,
            label=label,
            source_message=message,
        )
        self.by_id[iid] = result
        self.by_token[token] = result
        return result

    def command(
        self,
        user: User,
        member: Member | None,
        guild: Guild | None,
        channel: Channel,
        command: str,
        options: Mapping[str, Any],
        *,
        focused: str | None = None,
        typed: str = "",
    ) -> InteractionResult:
        """A slash command (type 2) or, with `focused`, an autocomplete request (type 4)."""
        words = command.strip().lstrip("/").split()
        if not words:
            raise ValueError("empty command name")
        cmd = self._find(words[0], user, member, guild, channel, type=opt.CHAT_INPUT)
        defs = cmd.options
        path: list[Json] = []
        for word in words[1:]:
            match = next((o for o in defs if o["name"] == word and o["type"] in (1, 2)), None)
            if match is None:
                raise CommandUnavailable(
                    f"/{' '.join(words)}: {word!r} is not a subcommand here; "
                    f"choose from {[o['name'] for o in defs if o['type'] in (1, 2)]}"
                )
            path.append(match)
            defs = list(match.get("options") or [])
        if any(o["type"] in (1, 2) for o in defs):
            raise CommandUnavailable(
                f"/{' '.join(words)} needs a subcommand: "
                f"{[o['name'] for o in defs if o['type'] in (1, 2)]}"
            )
        resolved: Json = {}
        leaf = self._leaf_options(
            defs,
            options,
            resolved,
            guild,
            channel,
            member or user,
            label=f"/{' '.join(words)}",
            partial=focused is not None,
        )
        if focused is not None:
            fdef = next((o for o in defs if o["name"] == focused), None)
            if fdef is None:
                raise CommandUnavailable(
                    f"/{' '.join(words)} has no option {focused!r}; options: "
                    f"{[_option_label(o) for o in defs]}"
                )
            if not fdef.get("autocomplete"):
                raise CommandUnavailable(
                    f"option {focused!r} of /{' '.join(words)} has no autocomplete"
                )
            leaf = [o for o in leaf if o["name"] != focused]
            # Discord sends what the user typed so far, as a string, whatever the option type.
            leaf.append({"name": focused, "type": fdef["type"], "value": typed, "focused": True})
        nested: list[Json] = leaf
        for sub in reversed(path):
            nested = [{"name": sub["name"], "type": sub["type"], "options": nested}]
        data: Json = {"id": str(cmd.id), "name": cmd.name, "type": opt.CHAT_INPUT}
        if nested:
            data["options"] = nested
        if resolved:
            data["resolved"] = resolved
        if cmd.guild_id is not None:
            data["guild_id"] = str(cmd.guild_id)
        itype = APPLICATION_COMMAND if focused is None else APPLICATION_COMMAND_AUTOCOMPLETE
        label = f"/{' '.join(words)}" + (f" (autocomplete {focused})" if focused else "")
        return self._base(
            itype, user, member, guild, channel, label=f"{label} by {user.name}", data=data
        )

    def context_menu(
        self,
        user: User,
        member: Member | None,
        guild: Guild | None,
        channel: Channel,
        name: str,
        target: User | Member | PostedMessage,
    ) -> InteractionResult:
        from .world import Member as MemberCls

        is_message = isinstance(target, PostedMessage)
        ctype = opt.MESSAGE_COMMAND if is_message else opt.USER_COMMAND
        cmd = self._find(name, user, member, guild, channel, type=ctype)
        resolved: Json = {}
        if isinstance(target, PostedMessage):
            resolved["messages"] = {str(target.id): self._emu.message_json(target)}
            target_id = target.id
        else:
            target_user = target.user if isinstance(target, MemberCls) else target
            self._resolve_user(target_user, resolved, guild, channel)
            target_id = target_user.id
        data: Json = {
            "id": str(cmd.id),
            "name": cmd.name,
            "type": ctype,
            "target_id": str(target_id),
            "resolved": resolved,
        }
        if cmd.guild_id is not None:
            data["guild_id"] = str(cmd.guild_id)
        return self._base(
            APPLICATION_COMMAND,
            user,
            member,
            guild,
            channel,
            label=f"{name!r} context menu by {user.name}",
            data=data,
        )

    def component(
        self,
        user: User,
        member: Member | None,
        guild: Guild | None,
        message: PostedMessage,
        component: Json,
        values: list[str] | None = None,
        resolved: Json | None = None,
    ) -> InteractionResult:
        channel = self._emu.world.channel(message.channel_id)
        if channel is None:
            raise AssertionError(f"message {message.id} is in a channel that no longer exists")
        if component.get("disabled"):
            raise AssertionError(
                f"component {component.get('label') or component.get('custom_id')!r} is disabled"
            )
        if "custom_id" not in component:
            raise AssertionError(f"component {component.get('label')!r} has no custom_id (a link?)")
        if message.ephemeral:
            owner = self._owner_of(message)
            if owner is not None and owner.user.id != user.id:
                raise AssertionError("only the user who received an ephemeral message can use it")
        data: Json = {"custom_id": component["custom_id"], "component_type": component["type"]}
        if component.get("id") is not None:
            data["id"] = component["id"]
        if values is not None:
            data["values"] = values
        if resolved:
            data["resolved"] = resolved
        what = component.get("label") or component.get("placeholder") or component["custom_id"]
        return self._base(
            MESSAGE_COMPONENT,
            user,
            member,
            guild,
            channel,
            label=f"{what!r} on message {message.id} by {user.name}",
            data=data,
            message=message,
        )

    def modal_submit(
        self,
        user: User,
        member: Member | None,
        guild: Guild | None,
        modal: Modal,
        values: Mapping[str, str | list[str]],
    ) -> InteractionResult:
        opener = modal.opened_by
        if opener.user.id != user.id:
            raise AssertionError("a modal can only be submitted by the user it was shown to")
        filled: dict[str, Any] = {}
        for key, given in values.items():
            filled[modal.field(key).custom_id] = given
        for f in modal.fields:
            value: Any = filled.get(f.custom_id, f.value if f.type == 4 else None)
            if f.type == 4:
                text = value or ""
                if not isinstance(text, str):
                    raise TypeError(f"text input {f.label!r} takes a string")
                if f.required and not text:
                    raise AssertionError(f"modal field {f.label!r} is required")
                if text and f.min_length is not None and len(text) < f.min_length:
                    raise AssertionError(
                        f"modal field {f.label!r} needs at least {f.min_length} characters"
                    )
                if f.max_length is not None and len(text) > f.max_length:
                    raise AssertionError(
                        f"modal field {f.label!r} allows at most {f.max_length} characters"
                    )
            elif f.required and not value:
                raise AssertionError(f"modal field {f.label!r} is required")

        def answer(comp: Json) -> Json | None:
            ctype = comp.get("type")
            if ctype == 1:
                return {
                    "type": 1,
                    "components": [a for c in comp.get("components") or [] if (a := answer(c))],
                }
            if ctype == 18:
                inner = answer(comp["component"])
                out = {"type": 18, "component": inner}
                if comp.get("id") is not None:
                    out["id"] = comp["id"]
                return out
            if ctype == 10:
                return {"type": 10, **({"id": comp["id"]} if comp.get("id") is not None else {})}
            if ctype == 4:
                value = filled.get(comp["custom_id"], comp.get("value") or "")
                return {"type": 4, "custom_id": comp["custom_id"], "value": value}
            if ctype in (3, 5, 6, 7, 8):
                value = filled.get(comp["custom_id"], [])
                vals = [value] if isinstance(value, str) else list(value)
                return {"type": ctype, "custom_id": comp["custom_id"], "values": vals}
            return None

        data: Json = {
            "custom_id": modal.custom_id,
            "components": [a for c in modal.components if (a := answer(c))],
        }
        source = opener.source_message if opener.type == MESSAGE_COMPONENT else None
        return self._base(
            MODAL_SUBMIT,
            user,
            member,
            guild,
            opener.channel,
            label=f"modal {modal.title!r} submitted by {user.name}",
            data=data,
            message=source,
        )

    # -- option conversion -----------------------------------------------------------------------
    def _leaf_options(
        self,
        defs: list[Json],
        given: Mapping[str, Any],
        resolved: Json,
        guild: Guild | None,
        channel: Channel,
        invoker: User | Member,
        *,
        label: str,
        partial: bool,
    ) -> list[Json]:
        by_name = {o["name"]: o for o in defs}
        unknown = [k for k in given if k not in by_name]
        if unknown:
            raise CommandUnavailable(
                f"{label} has no option(s) {unknown}; options: {[_option_label(o) for o in defs]}"
            )
        out: list[Json] = []
        for d in defs:
            name = d["name"]
            if name not in given or given[name] is None:
                if d.get("required") and not partial:
                    raise CommandUnavailable(f"{label}: required option {name!r} is missing")
                continue
            value = self._convert(d, given[name], resolved, guild, channel, invoker, label)
            out.append({"name": name, "type": d["type"], "value": value})
        return out

    def _convert(
        self,
        d: Json,
        value: Any,
        resolved: Json,
        guild: Guild | None,
        channel: Channel,
        invoker: User | Member,
        label: str,
    ) -> Any:
        from .world import Channel as ChannelCls
        from .world import Member as MemberCls
        from .world import Role as RoleCls
        from .world import User as UserCls

        t = d["type"]
        name = f"{label} option {d['name']!r}"
        if t == opt.STRING:
            if not isinstance(value, str):
                raise TypeError(f"{name} takes a str, got {value!r}")
            if d.get("min_length") is not None and len(value) < d["min_length"]:
                raise CommandUnavailable(
                    f"{name}: Discord requires at least {d['min_length']} characters"
                )
            if d.get("max_length") is not None and len(value) > d["max_length"]:
                raise CommandUnavailable(
                    f"{name}: Discord allows at most {d['max_length']} characters"
                )
        elif t in (opt.INTEGER, opt.NUMBER):
            ok = isinstance(value, int) if t == opt.INTEGER else isinstance(value, int | float)
            if isinstance(value, bool) or not ok:
                raise TypeError(
                    f"{name} takes {'an int' if t == opt.INTEGER else 'a number'}, got {value!r}"
                )
            if d.get("min_value") is not None and value < d["min_value"]:
                raise CommandUnavailable(f"{name}: Discord requires a value >= {d['min_value']}")
            if d.get("max_value") is not None and value > d["max_value"]:
                raise CommandUnavailable(f"{name}: Discord requires a value <= {d['max_value']}")
        elif t == opt.BOOLEAN:
            if not isinstance(value, bool):
                raise TypeError(f"{name} takes a bool, got {value!r}")
        elif t == opt.USER:
            if isinstance(value, MemberCls):
                value = value.user
            if not isinstance(value, UserCls):
                raise TypeError(f"{name} takes a User or Member of the world, got {value!r}")
            self._resolve_user(value, resolved, guild, channel)
            return str(value.id)
        elif t == opt.CHANNEL:
            if not isinstance(value, ChannelCls):
                raise TypeError(f"{name} takes a Channel of the world, got {value!r}")
            allowed = d.get("channel_types")
            if allowed and value.type not in allowed:
                raise CommandUnavailable(f"{name}: channel type {value.type} not in {allowed}")
            resolved.setdefault("channels", {})[str(value.id)] = value.to_json(for_user=invoker)
            return str(value.id)
        elif t == opt.ROLE:
            if not isinstance(value, RoleCls):
                raise TypeError(f"{name} takes a Role of the world, got {value!r}")
            resolved.setdefault("roles", {})[str(value.id)] = value.to_json()
            return str(value.id)
        elif t == opt.MENTIONABLE:
            if isinstance(value, MemberCls):
                value = value.user
            if isinstance(value, RoleCls):
                resolved.setdefault("roles", {})[str(value.id)] = value.to_json()
            elif isinstance(value, UserCls):
                self._resolve_user(value, resolved, guild, channel)
            else:
                raise TypeError(f"{name} takes a User, Member or Role, got {value!r}")
            return str(value.id)
        elif t == opt.ATTACHMENT:
            upload = self._as_upload(value, name)
            att = self._emu.store_upload(channel.id, upload)
            data = att.to_json()
            data["ephemeral"] = True
            resolved.setdefault("attachments", {})[str(att.id)] = data
            return str(att.id)
        choices = d.get("choices")
        if choices and value not in [c["value"] for c in choices]:
            raise CommandUnavailable(
                f"{name}: {value!r} is not one of the choices {[c['value'] for c in choices]}"
            )
        return value

    @staticmethod
    def _as_upload(value: Any, name: str) -> Upload:
        if isinstance(value, Upload):
            return value
        if isinstance(value, tuple) and len(value) == 2:
            return Upload(str(value[0]), bytes(value[1]))
        if isinstance(value, bytes | bytearray):
            return Upload("file.bin", bytes(value))
        raise TypeError(f"{name} takes Upload(filename, data) or (filename, bytes), got {value!r}")

    def _resolve_user(
        self, user: User, resolved: Json, guild: Guild | None, channel: Channel
    ) -> None:
        resolved.setdefault("users", {})[str(user.id)] = user.to_json()
        if guild is not None and user.id in guild.members:
            m = guild.members[user.id]
            resolved.setdefault("members", {})[str(user.id)] = m.to_json(
                with_user=False, permissions=channel.permissions_for(m)
            )

    def _find(
        self,
        name: str,
        user: User,
        member: Member | None,
        guild: Guild | None,
        channel: Channel,
        *,
        type: int,
    ) -> RegisteredCommand:
        registry = self._emu.commands
        cmd = registry.find(name, guild_id=guild.id if guild else None, type=type)
        where = f"in {guild.name}" if guild else "in DMs"
        if cmd is None:
            known = sorted(
                c.name for c in registry.scope(None) + (registry.scope(guild.id) if guild else [])
            )
            raise CommandUnavailable(
                f"{user.name} cannot find command {name!r} {where}; registered: {known} "
                f"(sync calls so far: {len(registry.sync_calls)})"
            )
        contexts = cmd.contexts or [0, 1, 2]
        if (0 if guild else 1) not in contexts:
            raise CommandUnavailable(f"/{name} is not available {where} (contexts {contexts})")
        if guild is not None and member is not None:
            perms = channel.permissions_for(member)
            if not perms & USE_APPLICATION_COMMANDS:
                raise CommandUnavailable(
                    f"{user.name} may not use application commands in #{channel.name}"
                )
            needed = cmd.default_member_permissions
            if needed is not None and (member.guild_permissions & needed) != needed:
                raise CommandUnavailable(
                    f"/{name} is hidden from {user.name}: it needs permissions {needed} "
                    f"(default_member_permissions) and they have {member.guild_permissions}"
                )
        return cmd

    def _owner_of(self, message: PostedMessage) -> InteractionResult | None:
        if message.interaction_id is None:
            return None
        return self.by_id.get(message.interaction_id)

    # -- sending ---------------------------------------------------------------------------------
    async def send(self, result: InteractionResult, *, wait_ack: bool = True) -> InteractionResult:
        """Deliver INTERACTION_CREATE and (by default) wait for the bot's acknowledgement."""
        emu = self._emu
        await emu._wait(
            lambda: emu.gateway.connected, 5.0, "the bot to be connected to the gateway"
        )
        emu.gateway.dispatch("INTERACTION_CREATE", result.payload, force=True)
        if wait_ack:
            await self.wait_ack(result)
        return result

    async def wait_ack(self, result: InteractionResult) -> None:
        remaining = result.created_at + self.ack_deadline - asyncio.get_running_loop().time()
        try:
            await asyncio.wait_for(result._acked.wait(), max(remaining, 0))
        except TimeoutError:
            raise InteractionNotAcknowledged(self._explain_missing_ack(result)) from None

    def _explain_missing_ack(self, result: InteractionResult) -> str:
        lines = [
            f"{result.label}: the bot did not acknowledge the interaction within "
            f"{self.ack_deadline:g} s (Discord's deadline), so the user would see "
            "'The application did not respond'."
        ]
        if result.rejected_callbacks:
            lines.append(f"  callbacks Discord rejected: {result.rejected_callbacks}")
        emu = self._emu
        recent = [r for r in emu.requests if r.at >= result.created_at and r.status >= 400]
        for r in recent[-5:]:
            lines.append(f"  {r.method} {r.path} -> {r.status} {str(r.response)[:200]}")
        for v in emu.schema_violations[-3:]:
            lines.append(f"  schema violation: {v}")
        if not emu.gateway.connected:
            lines.append("  (the bot is not connected to the gateway)")
        return "\n".join(lines)

    # -- callbacks from the bot (REST) -----------------------------------------------------------
    def lookup(self, interaction_id: int, token: str) -> InteractionResult | None:
        result = self.by_id.get(interaction_id)
        if result is None or result.token != token:
            return None
        return result

    def token_alive(self, result: InteractionResult) -> bool:
        return asyncio.get_running_loop().time() - result.created_at < TOKEN_LIFETIME

    def deadline_passed(self, result: InteractionResult) -> bool:
        return asyncio.get_running_loop().time() - result.created_at > self.ack_deadline

    def set_modal(self, result: InteractionResult, data: Json) -> None:
        result.modal = Modal(data["custom_id"], data["title"], list(data["components"]), result)

    def set_choices(self, result: InteractionResult, data: Json) -> None:
        result.choices = [Choice(c["name"], c["value"]) for c in data.get("choices") or [] if c]

    @staticmethod
    def loading_flags(body: Json) -> int:
        flags = int((body.get("data") or {}).get("flags") or 0)
        return LOADING | (flags & EPHEMERAL)
