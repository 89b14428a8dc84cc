"""Composition root: builds the database, services and bot, and wires them together."""

from __future__ import annotations

import gc
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import discord

from bot.bot import CohortBot
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.domain.faq_embedding import load_default_embedder
from bot.domain.shards import Shards
from bot.scheduler import Scheduler
from bot.services import Services
from bot.services.announcements import AnnouncementService, Pairing
from bot.services.away import AwayService
from bot.services.checkins import CheckInService, Streaks
from bot.services.faq import FaqService
from bot.services.goals import GoalsService
from bot.services.group import GroupService
from bot.services.guild_settings import GuildSettingsService
from bot.services.lifecycle import DailyPurge, GuildLifecycleService
from bot.services.member_data import CoreMemberData, MemberDataService
from bot.services.member_preferences import MemberPreferencesService
from bot.services.nudges import DAILY_CAP, NudgeService
from bot.services.occurrences import OccurrenceService
from bot.services.plan_data import PlanMemberData
from bot.services.plans import PlanService
from bot.services.progress import ProgressService
from bot.services.review_data import ReviewMemberData
from bot.services.reviews import ReviewService
from bot.services.schedules import ScheduleService
from cogs._publisher import DiscordPublisher
from cogs._review_notices import pending_lines, scheduled_pairing_post
from cogs.schedule import study_view
from db.engine import Database
from db.repositories.checkins import CheckInsRepository
from db.repositories.faq import FaqRepository
from db.repositories.goals import GoalsRepository
from db.repositories.group import GroupRepository
from db.repositories.guild_settings import GuildSettingsRepository
from db.repositories.lifecycle import LifecycleRepository
from db.repositories.member_preferences import MemberPreferencesRepository
from db.repositories.member_records import MemberRecordsRepository
from db.repositories.nudges import NudgeRepository
from db.repositories.occurrences import OccurrenceRepository
from db.repositories.plans import PlansRepository
from db.repositories.review_records import ReviewRecordsRepository
from db.repositories.reviews import ReviewsRepository
from db.repositories.schedules import ScheduleRepository
from db.repositories.summaries import StudySummaryRepository


def build_services(database: Database, clock: Clock, shards: Shards | None = None) -> Services:
    """`shards`: whose guilds' background work this process does (default: every guild)."""
    engine = database.engine
    guild_settings = GuildSettingsService(GuildSettingsRepository(engine), clock)
    schedules, announcements, scheduler = build_scheduling(
        database, guild_settings, clock, shards=shards or Shards()
    )
    member_data, group, lifecycle = build_member_data(database, schedules, clock)
    faq = build_faq(database, announcements, group, member_data, clock)
    reviews = build_reviews(database, announcements, clock)
    add_review_data(database, reviews, group, member_data, clock)
    lifecycle.on_member_departure(reviews.member_departed)
    streaks = Streaks()
    checkins = CheckInService(
        CheckInsRepository(engine), GuildSettingsRepository(engine), clock, streaks
    )
    progress = ProgressService(
        GoalsRepository(engine),
        CheckInsRepository(engine),
        GuildSettingsRepository(engine),
        clock,
        streaks,
    )
    plans, away = build_plans(database, announcements, reviews, clock)
    group.register_away(away.members_away)
    member_data.register(PlanMemberData(PlansRepository(engine)))
    streaks.register_away_weeks(away.weeks_away)
    return Services(
        guild_settings=guild_settings,
        member_preferences=MemberPreferencesService(MemberPreferencesRepository(engine), clock),
        goals=GoalsService(GoalsRepository(engine), GuildSettingsRepository(engine), clock),
        checkins=checkins,
        progress=progress,
        schedules=schedules,
        announcements=announcements,
        scheduler=scheduler,
        group=group,
        member_data=member_data,
        lifecycle=lifecycle,
        faq=faq,
        reviews=reviews,
        plans=plans,
        away=away,
    )


def build_plans(
    database: Database, announcements: AnnouncementService, reviews: ReviewService, clock: Clock
) -> tuple[PlanService, AwayService]:
    """Course plans and time away: the goal prompt's *Plan my week*, how members stand in
    their nudges and (without names) in the weekly summary; away members get no nudges."""
    engine = database.engine
    repository = PlansRepository(engine)
    plans = PlanService(repository, GuildSettingsRepository(engine), GoalsRepository(engine), clock)
    away = AwayService(repository, reviews, clock)
    announcements.register_plan_offer(plans.offers_plans)
    announcements.register_member_notes(plans.nudge_notes)
    announcements.register_figure("On track with their plan", plans.on_track_figure)
    announcements.register_away(away.away_now)
    announcements.register_away_weeks(away.guild_weeks_away)
    return plans, away


def build_reviews(
    database: Database, announcements: AnnouncementService, clock: Clock
) -> ReviewService:
    """Peer review, with its pairing schedule, its count in the weekly summary and the
    reviews members owe in their DM nudges (worded by cogs/_review_notices.py)."""
    engine = database.engine
    reviews = ReviewService(ReviewsRepository(engine), GuildSettingsRepository(engine), clock)

    async def pairing(guild_id: int, fire_at: datetime) -> Pairing:
        return scheduled_pairing_post(await reviews.scheduled_pairing(guild_id, fire_at))

    async def pending(guild_id: int, user_ids: Sequence[int]) -> dict[int, list[str]]:
        return pending_lines(await reviews.pending_reviews(guild_id, user_ids), clock.now())

    announcements.register_pairing(pairing)
    announcements.register_counter("Reviews done", reviews.reviews_done)
    announcements.register_pending_reviews(pending)
    return reviews


def build_faq(
    database: Database,
    announcements: AnnouncementService,
    group: GroupService,
    member_data: MemberDataService,
    clock: Clock,
) -> FaqService:
    """The FAQ, with its figures in the weekly summary and the overview, and its part of
    members' data. The semantic model loads in the background (ranking is lexical until then)."""
    engine = database.engine
    faq = FaqService(
        FaqRepository(engine),
        MemberPreferencesRepository(engine),
        clock,
        load_embedder=load_default_embedder,
    )
    announcements.register_counter("FAQ questions answered", faq.answered_between)
    group.register_faq_queue(faq.open_count)
    member_data.register(faq)
    return faq


def build_member_data(
    database: Database, schedules: ScheduleService, clock: Clock
) -> tuple[MemberDataService, GroupService, GuildLifecycleService]:
    """Members' own data (export, forget), the group's figures, and guilds coming and going."""
    engine = database.engine
    lifecycle_repository = LifecycleRepository(engine)
    core = CoreMemberData(
        GoalsRepository(engine),
        CheckInsRepository(engine),
        MemberRecordsRepository(engine),
        lifecycle_repository,
    )
    member_data = MemberDataService(core, clock)
    group = GroupService(
        GroupRepository(engine), GuildSettingsRepository(engine), lifecycle_repository, clock
    )
    lifecycle = GuildLifecycleService(lifecycle_repository, schedules, member_data, clock)
    return member_data, group, lifecycle


def add_review_data(
    database: Database,
    reviews: ReviewService,
    group: GroupService,
    member_data: MemberDataService,
    clock: Clock,
) -> None:
    """Peer review's part of members' data, and its figures in /group overview and export."""
    review_data = ReviewMemberData(ReviewRecordsRepository(database.engine), reviews, clock)
    member_data.register(review_data)
    group.register_review_debts(review_data.debts)
    group.register_review_tallies(review_data.tallies, review_data.members)


def build_scheduling(
    database: Database,
    guild_settings: GuildSettingsService,
    clock: Clock,
    *,
    dm_daily_cap: int = DAILY_CAP,
    **tuning: Any,
) -> tuple[ScheduleService, AnnouncementService, Scheduler]:
    """Schedules, what their posts say, and the runtime that fires them (`tuning`: the
    Scheduler's pacing and retry options, for tests and benchmarks)."""
    engine = database.engine
    schedule_repository = ScheduleRepository(engine)
    occurrences = OccurrenceService(OccurrenceRepository(engine), schedule_repository, clock)
    schedules = ScheduleService(schedule_repository, occurrences, guild_settings, clock)
    guild_settings.subscribe(schedules.settings_changed)
    announcements = AnnouncementService(
        StudySummaryRepository(engine), CheckInsRepository(engine), GoalsRepository(engine)
    )
    nudges = NudgeService(NudgeRepository(engine), announcements, clock, daily_cap=dm_daily_cap)
    scheduler = Scheduler(
        schedules, occurrences, nudges, announcements, guild_settings, clock, **tuning
    )
    return schedules, announcements, scheduler


async def open_database(settings: Settings) -> Database:
    """Open the configured database and bring its schema up to date."""
    database = Database(settings.database_url)
    await database.open()
    try:
        await database.migrate()
    except BaseException:
        await database.close()
        raise
    return database


_startup_frozen = False


def freeze_startup_objects() -> None:
    """Keep what start-up created (modules, schema, migrations) out of the garbage collector's
    way, once per process: it lives as long as the process, and every full collection that
    walks it holds the event loop for about 0.1 s."""
    global _startup_frozen
    if not _startup_frozen:
        gc.collect()  # only what is still alive gets frozen
        gc.freeze()
        _startup_frozen = True


async def create_bot(settings: Settings, *, clock: Clock | None = None) -> CohortBot:
    """A ready-to-start bot; `await bot.close()` stops it and closes the database."""
    clock = clock or SystemClock()
    # Cohort has no voice features: discord.py's warnings that voice libraries are missing
    # would only suggest that something is wrong.
    discord.VoiceClient.warn_nacl = False
    discord.VoiceClient.warn_dave = False
    database = await open_database(settings)
    services = build_services(database, clock, settings.shards)
    freeze_startup_objects()
    bot = CohortBot(
        settings=settings,
        database=database,
        services=services,
        clock=clock,
        background=[services.scheduler, DailyPurge(services.lifecycle, shards=settings.shards)],
    )
    attach_publishers(bot)
    return bot


def attach_publishers(bot: CohortBot) -> None:
    """The Discord side of the services that post and DM (cogs/_publisher.py): scheduled posts
    carry the persistent study buttons; review notices carry none."""
    services = bot.services
    services.scheduler.attach_publisher(DiscordPublisher(bot, study_view))
    services.reviews.attach_publisher(DiscordPublisher(bot))
