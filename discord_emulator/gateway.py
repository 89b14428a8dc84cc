"""The gateway: a websocket speaking Discord's protocol (v10, JSON, optional zlib-stream).

HELLO → IDENTIFY → READY (+ one GUILD_CREATE per guild) → dispatches with increasing sequence
numbers. A session outlives its connection: events dispatched while the bot is disconnected are
kept and replayed after RESUME, then RESUMED. Tests can drop the connection, invalidate the
session or ask for a reconnect to exercise the bot's recovery. Events are filtered by the
intents the bot identified with, as Discord does.

Sharding as Discord does it: IDENTIFY may carry ``shard: [id, count]``; a guild belongs to shard
``(guild_id >> 22) % count`` and its events (its GUILD_CREATE too) go only to a session of that
shard, DMs to shard 0. A session that would hold more than MAX_GUILDS_PER_SHARD guilds is closed
with 4011, a shard id outside its count with 4010. Several connections (processes) may hold
different shards, or the same one (the newest live session of a shard gets its events).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from .server import Emulator
    from .world import Guild

log = logging.getLogger(__name__)

Json = dict[str, Any]

#: Discord closes a session with 4011 (sharding required) past this many guilds.
MAX_GUILDS_PER_SHARD = 2500

# Opcodes.
DISPATCH = 0
HEARTBEAT = 1
IDENTIFY = 2
PRESENCE_UPDATE = 3
VOICE_STATE_UPDATE = 4
RESUME = 6
RECONNECT = 7
REQUEST_GUILD_MEMBERS = 8
INVALID_SESSION = 9
HELLO = 10
HEARTBEAT_ACK = 11

# Intents (https://discord.com/developers/docs/events/gateway#gateway-intents).
GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_MODERATION = 1 << 2
GUILD_EXPRESSIONS = 1 << 3
GUILD_INTEGRATIONS = 1 << 4
GUILD_WEBHOOKS = 1 << 5
GUILD_INVITES = 1 << 6
GUILD_VOICE_STATES = 1 << 7
GUILD_PRESENCES = 1 << 8
GUILD_MESSAGES = 1 << 9
GUILD_MESSAGE_REACTIONS = 1 << 10
GUILD_MESSAGE_TYPING = 1 << 11
DIRECT_MESSAGES = 1 << 12
DIRECT_MESSAGE_REACTIONS = 1 << 13
DIRECT_MESSAGE_TYPING = 1 << 14
MESSAGE_CONTENT = 1 << 15
GUILD_SCHEDULED_EVENTS = 1 << 16
AUTO_MODERATION_CONFIGURATION = 1 << 20
AUTO_MODERATION_EXECUTION = 1 << 21
GUILD_MESSAGE_POLLS = 1 << 24
DIRECT_MESSAGE_POLLS = 1 << 25
PRIVILEGED = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT

#: Which intent a guild event needs (DM variants are handled in `_intent_for`). Every event the
#: emulator can send is listed here or in NO_INTENT: dispatching any other name is an error, so
#: no event reaches a bot that did not ask for it.
EVENT_INTENTS: dict[str, int] = {
    **dict.fromkeys(
        (
            "GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE", "GUILD_ROLE_CREATE",
            "GUILD_ROLE_UPDATE", "GUILD_ROLE_DELETE", "CHANNEL_CREATE", "CHANNEL_UPDATE",
            "CHANNEL_DELETE", "CHANNEL_PINS_UPDATE", "THREAD_CREATE", "THREAD_UPDATE",
            "THREAD_DELETE", "THREAD_LIST_SYNC", "THREAD_MEMBER_UPDATE",
            "THREAD_MEMBERS_UPDATE", "STAGE_INSTANCE_CREATE", "STAGE_INSTANCE_UPDATE",
            "STAGE_INSTANCE_DELETE",
        ),
        GUILDS,
    ),
    "GUILD_MEMBER_ADD": GUILD_MEMBERS,
    "GUILD_MEMBER_UPDATE": GUILD_MEMBERS,
    "GUILD_MEMBER_REMOVE": GUILD_MEMBERS,
    "GUILD_AUDIT_LOG_ENTRY_CREATE": GUILD_MODERATION,
    "GUILD_BAN_ADD": GUILD_MODERATION,
    "GUILD_BAN_REMOVE": GUILD_MODERATION,
    "GUILD_EMOJIS_UPDATE": GUILD_EXPRESSIONS,
    "GUILD_STICKERS_UPDATE": GUILD_EXPRESSIONS,
    "GUILD_SOUNDBOARD_SOUND_CREATE": GUILD_EXPRESSIONS,
    "GUILD_SOUNDBOARD_SOUND_UPDATE": GUILD_EXPRESSIONS,
    "GUILD_SOUNDBOARD_SOUND_DELETE": GUILD_EXPRESSIONS,
    "GUILD_SOUNDBOARD_SOUNDS_UPDATE": GUILD_EXPRESSIONS,
    "GUILD_INTEGRATIONS_UPDATE": GUILD_INTEGRATIONS,
    "INTEGRATION_CREATE": GUILD_INTEGRATIONS,
    "INTEGRATION_UPDATE": GUILD_INTEGRATIONS,
    "INTEGRATION_DELETE": GUILD_INTEGRATIONS,
    "WEBHOOKS_UPDATE": GUILD_WEBHOOKS,
    "INVITE_CREATE": GUILD_INVITES,
    "INVITE_DELETE": GUILD_INVITES,
    "VOICE_CHANNEL_EFFECT_SEND": GUILD_VOICE_STATES,
    "VOICE_STATE_UPDATE": GUILD_VOICE_STATES,
    "PRESENCE_UPDATE": GUILD_PRESENCES,
    "MESSAGE_CREATE": GUILD_MESSAGES,
    "MESSAGE_UPDATE": GUILD_MESSAGES,
    "MESSAGE_DELETE": GUILD_MESSAGES,
    "MESSAGE_DELETE_BULK": GUILD_MESSAGES,
    "MESSAGE_REACTION_ADD": GUILD_MESSAGE_REACTIONS,
    "MESSAGE_REACTION_REMOVE": GUILD_MESSAGE_REACTIONS,
    "MESSAGE_REACTION_REMOVE_ALL": GUILD_MESSAGE_REACTIONS,
    "MESSAGE_REACTION_REMOVE_EMOJI": GUILD_MESSAGE_REACTIONS,
    "TYPING_START": GUILD_MESSAGE_TYPING,
    "GUILD_SCHEDULED_EVENT_CREATE": GUILD_SCHEDULED_EVENTS,
    "GUILD_SCHEDULED_EVENT_UPDATE": GUILD_SCHEDULED_EVENTS,
    "GUILD_SCHEDULED_EVENT_DELETE": GUILD_SCHEDULED_EVENTS,
    "GUILD_SCHEDULED_EVENT_USER_ADD": GUILD_SCHEDULED_EVENTS,
    "GUILD_SCHEDULED_EVENT_USER_REMOVE": GUILD_SCHEDULED_EVENTS,
    "AUTO_MODERATION_RULE_CREATE": AUTO_MODERATION_CONFIGURATION,
    "AUTO_MODERATION_RULE_UPDATE": AUTO_MODERATION_CONFIGURATION,
    "AUTO_MODERATION_RULE_DELETE": AUTO_MODERATION_CONFIGURATION,
    "AUTO_MODERATION_ACTION_EXECUTION": AUTO_MODERATION_EXECUTION,
    "MESSAGE_POLL_VOTE_ADD": GUILD_MESSAGE_POLLS,
    "MESSAGE_POLL_VOTE_REMOVE": GUILD_MESSAGE_POLLS,
}  # fmt: skip

#: Events every session gets, whatever its intents.
NO_INTENT = frozenset(
    {
        "READY", "RESUMED", "INTERACTION_CREATE", "USER_UPDATE", "GUILD_MEMBERS_CHUNK",
        "APPLICATION_COMMAND_PERMISSIONS_UPDATE", "VOICE_SERVER_UPDATE", "ENTITLEMENT_CREATE",
        "ENTITLEMENT_UPDATE", "ENTITLEMENT_DELETE",
    }
)  # fmt: skip

_DM_INTENTS = {
    GUILD_MESSAGES: DIRECT_MESSAGES,
    GUILD_MESSAGE_REACTIONS: DIRECT_MESSAGE_REACTIONS,
    GUILD_MESSAGE_TYPING: DIRECT_MESSAGE_TYPING,
    GUILD_MESSAGE_POLLS: DIRECT_MESSAGE_POLLS,
}


_GUILD_OBJECT_EVENTS = frozenset({"GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE"})


def _guild_of(event: str, data: Json) -> int | None:
    """The guild an event belongs to (which shard gets it); None for DMs and the like."""
    raw = data.get("id") if event in _GUILD_OBJECT_EVENTS else data.get("guild_id")
    return int(raw) if raw is not None else None


def _intent_for(event: str, dm: bool) -> int:
    if event not in EVENT_INTENTS and event not in NO_INTENT:
        raise ValueError(f"the emulator does not know which intent {event!r} needs")
    needed = EVENT_INTENTS.get(event, 0)
    return _DM_INTENTS.get(needed, needed) if dm else needed


class _Compressor:
    """One compression context per connection, flushed per message (what the client expects)."""

    def __init__(self, kind: str | None) -> None:
        self.kind = kind
        self._zlib = zlib.compressobj() if kind == "zlib-stream" else None

    def encode(self, text: str) -> str | bytes:
        if self._zlib is None:
            return text
        raw = text.encode()
        return self._zlib.compress(raw) + self._zlib.flush(zlib.Z_SYNC_FLUSH)


@dataclass(eq=False)
class Connection:
    ws: web.WebSocketResponse
    compressor: _Compressor
    url: str
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    writer: asyncio.Task[None] | None = None
    session: Session | None = None
    heartbeats: int = 0
    closed_by_server: bool = False

    def send(self, payload: Json) -> None:
        self.queue.put_nowait(json.dumps(payload, separators=(",", ":")))


@dataclass(eq=False)
class Session:
    id: str
    intents: int
    seq: int = 0
    #: Every dispatch of this session as (seq, payload), for RESUME replay.
    sent: list[tuple[int, Json]] = field(default_factory=list)
    connection: Connection | None = None
    resumable: bool = True
    resumes: int = 0
    shard_id: int = 0
    shard_count: int = 1

    def holds(self, guild_id: int | None) -> bool:
        """Whether this session's shard receives the guild's events (DMs: shard 0)."""
        if guild_id is None:
            return self.shard_id == 0
        return (guild_id >> 22) % self.shard_count == self.shard_id

    def wants(self, event: str, dm: bool) -> bool:
        needed = _intent_for(event, dm)
        return needed == 0 or bool(self.intents & needed)


class Gateway:
    """Gateway sessions plus the knobs tests use to break them."""

    def __init__(self, emulator: Emulator, *, heartbeat_interval_ms: int = 41_250) -> None:
        self._emu = emulator
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.sessions: dict[str, Session] = {}
        self.connections: set[Connection] = set()
        self.identifies = 0
        self.resumes = 0
        #: Close codes the emulator closed connections with, in order.
        self.close_codes: list[int] = []
        #: Every payload received from the bot (op, d) — handy for debugging.
        self.received: list[Json] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._listeners: list[Callable[[], None]] = []
        self._accepting = True
        #: What GET /gateway/bot reports: IDENTIFYs left today (each one uses one), and how
        #: many shards may identify at once.
        self.start_limit_total = 1000
        self.start_limit_remaining = 1000
        self.max_concurrency = 1

    # -- state for tests -------------------------------------------------------------------------
    @property
    def session(self) -> Session | None:
        """The live (most recent) session, if the bot identified."""
        live = [s for s in self.sessions.values() if s.resumable]
        return live[-1] if live else None

    @property
    def connected(self) -> bool:
        s = self.session
        return s is not None and s.connection is not None

    @property
    def live_sessions(self) -> list[Session]:
        """Connected sessions, oldest first (one per shard per process)."""
        return [s for s in self.sessions.values() if s.resumable and s.connection is not None]

    def shards_connected(self) -> set[tuple[int, int]]:
        """(shard_id, shard_count) of every connected session."""
        return {(s.shard_id, s.shard_count) for s in self.live_sessions}

    def session_for(self, guild_id: int | None) -> Session | None:
        """The session that gets a guild's events: the newest live one of its shard."""
        for session in reversed(list(self.sessions.values())):
            if session.resumable and session.holds(guild_id):
                return session
        return None

    async def wait_for_resume(self, count: int = 1, timeout: float = 5.0) -> None:
        """Wait until the bot resumed `count` times in total and is connected again."""
        await self._emu._wait(
            lambda: self.resumes >= count and self.connected, timeout, f"{count} RESUME(s)"
        )

    def on_change(self, callback: Callable[[], None]) -> None:
        self._listeners.append(callback)

    def _changed(self) -> None:
        for cb in list(self._listeners):
            cb()

    # -- dispatching -----------------------------------------------------------------------------
    def dispatch(
        self, event: str, data: Json, *, dm: bool = False, force: bool = False
    ) -> int | None:
        """Send a DISPATCH to the session of the event's guild (its shard); returns its
        sequence number.

        Filtered by the session's intents unless `force`. If the bot is momentarily disconnected
        the event is kept and replayed on RESUME, like Discord does.
        """
        needed = 0 if force else _intent_for(event, dm)  # an unknown event name raises
        return self._send(self.session_for(_guild_of(event, data)), event, data, needed)

    def _send(self, session: Session | None, event: str, data: Json, needed: int = 0) -> int | None:
        if session is None or not (needed == 0 or session.intents & needed):
            return None
        session.seq += 1
        payload = {"op": DISPATCH, "s": session.seq, "t": event, "d": data}
        session.sent.append((session.seq, payload))
        if session.connection is not None:
            session.connection.send(payload)
        return session.seq

    def send_guild_create(self, guild: Guild, session: Session | None = None) -> None:
        session = session or self.session_for(guild.id)
        if session is None:
            return
        data = guild.to_create_json(include_all_members=bool(session.intents & GUILD_MEMBERS))
        self._send(session, "GUILD_CREATE", data, GUILDS)

    # -- breaking things on purpose ---------------------------------------------------------------
    async def drop_connection(self, code: int = 4000) -> None:
        """Close the bot's websocket like a network blip would (the session stays resumable).

        The session is detached first, so anything dispatched from now on is replayed on RESUME.
        """
        session = self.session
        if session is None or session.connection is None:
            raise RuntimeError("the bot is not connected to the gateway")
        conn = session.connection
        session.connection = None
        conn.session = None
        await self._close(conn, code)

    async def invalidate_session(self, *, resumable: bool = False) -> None:
        """Send INVALID_SESSION; with resumable=False the bot must identify again."""
        session = self.session
        if session is None or session.connection is None:
            raise RuntimeError("the bot is not connected to the gateway")
        session.resumable = resumable
        session.connection.send({"op": INVALID_SESSION, "d": resumable, "s": None, "t": None})

    def request_reconnect(self) -> None:
        """Send RECONNECT (op 7): the bot should reconnect and resume."""
        session = self.session
        if session is None or session.connection is None:
            raise RuntimeError("the bot is not connected to the gateway")
        session.connection.send({"op": RECONNECT, "d": None, "s": None, "t": None})

    # -- the websocket ---------------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        if not self._accepting:
            raise web.HTTPServiceUnavailable()
        await ws.prepare(request)
        query = request.query
        compress = query.get("compress")
        conn = Connection(ws, _Compressor(compress), str(request.url))
        self.connections.add(conn)
        conn.writer = writer = asyncio.create_task(
            self._writer(conn), name="emulator-gateway-writer"
        )
        try:
            if query.get("encoding", "json") != "json":
                await self._close(conn, 4002, "only the json encoding is emulated")
                return ws
            if compress not in (None, "zlib-stream"):
                await self._close(conn, 4000, f"compression {compress!r} is not emulated")
                return ws
            if query.get("v") not in (None, "10", "9"):
                await self._close(conn, 4012, "Invalid API version")
                return ws
            conn.send(
                {
                    "op": HELLO,
                    "d": {"heartbeat_interval": self.heartbeat_interval_ms, "_trace": ["emulator"]},
                    "s": None,
                    "t": None,
                }
            )
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    if msg.type is WSMsgType.BINARY:
                        await self._close(conn, 4002, "Error while decoding payload.")
                    break
                try:
                    payload = json.loads(msg.data)
                except ValueError:
                    await self._close(conn, 4002, "Error while decoding payload.")
                    break
                self.received.append(payload)
                await self._on_payload(conn, payload)
                if ws.closed:
                    break
        finally:
            self._detach(conn, ws.close_code)
            conn.queue.put_nowait(None)
            with contextlib.suppress(Exception):
                await writer
            self.connections.discard(conn)
            self._changed()
        return ws

    def _detach(self, conn: Connection, client_code: int | None) -> None:
        session = conn.session
        if session is None:
            return
        if session.connection is conn:
            session.connection = None
        # A clean close by the client (1000/1001) ends the session on Discord.
        if not conn.closed_by_server and client_code in (1000, 1001):
            session.resumable = False

    async def _writer(self, conn: Connection) -> None:
        while True:
            item = await conn.queue.get()
            if item is None or conn.ws.closed:
                return
            try:
                data = conn.compressor.encode(item)
                if isinstance(data, bytes):
                    await conn.ws.send_bytes(data)
                else:
                    await conn.ws.send_str(data)
            except (ConnectionError, RuntimeError):
                return

    async def _close(self, conn: Connection, code: int, reason: str = "") -> None:
        conn.closed_by_server = True
        self.close_codes.append(code)
        # Let already queued frames go out first: Discord sends them before the close frame.
        conn.queue.put_nowait(None)
        if conn.writer is not None and conn.writer is not asyncio.current_task():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(conn.writer), 1.0)
        with contextlib.suppress(Exception):
            await conn.ws.close(code=code, message=reason.encode())

    async def _on_payload(self, conn: Connection, payload: Json) -> None:
        op = payload.get("op")
        data = payload.get("d")
        if op == HEARTBEAT:
            conn.heartbeats += 1
            conn.send({"op": HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == IDENTIFY:
            await self._identify(conn, data or {})
        elif op == RESUME:
            await self._resume(conn, data or {})
        elif op == REQUEST_GUILD_MEMBERS:
            self._request_members(conn, data or {})
        elif op in (PRESENCE_UPDATE, VOICE_STATE_UPDATE):
            if conn.session is None:
                await self._close(conn, 4003, "Not authenticated.")
        else:
            await self._close(conn, 4001, "Unknown opcode.")

    async def _identify(self, conn: Connection, data: Json) -> None:
        emu = self._emu
        if conn.session is not None:
            await self._close(conn, 4005, "Already authenticated.")
            return
        if data.get("token") != emu.bot_token:
            await self._close(conn, 4004, "Authentication failed.")
            return
        intents = data.get("intents")
        if not isinstance(intents, int) or intents < 0 or intents >= 1 << 26:
            await self._close(conn, 4013, "Invalid intent(s).")
            return
        if intents & PRIVILEGED & ~emu.world.application.privileged_intents:
            await self._close(conn, 4014, "Disallowed intent(s).")
            return
        shard = data.get("shard", [0, 1])
        if (
            not isinstance(shard, list)
            or len(shard) != 2
            or not all(isinstance(n, int) for n in shard)
            or not 0 <= shard[0] < shard[1]
        ):
            await self._close(conn, 4010, "Invalid shard.")
            return
        shard_id, shard_count = shard
        world = emu.world
        guilds = [
            g
            for g in world.guilds.values()
            if g.bot_present and (g.id >> 22) % shard_count == shard_id
        ]
        if len(guilds) > MAX_GUILDS_PER_SHARD:
            await self._close(conn, 4011, "Sharding required.")
            return
        self.start_limit_remaining -= 1
        # A new session of a shard replaces the ones that lost their connection; one that is
        # still connected (another process holding the same shard) stays.
        for old in self.sessions.values():
            if old.connection is None and (old.shard_id, old.shard_count) == (
                shard_id,
                shard_count,
            ):
                old.resumable = False
        session = Session(
            secrets.token_hex(16), intents, shard_id=shard_id, shard_count=shard_count
        )
        self.sessions[session.id] = session
        session.connection = conn
        conn.session = session
        self.identifies += 1
        self._send(
            session,
            "READY",
            {
                "v": 10,
                "user": {
                    **world.bot_user.to_json(),
                    "verified": True,
                    "mfa_enabled": False,
                    "email": None,
                },
                "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
                "session_id": session.id,
                "session_type": "normal",
                "resume_gateway_url": emu.resume_gateway_url,
                "application": {"id": str(world.application.id), "flags": world.application.flags},
                "private_channels": [],
                "presences": [],
                "relationships": [],
                "guild_join_requests": [],
                "geo_ordered_rtc_regions": [],
                "user_settings": {},
                "auth": {},
                "shard": [shard_id, shard_count],
                "_trace": ["emulator"],
            },
        )
        for guild in guilds:
            self.send_guild_create(guild, session)
        self._changed()

    async def _resume(self, conn: Connection, data: Json) -> None:
        emu = self._emu
        if data.get("token") != emu.bot_token:
            await self._close(conn, 4004, "Authentication failed.")
            return
        session = self.sessions.get(str(data.get("session_id")))
        seq = data.get("seq")
        if (
            session is None
            or not session.resumable
            or not isinstance(seq, int)
            or seq > session.seq
        ):
            conn.send({"op": INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        if session.connection is not None and session.connection is not conn:
            old = session.connection
            old.session = None
            await self._close(old, 4000, "Session resumed elsewhere.")
        session.connection = conn
        conn.session = session
        session.resumes += 1
        self.resumes += 1
        for s, payload in session.sent:
            if s > seq:
                conn.send(payload)
        self._send(session, "RESUMED", {"_trace": ["emulator"]})
        self._changed()

    def _request_members(self, conn: Connection, data: Json) -> None:
        session = conn.session
        if session is None:
            return
        guild_ids = data.get("guild_id")
        if not isinstance(guild_ids, list):
            guild_ids = [guild_ids]
        for gid in guild_ids:
            guild = self._emu.world.guilds.get(int(gid))
            if guild is None:
                continue
            members = list(guild.members.values())
            query = data.get("query")
            if query:
                members = [m for m in members if m.user.username.startswith(query.lower())]
            if data.get("user_ids"):
                wanted = {int(u) for u in data["user_ids"]}
                members = [m for m in members if m.id in wanted]
            if not session.intents & GUILD_MEMBERS and not data.get("user_ids"):
                members = []
            limit = data.get("limit") or 0
            if limit:
                members = members[:limit]
            chunk: Json = {
                "guild_id": str(guild.id),
                "members": [m.to_json() for m in members],
                "chunk_index": 0,
                "chunk_count": 1,
                "not_found": [],
            }
            if data.get("nonce") is not None:
                chunk["nonce"] = data["nonce"]
            self._send(session, "GUILD_MEMBERS_CHUNK", chunk)

    async def close(self) -> None:
        """Shut the gateway down (emulator stop)."""
        self._accepting = False
        for conn in list(self.connections):
            await self._close(conn, 1001, "Going away")
