"""Composition root: builds the database, services and bot, and wires them together."""

from __future__ import annotations

from typing import Any

from bot.bot import CohortBot
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.scheduler import Scheduler
from bot.services import Services
from bot.services.announcements import AnnouncementService
from bot.services.checkins import CheckInService
from bot.services.goals import GoalsService
from bot.services.guild_settings import GuildSettingsService
from bot.services.member_preferences import MemberPreferencesService
from bot.services.nudges import DAILY_CAP, NudgeService
from bot.services.occurrences import OccurrenceService
from bot.services.progress import ProgressService
from bot.services.schedules import ScheduleService
from db.engine import Database
from db.repositories.checkins import CheckInsRepository
from db.repositories.goals import GoalsRepository
from db.repositories.guild_settings import GuildSettingsRepository
from db.repositories.member_preferences import MemberPreferencesRepository
from db.repositories.nudges import NudgeRepository
from db.repositories.occurrences import OccurrenceRepository
from db.repositories.schedules import ScheduleRepository
from db.repositories.summaries import StudySummaryRepository


def build_services(database: Database, clock: Clock) -> Services:
    engine = database.engine
    guild_settings = GuildSettingsService(GuildSettingsRepository(engine), clock)
    schedules, announcements, scheduler = build_scheduling(database, guild_settings, clock)
    return Services(
        guild_settings=guild_settings,
        member_preferences=MemberPreferencesService(MemberPreferencesRepository(engine), clock),
        goals=GoalsService(GoalsRepository(engine), GuildSettingsRepository(engine), clock),
        checkins=CheckInService(CheckInsRepository(engine), GuildSettingsRepository(engine), clock),
        progress=ProgressService(
            GoalsRepository(engine),
            CheckInsRepository(engine),
            GuildSettingsRepository(engine),
            clock,
        ),
        schedules=schedules,
        announcements=announcements,
        scheduler=scheduler,
    )


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


async def create_bot(settings: Settings, *, clock: Clock | None = None) -> CohortBot:
    """A ready-to-start bot; `await bot.close()` stops it and closes the database."""
    clock = clock or SystemClock()
    database = await open_database(settings)
    services = build_services(database, clock)
    return CohortBot(
        settings=settings,
        database=database,
        services=services,
        clock=clock,
        background=[services.scheduler],
    )
