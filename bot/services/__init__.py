"""Use-cases. Services never import discord; cogs call them and render the results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.services.announcements import AnnouncementService
from bot.services.away import AwayService
from bot.services.checkins import CheckInService
from bot.services.faq import FaqService
from bot.services.goals import GoalsService
from bot.services.group import GroupService
from bot.services.guild_settings import GuildSettingsService
from bot.services.lifecycle import GuildLifecycleService
from bot.services.member_data import MemberDataService
from bot.services.member_preferences import MemberPreferencesService
from bot.services.plans import PlanService
from bot.services.progress import ProgressService
from bot.services.reviews import ReviewService
from bot.services.schedules import ScheduleService

if TYPE_CHECKING:
    from bot.scheduler import Scheduler


@dataclass(frozen=True)
class Services:
    """Everything the cogs may call, built once by the composition root."""

    guild_settings: GuildSettingsService
    member_preferences: MemberPreferencesService
    goals: GoalsService
    checkins: CheckInService
    progress: ProgressService
    schedules: ScheduleService
    # Plug-in point for later features (review pairing, summary counters, pending reviews).
    announcements: AnnouncementService
    # The runtime that fires schedules (a Background worker of the bot).
    scheduler: Scheduler
    # /group overview and export; features add reviews owed, review counts, FAQ queue size.
    group: GroupService
    # /me data and /me forget; features with their own tables register contributors.
    member_data: MemberDataService
    # The bot leaving guilds (stop, then purge after 30 days) and members leaving.
    lifecycle: GuildLifecycleService
    # /faq: entries, their per-guild ranking index, the moderators' queue.
    faq: FaqService
    # /review: the peer-review exchange (submissions, pairing, follow-through).
    reviews: ReviewService
    # /plan and /group plans: courses, members' plans, their pace and the week's share.
    plans: PlanService
    # /me away: time off that nudges, review pairing, streaks and plans work around.
    away: AwayService
