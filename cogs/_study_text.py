"""Goals and check-ins in words: the replies that the commands and the study buttons share.

Discord-free; the member's goal text is escaped.
"""

from __future__ import annotations

from bot.formatting import day_text, hours_text, plural, safe, week_text
from bot.services.checkins import CheckInResult
from db.repositories.goals import Goal


def goal_added_text(goal: Goal) -> str:
    planned = f" · {hours_text(goal.hours)} planned" if goal.hours else ""
    return f"Added to your goals for the {week_text(goal.week_key)}: **{safe(goal.text)}**{planned}"


def checkin_text(result: CheckInResult) -> str:
    checkin = result.checkin
    verb = "Updated your check-in" if checkin.is_update else "Checked in"
    lines = [
        f"✅ {verb} for {day_text(checkin.local_day)}.",
        f"This week: **{hours_text(result.week_hours)}** · "
        f"🔥 streak: **{plural(result.streak, 'week')}**",
    ]
    if checkin.blockers:
        lines.append("Blocked? Ask in the server or try `/faq ask` — someone may know.")
    return "\n".join(lines)
