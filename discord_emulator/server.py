"""The Emulator: one aiohttp server on 127.0.0.1 serving the gateway and the REST API.

    emu = Emulator()
    guild = emu.world.add_guild("Study Group")
    async with emu.running():          # serves, points discord.py at it, checks cleanliness
        async with run_client(emu, bot):
            reply = await guild.add_member("Sam").slash("ping")

`running()` raises at exit if the bot sent a body Discord's schema rejects, hit an unknown
route, or had a callback refused (see `problems()`), unless the body of the block failed first.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import mimetypes
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from .commands import CommandRegistry
from .gateway import MESSAGE_CONTENT, Gateway
from .harness import discord_endpoints
from .interactions import ACK_DEADLINE, InteractionEngine, Upload
from .messages import Attachment, Messages, PostedMessage
from .ratelimits import Faults, RateLimits
from .rest import RestApi
from .schema import RequestValidator, SchemaViolation, default_validator
from .waiting import Notifier
from .world import World

log = logging.getLogger(__name__)

Json = dict[str, Any]


@dataclass
class RecordedRequest:
    """One REST request the bot made, and what the emulator answered."""

    method: str
    path: str
    route: str | None
    query: dict[str, str]
    body: Any
    files: list[str]
    at: float
    status: int = 0
    response: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status}"


class Emulator:
    """A local Discord: world state, gateway, REST, interactions, and what the bot did."""

    def __init__(
        self,
        world: World | None = None,
        *,
        ack_deadline: float = ACK_DEADLINE,
        reject_invalid_bodies: bool = True,
        heartbeat_interval_ms: int = 41_250,
        validator: RequestValidator | None = None,
    ) -> None:
        self.world = world or World()
        self.world._emulator = self
        self.world._emit_hook = self._on_world_event
        app_id = self.world.application.id
        # Same shape as a real token: base64(user id) . timestamp . HMAC.
        self.bot_token = ".".join(
            [
                base64.urlsafe_b64encode(str(app_id).encode()).decode().rstrip("="),
                secrets.token_urlsafe(4),
                secrets.token_urlsafe(27),
            ]
        )
        #: The bot's clock, for what Discord measures in minutes that tests move past (the nonce
        #: window): a test with a controllable clock points this at it.
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        #: Answer 400 "Invalid Form Body" to schema violations (as Discord would) besides recording.
        self.reject_invalid_bodies = reject_invalid_bodies
        self._notifier = Notifier()
        self.messages = Messages(self.world, self._notifier)
        self.commands = CommandRegistry(self.world)
        self.ratelimits = RateLimits()
        self.faults = Faults()
        self.validator = validator or default_validator()
        self.gateway = Gateway(self, heartbeat_interval_ms=heartbeat_interval_ms)
        self.gateway.on_change(self._notifier.notify)
        self.interactions = InteractionEngine(self, ack_deadline=ack_deadline)
        self.rest = RestApi(self)
        self.requests: list[RecordedRequest] = []
        self.schema_violations: list[SchemaViolation] = []
        self.unknown_routes: list[str] = []
        self.uploads: dict[int, Attachment] = {}
        self.port: int | None = None
        self._runner: web.AppRunner | None = None

    # -- addresses -------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("the emulator is not running")
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        """What discord.http.Route.BASE is set to."""
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    @property
    def resume_gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/resume"

    @property
    def application_id(self) -> int:
        return self.world.application.id

    # -- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/", self.gateway.handle)
        app.router.add_get("/resume", self.gateway.handle)
        app.router.add_get(
            "/attachments/{channel_id}/{attachment_id}/{filename}", self._serve_upload
        )
        app.router.add_route("*", "/api/v{version:\\d+}{tail:/.*}", self.rest.handle)
        app.router.add_route("*", "/{tail:.*}", self.rest.handle_outside_api)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server: Any = site._server  # aiohttp keeps the bound socket here; port 0 = any free one
        self.port = int(server.sockets[0].getsockname()[1])
        log.debug("emulator listening on %s", self.base_url)

    async def stop(self) -> None:
        await self.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @contextlib.asynccontextmanager
    async def running(
        self, *, patch_discord: bool = True, check_clean: bool = True
    ) -> AsyncIterator[Emulator]:
        """Serve on a free port, point discord.py here, and stop/restore on exit."""
        await self.start()
        try:
            if patch_discord:
                with discord_endpoints(self):
                    yield self
            else:
                yield self
        finally:
            await self.stop()
        if check_clean:
            self.assert_clean()

    # -- waiting ---------------------------------------------------------------------------------
    async def _wait(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        await self._notifier.wait_for(predicate, timeout, what)

    def _notify(self) -> None:
        self._notifier.notify()

    async def wait_ready(self, timeout: float = 10.0, *, synced: bool = True) -> None:
        """The bot identified, got READY and its guilds, is connected, and synced its commands.

        Pass `synced=False` for a bot that does not sync (e.g. its stored tree is unchanged).
        """
        await self._wait(
            lambda: self.gateway.connected, timeout, "the bot to identify on the gateway"
        )
        if synced:
            await self.wait_synced(timeout)

    async def wait_until(
        self, predicate: Callable[[], bool], *, timeout: float = 3.0, what: str = "a condition"
    ) -> None:
        """Wait for any condition on emulator or client state (re-checked on every change)."""
        await self._wait(predicate, timeout, what)

    async def wait_for_identify(self, count: int = 1, timeout: float = 5.0) -> None:
        await self._wait(
            lambda: self.gateway.identifies >= count and self.gateway.connected,
            timeout,
            f"{count} IDENTIFY(s)",
        )

    async def wait_synced(self, timeout: float = 10.0, *, calls: int = 1) -> None:
        await self._wait(
            lambda: len(self.commands.sync_calls) >= calls,
            timeout,
            f"{calls} application command sync call(s) (bots that skip syncing: synced=False)",
        )

    @property
    def sync_calls(self) -> int:
        return len(self.commands.sync_calls)

    # -- cleanliness -----------------------------------------------------------------------------
    def problems(self) -> list[str]:
        """Everything that would make a real Discord unhappy with the bot."""
        out = [f"schema violation: {v}" for v in self.schema_violations]
        out += [f"unknown route: {r}" for r in self.unknown_routes]
        for result in self.interactions.all:
            for status, body in result.rejected_callbacks:
                out.append(f"callback for {result.label} refused: {status} {body}")
        return out

    def assert_clean(self) -> None:
        problems = self.problems()
        if problems:
            raise AssertionError(
                "the bot did things Discord would reject:\n  " + "\n  ".join(problems)
            )

    def take_violations(self) -> list[SchemaViolation]:
        """Return and forget the recorded schema violations (for tests that cause them)."""
        taken, self.schema_violations = self.schema_violations, []
        return taken

    def take_unknown_routes(self) -> list[str]:
        taken, self.unknown_routes = self.unknown_routes, []
        return taken

    def take_rejected_callbacks(self) -> list[tuple[str, int, Json]]:
        taken = []
        for result in self.interactions.all:
            taken += [(result.label, s, b) for s, b in result.rejected_callbacks]
            result.rejected_callbacks.clear()
        return taken

    def requests_to(self, route: str) -> list[RecordedRequest]:
        """Requests for "METHOD /template", e.g. "POST /channels/{channel_id}/messages"."""
        method, _, template = route.partition(" ")
        return [r for r in self.requests if r.method == method and r.route == template]

    # -- events ----------------------------------------------------------------------------------
    def dispatch(self, event: str, data: Json, *, force: bool = False) -> int | None:
        """Send any gateway event to the bot (filtered by its intents unless `force`)."""
        return self.gateway.dispatch(event, data, force=force)

    def _on_world_event(self, event: str, data: Json, guild_id: int | None) -> None:
        if event == "GUILD_CREATE" and guild_id is not None:
            self.gateway.send_guild_create(self.world.guilds[guild_id])
        else:
            self.gateway.dispatch(event, data)
        self._notify()

    # -- messages --------------------------------------------------------------------------------
    def message_json(self, message: PostedMessage, *, with_nonce: bool = False) -> Json:
        """The message as Discord returns it. Discord does not keep a message's nonce: it is
        only in the answer to the create request and in MESSAGE_CREATE, never when fetched."""
        data = message.to_json(self.world)
        if not with_nonce:
            data.pop("nonce", None)
        return data

    def _gateway_message(self, message: PostedMessage, *, with_nonce: bool = False) -> Json:
        data = self.message_json(message, with_nonce=with_nonce)
        if message.guild_id is not None:
            data["guild_id"] = str(message.guild_id)
            guild = self.world.guilds.get(message.guild_id)
            if guild is not None and message.author_id in guild.members:
                data["member"] = guild.members[message.author_id].to_json(with_user=False)
        return data

    def publish(self, message: PostedMessage, *, webhook: bool) -> PostedMessage:
        """Store a new message, work out its pings and tell the bot (MESSAGE_CREATE)."""
        message.created_at = self.clock()  # the time the tests (or the sandbox) set
        self.messages.resolve_pings(message, webhook=webhook)
        self.messages.add(message)
        if not message.ephemeral:
            data = self._gateway_message(message, with_nonce=True)
            session = self.gateway.session
            bot_id = self.world.bot_user.id
            hide = (
                session is not None
                and not session.intents & MESSAGE_CONTENT
                and message.author_id != bot_id
                and message.guild_id is not None
                and bot_id not in message.mentions
            )
            if hide:
                # Without MESSAGE_CONTENT the bot gets other people's messages without content.
                data.update(content="", embeds=[], attachments=[], components=[])
            self.gateway.dispatch("MESSAGE_CREATE", data, dm=message.guild_id is None)
        return message

    def announce_edit(self, message: PostedMessage) -> None:
        self.messages.changed()
        if not message.ephemeral:
            self.gateway.dispatch(
                "MESSAGE_UPDATE", self._gateway_message(message), dm=message.guild_id is None
            )

    def announce_delete(self, message: PostedMessage) -> None:
        message.deleted = True
        self.messages.changed()
        if not message.ephemeral:
            data: Json = {"id": str(message.id), "channel_id": str(message.channel_id)}
            if message.guild_id is not None:
                data["guild_id"] = str(message.guild_id)
            self.gateway.dispatch("MESSAGE_DELETE", data, dm=message.guild_id is None)

    # -- uploads ---------------------------------------------------------------------------------
    def store_upload(self, channel_id: int, upload: Upload) -> Attachment:
        """Keep a file's bytes and serve them at a CDN-like URL on this emulator."""
        att_id = self.world.snowflakes.next()
        # Like Discord, trust the file name over a generic multipart type.
        content_type = upload.content_type
        if content_type in (None, "application/octet-stream"):
            guessed = mimetypes.guess_type(upload.filename)[0]
            if guessed is not None and guessed.startswith("text/"):
                guessed += "; charset=utf-8"
            content_type = guessed or content_type
        att = Attachment(
            att_id,
            upload.filename,
            upload.data,
            content_type,
            f"{self.base_url}/attachments/{channel_id}/{att_id}/{upload.filename}",
        )
        self.uploads[att_id] = att
        return att

    async def _serve_upload(self, request: web.Request) -> web.StreamResponse:
        att = self.uploads.get(int(request.match_info["attachment_id"]))
        if att is None:
            raise web.HTTPNotFound()
        content_type = att.content_type or "application/octet-stream"
        return web.Response(body=att.data, headers={"Content-Type": content_type})
