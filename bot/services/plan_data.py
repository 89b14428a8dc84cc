"""Course plans' part of a member's data: their plan, finished modules, weeks of the plan added
as goals and time away (exported, forgotten, purged with the guild). Courses are the guild's,
not a member's: they go only when the guild's data is purged."""

from __future__ import annotations

from typing import Any

from bot.services.member_data import Forgotten, moment
from db.repositories.plans import PlansRepository


class PlanMemberData:
    def __init__(self, plans: PlansRepository) -> None:
        self._plans = plans

    async def export_member(self, guild_id: int, user_id: int) -> dict[str, Any]:
        data = await self._plans.for_member(guild_id, user_id)
        plan, course = data["plan"], data["course"]
        return {
            "course_plan": {
                "course": course.title if course else None,
                "course_key": course.key if course else None,
                "started_at": moment(plan.started_at),
                "start_day": moment(plan.start_day),
                "target_day": moment(plan.target_day),
                "weekly_hours": plan.weekly_hours,
            }
            if plan
            else None,
            "finished_modules": [
                {"module": title, "finished_at": moment(at)} for title, at in data["finished"]
            ],
            "plan_weeks_added_as_goals": [moment(week) for week in data["plan_weeks"]],
            "away": [
                {"from": moment(a.starts_at), "until": moment(a.ends_at)} for a in data["away"]
            ],
        }

    async def forget_member(self, guild_id: int, user_id: int) -> list[Forgotten]:
        counts = await self._plans.delete_member(guild_id, user_id)
        return [Forgotten(what, count) for what, count in counts.items()]

    async def purge_guild(self, guild_id: int) -> int:
        return await self._plans.delete_guild(guild_id)
