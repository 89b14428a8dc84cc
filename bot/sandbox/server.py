"""The sandbox's web server (aiohttp, 127.0.0.1 only): the page, its JSON API and live updates.

    GET  /                         the page (static/)
    GET  /api/state?as=ID          the server, the commands ID may run, messages ID sees,
                                   the checklist, the bot's clock and what is scheduled next
    GET  /api/live                 websocket: {"type": "changed"} whenever something changed
    GET  /api/attachments/M/N      the N-th attachment of message M (charts, exports)
    POST /api/command              {"as", "channel", "command", "options"}
    POST /api/autocomplete         {"as", "channel", "command", "option", "typed", "options"}
    POST /api/click                {"as", "message", "custom_id"}
    POST /api/select               {"as", "message", "custom_id", "values"}
    POST /api/modal                {"as", "modal", "values"}
    POST /api/clock/jump           {"to": ISO time, or absent for the next scheduled post}
    GET  /control?key=K            websocket for the bot process (the clock), with its key

An interaction answers {"ok": true, "modal": {...}?} or {"error": "why"} with status 400.
POSTs must be JSON (a cross-site form cannot send that without the browser asking first) and
the Host must be this machine, so other web pages cannot drive the sandbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

from bot.sandbox import views
from bot.sandbox.views import BadInput
from discord_emulator import (
    CommandUnavailable,
    Emulator,
    Guild,
    InteractionNotAcknowledged,
    InteractionResult,
    Member,
    Modal,
)

log = logging.getLogger("bot.sandbox")

STATIC = Path(__file__).parent / "static"
Json = dict[str, Any]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CONTROL_TIMEOUT = 30.0


class BotControl:
    """The bot process's end of the control socket: requests out, answers matched by id."""

    def __init__(self) -> None:
        self.key = secrets.token_urlsafe(24)
        self.connected = asyncio.Event()
        self._ws: web.WebSocketResponse | None = None
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Json]] = {}

    async def request(self, op: str, **fields: Any) -> Json:
        if self._ws is None or self._ws.closed:
            raise BadInput("The bot is not connected yet; try again in a moment.")
        request_id = next(self._ids)
        future: asyncio.Future[Json] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        try:
            await self._ws.send_json({"id": request_id, "op": op, **fields})
            return await asyncio.wait_for(future, CONTROL_TIMEOUT)
        finally:
            self._waiting.pop(request_id, None)

    async def serve(self, ws: web.WebSocketResponse, on_time: Callable[[str], None]) -> None:
        self._ws = ws
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                break
            answer = message.json()
            if answer.get("now"):
                on_time(answer["now"])
            if answer.get("op") == "hello":
                self.connected.set()
                continue
            future = self._waiting.get(answer.get("id"))
            if future is not None and not future.done():
                future.set_result(answer)
        self._ws = None


class SandboxServer:
    """Acts for the person at the page: as any member, through the emulator's own verbs."""

    def __init__(self, emu: Emulator, guild: Guild, moderator: Member) -> None:
        self.emu = emu
        self.guild = guild
        self.moderator = moderator
        self.control = BotControl()
        self.bot_now: datetime | None = None
        self.asked_faq = False
        self._modals: dict[str, tuple[Modal, int]] = {}
        self._clients: set[web.WebSocketResponse] = set()
        self._generation = 0
        self._watcher: asyncio.Task[None] | None = None
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    # -- lifecycle --------------------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._guard], client_max_size=16 * 1024 * 1024)
        app.router.add_get("/", self._index)
        app.router.add_static("/static/", STATIC)
        app.router.add_get("/api/state", self._state)
        app.router.add_get("/api/live", self._live)
        app.router.add_get("/api/attachments/{message}/{index}", self._attachment)
        app.router.add_post("/api/command", self._command)
        app.router.add_post("/api/autocomplete", self._autocomplete)
        app.router.add_post("/api/click", self._click)
        app.router.add_post("/api/select", self._select)
        app.router.add_post("/api/modal", self._modal)
        app.router.add_post("/api/clock/jump", self._jump)
        app.router.add_get("/control", self._control)
        return app

    async def start(self, port: int) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else port
        self._watcher = asyncio.create_task(self._watch(), name="sandbox-watch")

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        for ws in list(self._clients):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def set_bot_time(self, iso: str) -> None:
        now = datetime.fromisoformat(iso)
        self.bot_now = now
        offset = now - datetime.now(UTC)
        # Discord's nonce window runs on the bot's time, as in the end-to-end tests.
        self.emu.clock = lambda: datetime.now(UTC) + offset

    # -- guards -----------------------------------------------------------------------------------
    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        host = (request.host or "").rsplit(":", 1)[0]
        if host not in ("127.0.0.1", "localhost"):
            raise web.HTTPForbidden(text="the sandbox answers only to http://127.0.0.1")
        if request.method == "POST" and request.content_type != "application/json":
            raise web.HTTPUnsupportedMediaType(text="send JSON")
        try:
            return await handler(request)
        except BadInput as exc:
            return web.json_response({"error": str(exc)}, status=400)
        except CommandUnavailable as exc:
            return web.json_response({"error": f"Discord would not send that: {exc}"}, status=400)
        except InteractionNotAcknowledged:
            return web.json_response(
                {"error": "The bot did not answer within Discord's 3 seconds."}, status=400
            )

    # -- the page ---------------------------------------------------------------------------------
    async def _index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html")

    def _member(self, raw: Any) -> Member:
        try:
            return self.guild.members[int(raw)]
        except (TypeError, ValueError, KeyError):
            raise BadInput("Pick a member of the server to act as.") from None

    async def _state(self, request: web.Request) -> web.StreamResponse:
        member = self._member(request.query.get("as", self.moderator.id))
        upcoming: list[Json] = []
        if self.control.connected.is_set():
            with contextlib.suppress(BadInput, TimeoutError):
                upcoming = (await self.control.request("upcoming")).get("upcoming", [])
        return web.json_response(
            {
                **views.server_json(self.emu, self.guild, self.moderator),
                "as": views.member_json(member, member is self.moderator),
                "dm_channel": str(self.emu.world.dm_channel(member.user).id),
                "commands": views.commands_for(self.emu, self.guild, member),
                "messages": views.messages_for(self.emu, member),
                "checklist": views.checklist(self.emu, self.asked_faq),
                "clock": {
                    "now": self.bot_now.isoformat() if self.bot_now else None,
                    "upcoming": upcoming,
                },
                "problems": self.emu.problems(),
            }
        )

    async def _attachment(self, request: web.Request) -> web.StreamResponse:
        try:
            message = self.emu.messages.get(int(request.match_info["message"]))
            attachment = message.attachments[int(request.match_info["index"])]
        except (ValueError, KeyError, IndexError):
            raise web.HTTPNotFound() from None
        return web.Response(
            body=attachment.data, content_type=attachment.content_type or "application/octet-stream"
        )

    # -- live updates -----------------------------------------------------------------------------
    async def _watch(self) -> None:
        seen = [views.fingerprint(self.emu)]
        while True:
            with contextlib.suppress(AssertionError):
                await self.emu.wait_until(
                    lambda: views.fingerprint(self.emu) != seen[0], timeout=3600, what="a change"
                )
            seen[0] = views.fingerprint(self.emu)
            await self.broadcast()

    async def broadcast(self) -> None:
        self._generation += 1
        for ws in list(self._clients):
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_json({"type": "changed", "generation": self._generation})

    async def _live(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(heartbeat=20)
        await ws.prepare(request)
        self._clients.add(ws)
        try:
            await ws.send_json({"type": "hello", "generation": self._generation})
            async for _ in ws:
                pass
        finally:
            self._clients.discard(ws)
        return ws

    async def _control(self, request: web.Request) -> web.StreamResponse:
        if not secrets.compare_digest(request.query.get("key", ""), self.control.key):
            raise web.HTTPForbidden()
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await self.control.serve(ws, self.set_bot_time)
        return ws

    # -- acting -----------------------------------------------------------------------------------
    async def _body(self, request: web.Request) -> Json:
        try:
            body = await request.json()
        except ValueError:
            raise BadInput("The request is not valid JSON.") from None
        if not isinstance(body, dict):
            raise BadInput("The request must be a JSON object.")
        return body

    def _where(self, raw: Any, member: Member) -> Any:
        if raw is None:
            return self.guild.first_text_channel
        channel = self.emu.world.channel(int(raw)) if str(raw).isdecimal() else None
        if channel is None:
            raise BadInput("That channel does not exist.")
        if channel.guild is None and channel.recipient is not member.user:
            raise BadInput("That is somebody else's DM.")
        return channel

    def _answer(self, result: InteractionResult, member: Member) -> web.Response:
        body: Json = {"ok": True}
        if result.modal is not None:
            key = secrets.token_urlsafe(8)
            self._modals[key] = (result.modal, member.id)
            body["modal"] = {
                "id": key,
                "title": result.modal.title,
                "fields": [
                    {
                        "custom_id": f.custom_id,
                        "type": f.type,
                        "label": f.label,
                        "required": f.required,
                        "value": f.value,
                        "style": f.style,
                        "placeholder": f.placeholder,
                        "min_length": f.min_length,
                        "max_length": f.max_length,
                        "options": f.options,
                    }
                    for f in result.modal.fields
                ],
            }
        return web.json_response(body)

    async def _command(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        member = self._member(body.get("as"))
        name = str(body.get("command", "")).strip().lstrip("/")
        command = views.find_command(views.commands_for(self.emu, self.guild, member), name)
        options = views.convert_options(self.emu, self.guild, command, body.get("options") or {})
        channel = self._where(body.get("channel"), member)
        actor = member.user if channel.guild is None else member
        result = await actor.slash(name, in_channel=channel, options=options)
        if name == "faq ask":
            self.asked_faq = True
            await self.broadcast()
        return self._answer(result, member)

    async def _autocomplete(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        member = self._member(body.get("as"))
        name = str(body.get("command", "")).strip().lstrip("/")
        command = views.find_command(views.commands_for(self.emu, self.guild, member), name)
        option = str(body.get("option", ""))
        others = {k: v for k, v in (body.get("options") or {}).items() if k != option}
        options = views.convert_options(self.emu, self.guild, command, others, lenient=True)
        channel = self._where(body.get("channel"), member)
        choices = await member.autocomplete(
            name, option, str(body.get("typed", "")), in_channel=channel, options=options
        )
        return web.json_response({"choices": [{"name": c.name, "value": c.value} for c in choices]})

    def _message(self, raw: Any, member: Member) -> Any:
        try:
            message = self.emu.messages.get(int(raw))
        except (TypeError, ValueError, KeyError):
            raise BadInput("That message does not exist.") from None
        dm = self.emu.world.dm_channel(member.user)
        if not views.visible_to(message, member.id, dm):
            raise BadInput(f"{member.name} cannot see that message.")
        return message

    async def _click(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        member = self._member(body.get("as"))
        message = self._message(body.get("message"), member)
        actor = member.user if message.guild_id is None else member
        try:
            result = await actor.click(message, custom_id=str(body.get("custom_id", "")))
        except (AssertionError, LookupError) as exc:
            raise BadInput(str(exc)) from None
        return self._answer(result, member)

    async def _select(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        member = self._member(body.get("as"))
        message = self._message(body.get("message"), member)
        values = body.get("values")
        if not isinstance(values, list):
            raise BadInput("Choose at least one option.")
        actor = member.user if message.guild_id is None else member
        try:
            result = await actor.select(
                message, [str(v) for v in values], custom_id=str(body.get("custom_id", ""))
            )
        except (AssertionError, LookupError, TypeError) as exc:
            raise BadInput(str(exc)) from None
        return self._answer(result, member)

    async def _modal(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        member = self._member(body.get("as"))
        found = self._modals.get(str(body.get("modal", "")))
        if found is None or found[1] != member.id:
            raise BadInput("That form is not open for this member any more.")
        modal, _ = found
        values = body.get("values") or {}
        if not isinstance(values, dict):
            raise BadInput("The form's values must be an object.")
        actor = member.user if modal.opened_by.guild is None else member
        try:
            result = await actor.submit_modal(modal, values)
        except AssertionError as exc:
            raise BadInput(str(exc)) from None
        self._modals.pop(str(body.get("modal")), None)
        return self._answer(result, member)

    async def _jump(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        to = body.get("to")
        if to is not None:
            try:
                if datetime.fromisoformat(str(to)).tzinfo is None:
                    raise ValueError
            except ValueError:
                raise BadInput("`to` must be an ISO time with a timezone.") from None
        try:
            answer = await self.control.request("jump", to=to)
        except TimeoutError:
            raise BadInput("The bot did not answer; is it still running?") from None
        if answer.get("error"):
            raise BadInput(answer["error"])
        await self.broadcast()
        return web.json_response(
            {"ok": True, "fired": answer.get("fired", 0), "now": answer["now"]}
        )
