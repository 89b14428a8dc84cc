"""The Previous / Next buttons of the persistent pagers (/faq list and queue, /schedule list)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import discord

#: Makes a pager's button: (the page it shows, "p" or "n", disabled).
PageButtonMaker = Callable[[int, str, bool], discord.ui.Item[Any]]


def page_button(custom_id: str, way: str, disabled: bool) -> discord.ui.Button[discord.ui.View]:
    """Previous (`way` "p") or Next ("n")."""
    return discord.ui.Button(
        label="Previous" if way == "p" else "Next",
        emoji="◀️" if way == "p" else "▶️",
        style=discord.ButtonStyle.secondary,
        custom_id=custom_id,
        disabled=disabled,
    )


def pager_view(page: int, pages: int, button: PageButtonMaker) -> discord.ui.View:
    """Previous and Next around `page` of `pages`, each disabled at its end."""
    view = discord.ui.View(timeout=None)
    view.add_item(button(max(page - 1, 1), "p", page <= 1))
    view.add_item(button(min(page + 1, pages), "n", page >= pages))
    return view
