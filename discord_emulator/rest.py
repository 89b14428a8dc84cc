"""The REST API: routing, auth, faults, rate limits, body validation, then the handlers.

Every request goes through the same pipeline so that each is recorded (`emu.requests`) and each
response carries Discord's rate-limit headers and `Via` (discord.py only retries a 429 that came
through Discord's proxy, i.e. that has `Via`). Errors use Discord's shapes and codes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import re
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, web

from . import interactions as ix
from . import permissions as perms
from .messages import EPHEMERAL, LOADING, PostedMessage
from .ratelimits import Decision, Fault
from .routes import SERVED_ROUTES
from .schema import SchemaViolation
from .world import (
    ANNOUNCEMENT_THREAD,
    DM,
    GUILD_ANNOUNCEMENT,
    GUILD_TEXT,
    GUILD_VOICE,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
)

if TYPE_CHECKING:
    from .interactions import InteractionResult
    from .server import Emulator, RecordedRequest
    from .world import Channel, Guild

log = logging.getLogger(__name__)

Json = dict[str, Any]

CONTENT_LIMIT = 2000
EMBED_TOTAL_LIMIT = 6000
MENTIONS_LIMIT = 100  # users, and roles, in allowed_mentions
#: Where messages can be posted (not in forums or categories themselves).
TEXT_LIKE: tuple[int, ...] = (GUILD_TEXT, DM, GUILD_VOICE, GUILD_ANNOUNCEMENT)
TEXT_LIKE += (ANNOUNCEMENT_THREAD, PUBLIC_THREAD, PRIVATE_THREAD)
UPLOAD_LIMIT = 10 * 1024 * 1024
NONCE_WINDOW = timedelta(minutes=5)

SUPPRESS_EMBEDS = 1 << 2
SUPPRESS_NOTIFICATIONS = 1 << 12
IS_COMPONENTS_V2 = 1 << 15
_CREATE_FLAGS = SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | IS_COMPONENTS_V2
_INTERACTION_FLAGS = _CREATE_FLAGS | EPHEMERAL

# Chat-input command and option names (Discord's documented regex, lower case only).
_NAME_RE = re.compile(r"^[-_'\w\u0900-\u097F\u0E00-\u0E7F]{1,32}$")


class ApiError(Exception):
    """An error answer in Discord's shape: {"message": ..., "code": ...[, "errors": ...]}."""

    def __init__(self, status: int, code: int, message: str, errors: Json | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body: Json = {"message": message, "code": code}
        if errors is not None:
            self.body["errors"] = errors


def unknown(what: str, code: int) -> ApiError:
    return ApiError(404, code, f"Unknown {what}")


MISSING_ACCESS = (403, 50001, "Missing Access")
MISSING_PERMISSIONS = (403, 50013, "Missing Permissions")


@dataclass
class Upload:
    field: str
    filename: str
    content_type: str | None
    data: bytes


@dataclass
class Call:
    """One request as handlers see it."""

    method: str
    path: str
    route: str
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    files: list[Upload] = field(default_factory=list)

    def int(self, name: str) -> int:
        return int(self.params[name])


Handler = Callable[[Call], Awaitable[tuple[int, Any]]]


def _compile(template: str) -> re.Pattern[str]:
    def repl(m: re.Match[str]) -> str:
        name = m.group(1)
        pattern = r"\d+" if name.endswith("_id") else r"[^/]+"
        return f"(?P<{name}>{pattern})"

    return re.compile(
        "^"
        + re.sub(r"\{(\w+)\}", repl, re.escape(template).replace(r"\{", "{").replace(r"\}", "}"))
        + "$"
    )


def _errors_tree(violations: list[SchemaViolation]) -> Json:
    """Discord's nested `errors` object for 50035 Invalid Form Body."""
    tree: Json = {}
    for v in violations:
        node = tree
        for part in v.parts:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": v.code, "message": v.message})
    return tree


def embed_length(embed: Json) -> int:
    n = len(embed.get("title") or "") + len(embed.get("description") or "")
    for f in embed.get("fields") or []:
        n += len(f.get("name") or "") + len(f.get("value") or "")
    n += len((embed.get("footer") or {}).get("text") or "")
    n += len((embed.get("author") or {}).get("name") or "")
    return n


def message_rules(
    body: Json, *, creating: bool, has_files: bool
) -> list[tuple[tuple[Any, ...], str, str]]:
    """Discord's limits that the OpenAPI schema does not express: (location, code, message)."""
    out: list[tuple[tuple[Any, ...], str, str]] = []
    content = body.get("content")
    if isinstance(content, str) and len(content) > CONTENT_LIMIT:
        out.append(
            (("content",), "BASE_TYPE_MAX_LENGTH", f"Must be {CONTENT_LIMIT} or fewer in length.")
        )
    embeds = body.get("embeds") or []
    if (
        isinstance(embeds, list)
        and sum(embed_length(e) for e in embeds if isinstance(e, dict)) > EMBED_TOTAL_LIMIT
    ):
        out.append(
            (("embeds",), "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")
        )
    am = body.get("allowed_mentions")
    if isinstance(am, dict):
        for kind in ("users", "roles"):
            listed = am.get(kind)
            if isinstance(listed, list) and len(listed) > MENTIONS_LIMIT:
                out.append(
                    (
                        ("allowed_mentions", kind),
                        "BASE_TYPE_MAX_LENGTH",
                        f"Must be {MENTIONS_LIMIT} or fewer in length.",
                    )
                )
        parse = am.get("parse") or []
        for kind in ("users", "roles"):
            if kind in parse and am.get(kind):
                out.append(
                    (
                        ("allowed_mentions",),
                        "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                        f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
                    )
                )
    if creating and not (
        content
        or embeds
        or has_files
        or body.get("sticker_ids")
        or body.get("components")
        or body.get("poll")
    ):
        out.append(((), "EMPTY_MESSAGE", "Cannot send an empty message"))
    return out


def command_rules(commands: list[Json]) -> list[tuple[tuple[Any, ...], str, str]]:
    """Checks Discord makes on command registration beyond the schema."""
    out: list[tuple[tuple[Any, ...], str, str]] = []
    seen: set[tuple[str, int]] = set()
    for i, cmd in enumerate(commands):
        if not isinstance(cmd, dict):
            continue
        ctype = int(cmd.get("type") or 1)
        key = (str(cmd.get("name")), ctype)
        if key in seen:
            out.append(
                (
                    (i, "name"),
                    "APPLICATION_COMMANDS_DUPLICATE_NAME",
                    f"Application command names must be unique: {key[0]}",
                )
            )
        seen.add(key)
        if ctype == 1:
            out += _check_chat_input((i,), cmd, top=True)
    return out


def _check_chat_input(
    loc: tuple[Any, ...], node: Json, *, top: bool
) -> list[tuple[tuple[Any, ...], str, str]]:
    out: list[tuple[tuple[Any, ...], str, str]] = []
    name = str(node.get("name") or "")
    if not _NAME_RE.match(name) or name != name.lower():
        out.append(
            (
                (*loc, "name"),
                "APPLICATION_COMMAND_INVALID_NAME",
                f"Command name is invalid: {name!r}",
            )
        )
    if not node.get("description"):
        out.append(((*loc, "description"), "BASE_TYPE_REQUIRED", "This field is required"))
    options = node.get("options") or []
    seen_optional = False
    names: set[str] = set()
    for j, o in enumerate(options):
        if not isinstance(o, dict):
            continue
        if o.get("name") in names:
            out.append(
                (
                    (*loc, "options", j, "name"),
                    "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                    "Option names must be unique",
                )
            )
        names.add(str(o.get("name")))
        if o.get("type") in (1, 2):
            out += _check_chat_input((*loc, "options", j), o, top=False)
            continue
        oname = str(o.get("name") or "")
        if not _NAME_RE.match(oname) or oname != oname.lower():
            out.append(
                (
                    (*loc, "options", j, "name"),
                    "APPLICATION_COMMAND_INVALID_NAME",
                    f"Option name is invalid: {oname!r}",
                )
            )
        if o.get("required"):
            if seen_optional:
                out.append(
                    (
                        (*loc, "options", j),
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options",
                    )
                )
        else:
            seen_optional = True
        if o.get("autocomplete") and o.get("choices"):
            out.append(
                (
                    (*loc, "options", j, "autocomplete"),
                    "APPLICATION_COMMAND_AUTOCOMPLETE_INVALID",
                    "Autocomplete cannot be set with choices",
                )
            )
    del top
    return out


class RestApi:
    """Routes requests to handlers; see the module docstring for the pipeline."""

    def __init__(self, emulator: Emulator) -> None:
        self._emu = emulator
        self._nonces: dict[tuple[int, str], tuple[int, datetime]] = {}
        table: dict[tuple[str, str], Handler] = {
            ("GET", "/gateway"): self.get_gateway,
            ("GET", "/gateway/bot"): self.get_gateway_bot,
            ("GET", "/users/@me"): self.get_me,
            ("GET", "/oauth2/applications/@me"): self.get_application,
            ("GET", "/applications/@me"): self.get_application,
            ("GET", "/applications/{application_id}/commands"): self.list_commands,
            ("PUT", "/applications/{application_id}/commands"): self.put_commands,
            ("POST", "/applications/{application_id}/commands"): self.post_command,
            ("GET", "/applications/{application_id}/commands/{command_id}"): self.get_command,
            ("PATCH", "/applications/{application_id}/commands/{command_id}"): self.patch_command,
            ("DELETE", "/applications/{application_id}/commands/{command_id}"): self.delete_command,
            (
                "GET",
                "/applications/{application_id}/guilds/{guild_id}/commands",
            ): self.list_commands,
            ("PUT", "/applications/{application_id}/guilds/{guild_id}/commands"): self.put_commands,
            (
                "POST",
                "/applications/{application_id}/guilds/{guild_id}/commands",
            ): self.post_command,
            (
                "GET",
                "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}",
            ): self.get_command,
            (
                "PATCH",
                "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}",
            ): self.patch_command,
            (
                "DELETE",
                "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}",
            ): self.delete_command,
            (
                "GET",
                "/applications/{application_id}/guilds/{guild_id}/commands/permissions",
            ): self.command_permissions,
            (
                "POST",
                "/interactions/{interaction_id}/{interaction_token}/callback",
            ): self.interaction_callback,
            ("POST", "/webhooks/{webhook_id}/{webhook_token}"): self.followup,
            (
                "GET",
                "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
            ): self.get_webhook_message,
            (
                "PATCH",
                "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
            ): self.edit_webhook_message,
            (
                "DELETE",
                "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
            ): self.delete_webhook_message,
            (
                "GET",
                "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
            ): self.get_webhook_message,
            (
                "PATCH",
                "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
            ): self.edit_webhook_message,
            (
                "DELETE",
                "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
            ): self.delete_webhook_message,
            ("GET", "/channels/{channel_id}"): self.get_channel,
            ("GET", "/channels/{channel_id}/messages"): self.list_messages,
            ("POST", "/channels/{channel_id}/messages"): self.create_message,
            ("GET", "/channels/{channel_id}/messages/{message_id}"): self.get_message,
            ("PATCH", "/channels/{channel_id}/messages/{message_id}"): self.edit_message,
            ("DELETE", "/channels/{channel_id}/messages/{message_id}"): self.delete_message,
            ("POST", "/channels/{channel_id}/messages/bulk-delete"): self.bulk_delete,
            ("POST", "/channels/{channel_id}/typing"): self.typing,
            (
                "PUT",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me",
            ): self.add_reaction,
            (
                "DELETE",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me",
            ): self.remove_reaction,
            ("PUT", "/channels/{channel_id}/pins/{message_id}"): self.pin,
            ("DELETE", "/channels/{channel_id}/pins/{message_id}"): self.unpin,
            ("PUT", "/channels/{channel_id}/messages/pins/{message_id}"): self.pin,
            ("DELETE", "/channels/{channel_id}/messages/pins/{message_id}"): self.unpin,
            ("GET", "/users/{user_id}"): self.get_user,
            ("POST", "/users/@me/channels"): self.create_dm,
            ("GET", "/users/@me/guilds"): self.my_guilds,
            ("DELETE", "/users/@me/guilds/{guild_id}"): self.leave_guild,
            ("GET", "/guilds/{guild_id}"): self.get_guild,
            ("GET", "/guilds/{guild_id}/channels"): self.guild_channels,
            ("GET", "/guilds/{guild_id}/roles"): self.guild_roles,
            ("GET", "/guilds/{guild_id}/members"): self.guild_members,
            ("GET", "/guilds/{guild_id}/members/{user_id}"): self.guild_member,
        }
        missing = set(SERVED_ROUTES) ^ set(table)
        if missing:
            raise RuntimeError(f"routes.py and rest.py disagree about {sorted(missing)}")
        self._routes = [(m, t, _compile(t), h) for (m, t), h in table.items()]

    # -- pipeline --------------------------------------------------------------------------------
    def _match(
        self, method: str, path: str
    ) -> tuple[str | None, dict[str, str], Handler | None, bool]:
        path_known = False
        for m, template, regex, handler in self._routes:
            found = regex.match(path)
            if found:
                path_known = True
                if m == method:
                    return template, found.groupdict(), handler, True
        return None, {}, None, path_known

    async def handle_outside_api(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self._emu.unknown_routes.append(f"{request.method} {path}")
        return self._json(404, {"message": "404: Not Found", "code": 0}, {})

    async def handle(self, request: web.Request) -> web.StreamResponse:
        emu = self._emu
        method = request.method
        path = request.match_info["tail"]
        route, params, handler, path_known = self._match(method, path)
        try:
            body, files, content_type = await self._read_body(request)
        except ApiError as exc:
            body, files, content_type = None, [], ""
            parse_error: ApiError | None = exc
        else:
            parse_error = None
        from .server import RecordedRequest

        record = RecordedRequest(
            method,
            path,
            route,
            dict(request.query),
            body,
            [f.filename for f in files],
            asyncio.get_running_loop().time(),
        )
        emu.requests.append(record)
        if route is None or handler is None:
            emu.unknown_routes.append(f"{method} {path}")
            status = 405 if path_known else 404
            reason = HTTPStatus(status).phrase
            return self._finish(record, status, {"message": f"{status}: {reason}", "code": 0}, {})
        route_key = f"{method} {route}"
        if not route.startswith(("/interactions/", "/webhooks/", "/gateway")):
            auth = request.headers.get("Authorization")
            if auth != f"Bot {emu.bot_token}":
                return self._finish(record, 401, {"message": "401: Unauthorized", "code": 0}, {})
        major = "+".join(
            params[k]
            for k in ("channel_id", "guild_id", "webhook_id", "webhook_token", "interaction_id")
            if k in params
        )
        fault = emu.faults.take(method, route, path)
        if fault is not None and not fault.after_processing:
            return self._fault(record, fault, emu.ratelimits.peek(route_key, major))
        decision = emu.ratelimits.check(route_key, major)
        if decision.limited:
            return self._finish(record, 429, decision.body(), decision.headers)
        if parse_error is not None:
            return self._finish(record, parse_error.status, parse_error.body, decision.headers)
        call = Call(method, path, route, params, dict(request.query), body, files)
        violations = self._validate(call, content_type)
        if violations:
            emu.schema_violations.extend(violations)
            for v in violations:
                log.warning("Discord would reject the bot's request: %s", v)
            if emu.reject_invalid_bodies:
                empty = [v for v in violations if v.code == "EMPTY_MESSAGE"]
                if empty and len(empty) == len(violations):
                    err: Json = {"message": "Cannot send an empty message", "code": 50006}
                else:
                    err = {
                        "message": "Invalid Form Body",
                        "code": 50035,
                        "errors": _errors_tree(violations),
                    }
                return self._finish(record, 400, err, decision.headers)
        try:
            status, payload = await handler(call)
        except ApiError as exc:
            status, payload = exc.status, exc.body
        if fault is not None:
            # The request took effect, but the bot never learns: the response is lost.
            return self._fault(record, fault, decision.headers)
        return self._finish(record, status, payload, decision.headers)

    def _fault(
        self, record: RecordedRequest, fault: Fault, bucket_headers: dict[str, str]
    ) -> web.Response:
        if fault.status == 429:
            decision = Decision(
                {
                    **bucket_headers,
                    "X-RateLimit-Remaining": "0",
                    "Retry-After": str(math.ceil(fault.retry_after)),
                    "X-RateLimit-Scope": "global" if fault.is_global else "user",
                    **({"X-RateLimit-Global": "true"} if fault.is_global else {}),
                },
                limited=True,
                retry_after=fault.retry_after,
                is_global=fault.is_global,
            )
            return self._finish(record, 429, decision.body(), decision.headers)
        try:
            reason = HTTPStatus(fault.status).phrase
        except ValueError:
            reason = "Error"
        body = {"message": fault.message or f"{fault.status}: {reason}", "code": fault.code}
        return self._finish(record, fault.status, body, bucket_headers)

    def _finish(
        self, record: RecordedRequest, status: int, payload: Any, headers: dict[str, str]
    ) -> web.Response:
        response = self._json(status, payload, headers)
        record.status = status
        record.response = payload
        record.headers = dict(response.headers)
        self._emu._notify()
        return response

    def _json(self, status: int, payload: Any, headers: dict[str, str]) -> web.Response:
        all_headers = {"Via": "1.1 google", **headers}
        if "X-RateLimit-Limit" not in all_headers:
            all_headers.update(self._emu.ratelimits.peek("unrouted"))
        if status == 204 or payload is None:
            return web.Response(status=204 if payload is None else status, headers=all_headers)
        # Exactly "application/json" (no charset): discord.py compares the header verbatim.
        all_headers["Content-Type"] = "application/json"
        return web.Response(
            status=status,
            body=json.dumps(payload, separators=(",", ":")).encode(),
            headers=all_headers,
        )

    async def _read_body(self, request: web.Request) -> tuple[Any, list[Upload], str]:
        if not request.can_read_body:
            return None, [], ""
        ctype = request.content_type
        if ctype == "multipart/form-data":
            body: Any = None
            files: list[Upload] = []
            reader = await request.multipart()
            total = 0
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader):
                    raise ApiError(400, 50035, "Nested multipart bodies are not supported")
                data = await part.read()
                name = part.name or ""
                if name == "payload_json":
                    try:
                        body = json.loads(data)
                    except ValueError:
                        raise ApiError(
                            400, 50109, "The request body contains invalid JSON."
                        ) from None
                else:
                    total += len(data)
                    files.append(
                        Upload(
                            name,
                            part.filename or name,
                            part.headers.get("Content-Type"),
                            bytes(data),
                        )
                    )
            if total > UPLOAD_LIMIT:
                raise ApiError(413, 40005, "Request entity too large")
            return body, files, "multipart/form-data"
        raw = await request.read()
        if not raw:
            return None, [], ctype
        if ctype != "application/json":
            raise ApiError(400, 50035, f"Unsupported content type {ctype!r}")
        try:
            return json.loads(raw), [], ctype
        except ValueError:
            raise ApiError(400, 50109, "The request body contains invalid JSON.") from None

    def _validate(self, call: Call, content_type: str) -> list[SchemaViolation]:
        emu = self._emu
        if call.body is None:
            return []
        out = emu.validator.validate(
            call.method,
            call.route,
            call.path,
            call.body,
            content_type=content_type or "application/json",
        )
        rules: list[tuple[tuple[Any, ...], str, str]] = []
        body = call.body
        if isinstance(body, dict):
            has_files = bool(call.files)
            if call.route == "/channels/{channel_id}/messages" and call.method == "POST":
                rules = message_rules(body, creating=True, has_files=has_files)
            elif (
                call.route.endswith(("/messages/{message_id}", "/messages/@original"))
                and call.method == "PATCH"
            ):
                rules = message_rules(body, creating=False, has_files=has_files)
            elif call.route == "/webhooks/{webhook_id}/{webhook_token}":
                rules = message_rules(body, creating=True, has_files=has_files)
            elif (
                call.route.endswith("/callback")
                and body.get("type") in (4, 7)
                and isinstance(body.get("data"), dict)
            ):
                rules = [
                    (("data", *loc), code, msg)
                    for loc, code, msg in message_rules(
                        body["data"], creating=body.get("type") == 4, has_files=has_files
                    )
                ]
            elif call.route.endswith("/commands") and call.method == "POST":
                rules = command_rules([body])
        elif isinstance(body, list) and call.route.endswith("/commands"):
            rules = command_rules(body)
        excerpt = json.dumps(body, default=str)[:300]
        for loc, code, msg in rules:
            out.append(
                SchemaViolation(
                    call.method,
                    call.route,
                    call.path,
                    f"{msg} (Discord rule {code})",
                    "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc),
                    excerpt,
                    parts=tuple(loc),
                    code=code,
                )
            )
        return out

    # -- helpers ---------------------------------------------------------------------------------
    def _check_app(self, call: Call) -> None:
        if call.int("application_id") != self._emu.application_id:
            raise ApiError(*MISSING_ACCESS)

    def _guild_scope(self, call: Call) -> int | None:
        if "guild_id" not in call.params:
            return None
        gid = call.int("guild_id")
        guild = self._emu.world.guilds.get(gid)
        if guild is None or not guild.bot_present:
            raise ApiError(*MISSING_ACCESS)
        return gid

    def _channel(self, call: Call, *, need: int = perms.VIEW_CHANNEL) -> Channel:
        world = self._emu.world
        channel = world.channel(call.int("channel_id"))
        if channel is None or (channel.guild is not None and not channel.guild.bot_present):
            raise unknown("Channel", 10003)
        if channel.guild is not None:
            have = channel.permissions_for(channel.guild.bot_member)
            if not have & perms.VIEW_CHANNEL:
                raise ApiError(*MISSING_ACCESS)
            if have & need != need:
                raise ApiError(*MISSING_PERMISSIONS)
        return channel

    def _message_in(self, channel: Channel, message_id: int) -> PostedMessage:
        try:
            msg = self._emu.messages.get(message_id)
        except KeyError:
            raise unknown("Message", 10008) from None
        if msg.channel_id != channel.id or msg.deleted or msg.ephemeral:
            raise unknown("Message", 10008)
        return msg

    def _apply(
        self, message: PostedMessage, body: Json, files: list[Upload], *, editing: bool
    ) -> None:
        """Apply a create/edit body (+ multipart files) to a message, Discord style."""
        emu = self._emu
        if editing:
            snapshot: Json = {
                "content": message.content,
                "embeds": message.embeds,
                "components": message.components,
                "attachments": [a.filename for a in message.attachments],
                "flags": message.flags,
            }
            message.edits.append(snapshot)
            message.edited_at = emu.clock()
        if "content" in body:
            message.content = body.get("content") or ""
        if "embeds" in body:
            message.embeds = [self._normalise_embed(e) for e in body.get("embeds") or []]
        if "components" in body:
            message.components = list(body.get("components") or [])
        if "allowed_mentions" in body:
            message.allowed_mentions = body.get("allowed_mentions")
        if body.get("flags") is not None:
            flags = int(body["flags"])
            keep = message.flags & (EPHEMERAL | LOADING) if editing else message.flags & LOADING
            allowed = _INTERACTION_FLAGS if message.interaction_id else _CREATE_FLAGS
            message.flags = keep | (flags & allowed)
        by_field = {f.field: f for f in files}
        new_atts = []
        if "attachments" in body and body.get("attachments") is not None:
            existing = {a.id: a for a in message.attachments}
            kept = []
            for entry in body["attachments"]:
                raw_id = str(entry.get("id"))
                upload = by_field.pop(f"files[{raw_id}]", None)
                if upload is not None:
                    att = emu.store_upload(
                        message.channel_id,
                        ix.Upload(
                            entry.get("filename") or upload.filename,
                            upload.data,
                            upload.content_type,
                        ),
                    )
                    att.description = entry.get("description")
                    att.title = entry.get("title")
                    new_atts.append(att)
                elif raw_id.isdigit() and int(raw_id) in existing:
                    kept.append(existing[int(raw_id)])
            message.attachments = kept + new_atts
        for upload in by_field.values():
            # Files without an `attachments` entry are attached as they are.
            message.attachments.append(
                emu.store_upload(
                    message.channel_id, ix.Upload(upload.filename, upload.data, upload.content_type)
                )
            )
        if editing:
            emu.messages.resolve_pings(message, webhook=message.webhook_id is not None)

    @staticmethod
    def _normalise_embed(embed: Json) -> Json:
        out = {k: v for k, v in embed.items() if v is not None}
        out.setdefault("type", "rich")
        out.setdefault("content_scan_version", 0)
        return out

    def _new_message(self, channel: Channel, **kwargs: Any) -> PostedMessage:
        world = self._emu.world
        return PostedMessage(
            id=world.snowflakes.next(),
            channel_id=channel.id,
            guild_id=channel.guild.id if channel.guild else None,
            author_id=world.bot_user.id,
            **kwargs,
        )

    # -- start-up --------------------------------------------------------------------------------
    async def get_gateway(self, call: Call) -> tuple[int, Any]:
        return 200, {"url": self._emu.gateway_url.rstrip("/")}

    async def get_gateway_bot(self, call: Call) -> tuple[int, Any]:
        """Discord recommends one shard per 1,000 guilds."""
        gateway = self._emu.gateway
        guilds = sum(1 for g in self._emu.world.guilds.values() if g.bot_present)
        return 200, {
            "url": self._emu.gateway_url.rstrip("/"),
            "shards": max(1, -(-guilds // 1000)),
            "session_start_limit": {
                "total": gateway.start_limit_total,
                "remaining": max(0, gateway.start_limit_remaining),
                "reset_after": 14_400_000,
                "max_concurrency": gateway.max_concurrency,
            },
        }

    async def get_me(self, call: Call) -> tuple[int, Any]:
        bot = self._emu.world.bot_user
        return 200, {
            **bot.to_json(),
            "verified": True,
            "mfa_enabled": False,
            "locale": "en-US",
            "email": None,
            "bio": "",
        }

    async def get_application(self, call: Call) -> tuple[int, Any]:
        world = self._emu.world
        data = world.application.to_json(world.bot_user)
        data["approximate_guild_count"] = sum(1 for g in world.guilds.values() if g.bot_present)
        return 200, data

    # -- commands --------------------------------------------------------------------------------
    async def list_commands(self, call: Call) -> tuple[int, Any]:
        self._check_app(call)
        return 200, self._emu.commands.tree(self._guild_scope(call))

    async def put_commands(self, call: Call) -> tuple[int, Any]:
        self._check_app(call)
        scope = self._guild_scope(call)
        cmds = self._emu.commands.bulk_overwrite(scope, call.body or [])
        self._emu._notify()
        return 200, [c.to_json() for c in cmds]

    async def post_command(self, call: Call) -> tuple[int, Any]:
        self._check_app(call)
        scope = self._guild_scope(call)
        existed = self._emu.commands.find(
            call.body["name"], guild_id=scope, type=int(call.body.get("type") or 1)
        )
        cmd = self._emu.commands.upsert(scope, call.body)
        return (200 if existed and existed.guild_id == scope else 201), cmd.to_json()

    async def get_command(self, call: Call) -> tuple[int, Any]:
        self._check_app(call)
        cmd = self._emu.commands.get(self._guild_scope(call), call.int("command_id"))
        if cmd is None:
            raise unknown("application command", 10063)
        return 200, cmd.to_json()

    async def patch_command(self, call: Call) -> tuple[int, Any]:
        self._check_app(call)
        cmd = self._emu.commands.edit(
            self._guild_scope(call), call.int("command_id"), call.body or {}
        )
        if cmd is None:
            raise unknown("application command", 10063)
        return 200, cmd.to_json()

    async def delete_command(self, call: Call) -> tuple[int, Any]:
        self._check_app(call)
        if not self._emu.commands.delete(self._guild_scope(call), call.int("command_id")):
            raise unknown("application command", 10063)
        return 204, None

    async def command_permissions(self, call: Call) -> tuple[int, Any]:
        self._check_app(call)
        self._guild_scope(call)
        return 200, []

    # -- interactions ----------------------------------------------------------------------------
    def _interaction_metadata(self, result: InteractionResult) -> Json:
        meta: Json = {
            "id": str(result.id),
            "type": result.type,
            "user": result.user.to_json(),
            "authorizing_integration_owners": result.payload.get(
                "authorizing_integration_owners", {}
            ),
        }
        if result.type == ix.APPLICATION_COMMAND:
            meta["name"] = result.payload["data"]["name"]
            meta["command_type"] = result.payload["data"].get("type", 1)
        if result.source_message is not None:
            meta["interacted_message_id"] = str(result.source_message.id)
        return meta

    def _response_message(self, result: InteractionResult, kind: str) -> PostedMessage:
        world = self._emu.world
        mtype = 0
        if result.type == ix.APPLICATION_COMMAND:
            mtype = 20 if result.payload["data"].get("type", 1) == 1 else 23
        elif result.type in (ix.MESSAGE_COMPONENT, ix.MODAL_SUBMIT):
            mtype = 19 if kind == "response" else 0
        msg = self._new_message(
            result.channel,
            type=mtype,
            webhook_id=world.application.id,
            application_id=world.application.id,
            interaction_id=result.id,
            interaction_metadata=self._interaction_metadata(result),
            kind=kind,
        )
        if result.source_message is not None and mtype == 19:
            msg.message_reference = {
                "type": 0,
                "message_id": str(result.source_message.id),
                "channel_id": str(result.channel.id),
                **({"guild_id": str(result.guild.id)} if result.guild else {}),
            }
        return msg

    async def interaction_callback(self, call: Call) -> tuple[int, Any]:
        emu = self._emu
        engine = emu.interactions
        result = engine.lookup(call.int("interaction_id"), call.params["interaction_token"])
        if result is None:
            raise unknown("interaction", 10062)
        body: Json = call.body or {}
        cb = body.get("type")
        if result.acknowledged:
            err = ApiError(400, 40060, "Interaction has already been acknowledged.")
            result.rejected_callbacks.append((err.status, err.body))
            raise err
        if engine.deadline_passed(result):
            err = unknown("interaction", 10062)
            result.rejected_callbacks.append((err.status, err.body))
            raise err
        if cb not in ix.ALLOWED_CALLBACKS.get(result.type, set()) or (
            cb in (ix.DEFERRED_UPDATE_MESSAGE, ix.UPDATE_MESSAGE) and result.source_message is None
        ):
            err = ApiError(
                400,
                50035,
                "Invalid Form Body",
                {
                    "type": {
                        "_errors": [
                            {
                                "code": "INTERACTION_RESPONSE_TYPE_INVALID",
                                "message": f"Callback type {cb} is not valid for "
                                f"interaction type {result.type}",
                            }
                        ]
                    }
                },
            )
            result.rejected_callbacks.append((err.status, err.body))
            raise err
        data: Json = body.get("data") or {}
        interaction_info: Json = {"id": str(result.id), "type": result.type}
        resource: Json = {"type": cb}
        if cb == ix.CHANNEL_MESSAGE_WITH_SOURCE:
            msg = self._response_message(result, "response")
            self._apply(msg, data, call.files, editing=False)
            emu.publish(msg, webhook=True)
            result.original = msg
            resource["message"] = emu.message_json(msg)
        elif cb == ix.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE:
            msg = self._response_message(result, "response")
            msg.flags = engine.loading_flags(body)
            emu.publish(msg, webhook=True)
            result.original = msg
            interaction_info["response_message_loading"] = True
            resource["message"] = emu.message_json(msg)
        elif cb == ix.DEFERRED_UPDATE_MESSAGE:
            result.original = result.source_message
        elif cb == ix.UPDATE_MESSAGE:
            source = result.source_message
            assert source is not None
            self._apply(source, data, call.files, editing=True)
            emu.announce_edit(source)
            result.original = source
            resource["message"] = emu.message_json(source)
        elif cb == ix.APPLICATION_COMMAND_AUTOCOMPLETE_RESULT:
            engine.set_choices(result, data)
        elif cb == ix.MODAL:
            engine.set_modal(result, data)
        if result.original is not None and cb != ix.DEFERRED_UPDATE_MESSAGE:
            interaction_info["response_message_id"] = str(result.original.id)
            interaction_info["response_message_ephemeral"] = result.original.ephemeral
        result._ack(cb, body)
        emu._notify()
        if call.query.get("with_response") not in ("1", "true", "True"):
            return 204, None
        answer: Json = {"interaction": interaction_info}
        if cb not in (ix.APPLICATION_COMMAND_AUTOCOMPLETE_RESULT, ix.DEFERRED_UPDATE_MESSAGE):
            answer["resource"] = resource
        return 200, answer

    def _webhook_interaction(self, call: Call) -> InteractionResult:
        emu = self._emu
        result = emu.interactions.by_token.get(call.params["webhook_token"])
        if result is None or call.int("webhook_id") != emu.application_id:
            raise unknown("Webhook", 10015)
        if not emu.interactions.token_alive(result):
            raise ApiError(401, 50027, "Invalid Webhook Token")
        if not result.acknowledged:
            # The follow-up webhook only exists once the interaction has been answered.
            raise unknown("Webhook", 10015)
        return result

    async def followup(self, call: Call) -> tuple[int, Any]:
        emu = self._emu
        result = self._webhook_interaction(call)
        body: Json = call.body or {}
        original = result.original
        if original is not None and original.loading and not original.deleted:
            # After a deferral, the first follow-up fills in the "thinking…" message (unless
            # the bot deleted it: then the follow-up is a message of its own).
            self._apply(original, body, call.files, editing=True)
            original.flags &= ~LOADING
            emu.announce_edit(original)
            msg = original
        else:
            msg = self._response_message(result, "followup")
            self._apply(msg, body, call.files, editing=False)
            emu.publish(msg, webhook=True)
        result.followup_messages.append(msg)
        emu._notify()
        if call.query.get("wait") in ("1", "true", "True"):
            return 200, emu.message_json(msg)
        return 204, None

    def _webhook_message(self, call: Call, result: InteractionResult) -> PostedMessage:
        if call.route.endswith("@original"):
            msg = result.original
        else:
            wanted = call.int("message_id")
            candidates = [m for m in [result.original, *result.followup_messages] if m is not None]
            msg = next((m for m in candidates if m.id == wanted), None)
        if msg is None or msg.deleted:
            raise unknown("Message", 10008)
        return msg

    async def get_webhook_message(self, call: Call) -> tuple[int, Any]:
        result = self._webhook_interaction(call)
        return 200, self._emu.message_json(self._webhook_message(call, result))

    async def edit_webhook_message(self, call: Call) -> tuple[int, Any]:
        emu = self._emu
        result = self._webhook_interaction(call)
        msg = self._webhook_message(call, result)
        self._apply(msg, call.body or {}, call.files, editing=True)
        msg.flags &= ~LOADING
        emu.announce_edit(msg)
        emu._notify()
        return 200, emu.message_json(msg)

    async def delete_webhook_message(self, call: Call) -> tuple[int, Any]:
        result = self._webhook_interaction(call)
        self._emu.announce_delete(self._webhook_message(call, result))
        return 204, None

    # -- channels and messages -------------------------------------------------------------------
    async def get_channel(self, call: Call) -> tuple[int, Any]:
        channel = self._channel(call)
        return 200, channel.to_json()

    async def list_messages(self, call: Call) -> tuple[int, Any]:
        channel = self._channel(call)
        if channel.guild is not None and not (
            channel.permissions_for(channel.guild.bot_member) & perms.READ_MESSAGE_HISTORY
        ):
            return 200, []  # Discord: without Read Message History, no messages are returned
        limit = max(1, min(int(call.query.get("limit", 50)), 100))
        msgs = sorted(self._emu.messages.in_channel(channel.id), key=lambda m: m.id, reverse=True)
        if "before" in call.query:
            msgs = [m for m in msgs if m.id < int(call.query["before"])]
        if "after" in call.query:
            msgs = sorted((m for m in msgs if m.id > int(call.query["after"])), key=lambda m: m.id)
        if "around" in call.query:
            around = int(call.query["around"])
            msgs = sorted(msgs, key=lambda m: abs(m.id - around))[:limit]
            msgs.sort(key=lambda m: m.id, reverse=True)
        return 200, [self._emu.message_json(m) for m in msgs[:limit]]

    async def create_message(self, call: Call) -> tuple[int, Any]:
        emu = self._emu
        world = emu.world
        target = world.channel(call.int("channel_id"))
        if target is not None and target.is_thread:
            # In a thread what counts is Send Messages in Threads (on its parent channel).
            channel = self._channel(call, need=perms.VIEW_CHANNEL | perms.SEND_MESSAGES_IN_THREADS)
            self._unarchive_to_send(channel)
        else:
            channel = self._channel(call, need=perms.VIEW_CHANNEL | perms.SEND_MESSAGES)
        if channel.type not in TEXT_LIKE:
            raise ApiError(400, 50008, "Cannot send messages in a non-text channel")
        body: Json = call.body or {}
        if channel.type == DM:
            user = channel.recipient
            assert user is not None
            if not user.dms_open or not world.shares_guild_with_bot(user):
                raise ApiError(403, 50007, "Cannot send messages to this user")
        elif call.files:
            assert channel.guild is not None
            if not channel.permissions_for(channel.guild.bot_member) & perms.ATTACH_FILES:
                raise ApiError(*MISSING_PERMISSIONS)
        nonce = body.get("nonce")
        now = emu.clock()  # the window is minutes: measured on the clock tests control
        if nonce is not None and body.get("enforce_nonce"):
            seen = self._nonces.get((channel.id, str(nonce)))
            if seen is not None and abs(now - seen[1]) < NONCE_WINDOW:
                with contextlib.suppress(KeyError):
                    return 200, emu.message_json(emu.messages.get(seen[0]), with_nonce=True)
        ref = body.get("message_reference")
        if (
            ref
            and channel.guild is not None
            and not channel.permissions_for(channel.guild.bot_member) & perms.READ_MESSAGE_HISTORY
        ):
            # A reply needs Read Message History, whatever fail_if_not_exists says.
            raise ApiError(
                400, 160002, "You need the read message history permission to reply to this message"
            )
        if ref and ref.get("message_id") and ref.get("fail_if_not_exists", True):
            try:
                self._message_in(channel, int(ref["message_id"]))
            except ApiError:
                raise ApiError(
                    400,
                    50035,
                    "Invalid Form Body",
                    {
                        "message_reference": {
                            "_errors": [
                                {
                                    "code": "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
                                    "message": "Unknown message",
                                }
                            ]
                        }
                    },
                ) from None
        msg = self._new_message(
            channel, nonce=nonce, tts=bool(body.get("tts")), type=19 if ref else 0
        )
        if ref:
            msg.message_reference = {
                "type": 0,
                "channel_id": str(channel.id),
                **{k: str(v) for k, v in ref.items() if k in ("message_id", "guild_id")},
            }
        self._apply(msg, body, call.files, editing=False)
        if (
            channel.guild is not None
            and not channel.permissions_for(channel.guild.bot_member) & perms.EMBED_LINKS
        ):
            msg.embeds = []  # Discord drops embeds silently without Embed Links.
        emu.publish(msg, webhook=False)
        if nonce is not None:
            self._nonces[(channel.id, str(nonce))] = (msg.id, now)
        return 200, emu.message_json(msg, with_nonce=True)

    def _unarchive_to_send(self, thread: Channel) -> None:
        """Sending in an archived thread unarchives it, unless it is locked and the bot may not
        manage threads (then Discord answers 50083)."""
        if not thread.archived:
            return
        assert thread.guild is not None
        may_manage = thread.permissions_for(thread.guild.bot_member) & perms.MANAGE_THREADS
        if thread.locked and not may_manage:
            raise ApiError(400, 50083, "Thread is archived")
        thread.archived = thread.locked = False
        self._emu.world._emit("THREAD_UPDATE", thread.to_json(), thread.guild.id)

    async def get_message(self, call: Call) -> tuple[int, Any]:
        channel = self._channel(call, need=perms.VIEW_CHANNEL | perms.READ_MESSAGE_HISTORY)
        return 200, self._emu.message_json(self._message_in(channel, call.int("message_id")))

    async def edit_message(self, call: Call) -> tuple[int, Any]:
        emu = self._emu
        channel = self._channel(call)
        msg = self._message_in(channel, call.int("message_id"))
        if msg.author_id != emu.world.bot_user.id:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        self._apply(msg, call.body or {}, call.files, editing=True)
        emu.announce_edit(msg)
        return 200, emu.message_json(msg)

    async def delete_message(self, call: Call) -> tuple[int, Any]:
        emu = self._emu
        channel = self._channel(call)
        msg = self._message_in(channel, call.int("message_id"))
        guild = channel.guild
        foreign = msg.author_id != emu.world.bot_user.id and guild is not None
        if (
            foreign
            and guild
            and not channel.permissions_for(guild.bot_member) & perms.MANAGE_MESSAGES
        ):
            raise ApiError(*MISSING_PERMISSIONS)
        emu.announce_delete(msg)
        return 204, None

    async def bulk_delete(self, call: Call) -> tuple[int, Any]:
        channel = self._channel(call, need=perms.VIEW_CHANNEL | perms.MANAGE_MESSAGES)
        for mid in (call.body or {}).get("messages", []):
            with contextlib.suppress(ApiError):
                self._emu.announce_delete(self._message_in(channel, int(mid)))
        return 204, None

    async def typing(self, call: Call) -> tuple[int, Any]:
        self._channel(call, need=perms.VIEW_CHANNEL | perms.SEND_MESSAGES)
        return 204, None

    async def add_reaction(self, call: Call) -> tuple[int, Any]:
        channel = self._channel(call, need=perms.VIEW_CHANNEL | perms.READ_MESSAGE_HISTORY)
        msg = self._message_in(channel, call.int("message_id"))
        emoji = unicodedata.normalize("NFC", call.params["emoji_name"])
        if emoji not in msg.reactions:
            msg.reactions.append(emoji)
        return 204, None

    async def remove_reaction(self, call: Call) -> tuple[int, Any]:
        channel = self._channel(call)
        msg = self._message_in(channel, call.int("message_id"))
        emoji = unicodedata.normalize("NFC", call.params["emoji_name"])
        if emoji in msg.reactions:
            msg.reactions.remove(emoji)
        return 204, None

    async def pin(self, call: Call) -> tuple[int, Any]:
        channel = self._channel(call, need=perms.VIEW_CHANNEL | perms.MANAGE_MESSAGES)
        self._message_in(channel, call.int("message_id")).pinned = True
        return 204, None

    async def unpin(self, call: Call) -> tuple[int, Any]:
        channel = self._channel(call, need=perms.VIEW_CHANNEL | perms.MANAGE_MESSAGES)
        self._message_in(channel, call.int("message_id")).pinned = False
        return 204, None

    # -- users -----------------------------------------------------------------------------------
    async def get_user(self, call: Call) -> tuple[int, Any]:
        user = self._emu.world.users.get(call.int("user_id"))
        if user is None:
            raise unknown("User", 10013)
        return 200, user.to_json()

    async def create_dm(self, call: Call) -> tuple[int, Any]:
        world = self._emu.world
        rid = (call.body or {}).get("recipient_id")
        user = world.users.get(int(rid)) if rid is not None and str(rid).isdigit() else None
        if user is None or user.bot:
            raise ApiError(400, 50033, "Invalid Recipient(s)")
        return 200, world.dm_channel(user).to_json()

    async def my_guilds(self, call: Call) -> tuple[int, Any]:
        world = self._emu.world
        return 200, [
            {
                "id": str(g.id),
                "name": g.name,
                "icon": None,
                "banner": None,
                "owner": False,
                "permissions": str(g.bot_member.guild_permissions),
                "features": [],
            }
            for g in world.guilds.values()
            if g.bot_present
        ]

    async def leave_guild(self, call: Call) -> tuple[int, Any]:
        guild = self._emu.world.guilds.get(call.int("guild_id"))
        if guild is None or not guild.bot_present:
            raise unknown("Guild", 10004)
        guild.remove_bot()
        return 204, None

    # -- guilds ----------------------------------------------------------------------------------
    def _guild(self, call: Call) -> Guild:
        guild = self._emu.world.guilds.get(call.int("guild_id"))
        if guild is None:
            raise unknown("Guild", 10004)
        if not guild.bot_present:
            raise ApiError(*MISSING_ACCESS)
        return guild

    async def get_guild(self, call: Call) -> tuple[int, Any]:
        guild = self._guild(call)
        return 200, guild.to_json(
            with_counts=call.query.get("with_counts") in ("1", "true", "True")
        )

    async def guild_channels(self, call: Call) -> tuple[int, Any]:
        return 200, [c.to_json() for c in self._guild(call).channels.values()]

    async def guild_roles(self, call: Call) -> tuple[int, Any]:
        return 200, [r.to_json() for r in self._guild(call).roles.values()]

    async def guild_members(self, call: Call) -> tuple[int, Any]:
        from .gateway import GUILD_MEMBERS

        guild = self._guild(call)
        if not self._emu.world.application.privileged_intents & GUILD_MEMBERS:
            raise ApiError(*MISSING_ACCESS)
        limit = max(1, min(int(call.query.get("limit", 1)), 1000))
        after = int(call.query.get("after", 0))
        members = sorted((m for m in guild.members.values() if m.id > after), key=lambda m: m.id)
        return 200, [m.to_json() for m in members[:limit]]

    async def guild_member(self, call: Call) -> tuple[int, Any]:
        guild = self._guild(call)
        member = guild.members.get(call.int("user_id"))
        if member is None:
            raise unknown("Member", 10007)
        return 200, member.to_json()
