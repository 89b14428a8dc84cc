"""Test helpers for schedules: the scheduler wired on a real database with a fake Discord.

FakeDiscord behaves like Discord where it matters here: a repeated nonce returns the message
it already created (``enforce_nonce``), deleted channels and lost permissions fail, and DMs to
members who closed them are refused. Review notices are worded as DiscordPublisher words them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from bot.app import build_scheduling
from bot.clock import Clock
from bot.domain.shards import Shards
from bot.scheduler import ChannelGone, DmsClosed, NoAccess, Scheduler, TemporaryFailure
from bot.services.announcements import AnnouncementService, Post
from bot.services.guild_settings import GuildSettingsService
from bot.services.member_preferences import MemberPreferencesService
from bot.services.occurrences import OccurrenceService
from bot.services.reviews import ChannelNotice, DirectNotice
from bot.services.schedules import ScheduleService
from cogs._review_notices import channel_posts, direct_text
from db.engine import Database
from db.repositories.guild_settings import GuildSettingsRepository
from db.repositories.member_preferences import MemberPreferencesRepository
from db.repositories.nudges import NudgeRepository
from db.repositories.occurrences import OccurrenceRepository
from db.repositories.schedules import ScheduleRepository

GUILD = 1_100_000_000_000_000_001
OTHER_GUILD = 1_100_000_000_000_000_002
CHANNEL = 1_300_000_000_000_000_003
ANNOUNCEMENTS = 1_300_000_000_000_000_004
REVIEWS = 1_300_000_000_000_000_005
MODERATOR = 1_200_000_000_000_000_009


@dataclass(frozen=True)
class Sent:
    message_id: int
    guild_id: int
    channel_id: int
    post: Post
    nonce: str


@dataclass
class FakeDiscord:
    messages: list[Sent] = field(default_factory=list)
    dms: list[tuple[int, str]] = field(default_factory=list)
    owner_dms: list[tuple[int, str]] = field(default_factory=list)
    deleted_channels: set[int] = field(default_factory=set)
    forbidden_channels: set[int] = field(default_factory=set)
    closed_dms: set[int] = field(default_factory=set)
    temporary_failures: int = 0
    dedupe_nonces: bool = True
    _by_nonce: dict[str, int] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(9_000_000))

    async def post(self, guild_id: int, channel_id: int, post: Post, nonce: str) -> int:
        if channel_id in self.deleted_channels:
            raise ChannelGone("Unknown Channel (10003)")
        if channel_id in self.forbidden_channels:
            raise NoAccess("Missing Permissions (50013)")
        if self.temporary_failures:
            self.temporary_failures -= 1
            raise TemporaryFailure("503 Service Unavailable")
        if self.dedupe_nonces and nonce in self._by_nonce:
            return self._by_nonce[nonce]
        message_id = next(self._ids)
        self._by_nonce[nonce] = message_id
        self.messages.append(Sent(message_id, guild_id, channel_id, post, nonce))
        return message_id

    async def direct_message(self, user_id: int, text: str, nonce: str) -> None:
        if user_id in self.closed_dms:
            raise DmsClosed("Cannot send messages to this user (50007)")
        self.dms.append((user_id, text))

    async def tell_owner(self, guild_id: int, text: str) -> bool:
        self.owner_dms.append((guild_id, text))
        return True

    def guild_name(self, guild_id: int) -> str | None:
        return "Backend Study Group"

    def review_posts(self, notice: ChannelNotice) -> list[Post]:
        return channel_posts(notice.news)

    def review_dm(self, notice: DirectNotice) -> str:
        return direct_text(notice.news, self.guild_name(notice.guild_id))

    def message_link(self, guild_id: int, channel_id: int, message_id: int) -> str:
        return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"

    async def recent_posts(self, guild_id: int, channel_id: int, post: Post) -> list[int]:
        marker = post.marker()
        return [m.message_id for m in reversed(self.in_channel(channel_id))
                if m.post.marker() == marker]  # fmt: skip

    def in_channel(self, channel_id: int) -> list[Sent]:
        return [m for m in self.messages if m.channel_id == channel_id]


@dataclass
class Rig:
    database: Database
    clock: Any
    settings: GuildSettingsService
    members: MemberPreferencesService
    schedules: ScheduleService
    occurrences: OccurrenceService
    nudges: NudgeRepository
    announcements: AnnouncementService
    scheduler: Scheduler
    discord: FakeDiscord

    def restarted(self) -> Rig:
        """A fresh process on the same database and Discord (nothing kept in memory)."""
        return make_rig(self.database, self.clock, self.discord)


def make_rig(
    database: Database,
    clock: Clock,
    discord: FakeDiscord | None = None,
    *,
    dm_daily_cap: int = 1000,
    shards: Shards | None = None,
) -> Rig:
    """The bot's wiring (bot.app.build_scheduling) with DMs unpaced and instant retries."""
    engine = database.engine
    settings = GuildSettingsService(GuildSettingsRepository(engine), clock)
    schedules, announcements, scheduler = build_scheduling(
        database,
        settings,
        clock,
        dm_daily_cap=dm_daily_cap,
        dm_interval=0,
        dm_jitter=0,
        retry_delays=(0, 0),
        shards=shards,
    )
    discord = discord or FakeDiscord()
    scheduler.attach_publisher(discord)
    return Rig(
        database=database,
        clock=clock,
        settings=settings,
        members=MemberPreferencesService(MemberPreferencesRepository(engine), clock),
        schedules=schedules,
        # Stateless views on the same database, for assertions.
        occurrences=OccurrenceService(
            OccurrenceRepository(engine), ScheduleRepository(engine), clock
        ),
        nudges=NudgeRepository(engine),
        announcements=announcements,
        scheduler=scheduler,
        discord=discord,
    )
