"""The Discord side of the scheduler and of peer review: turns a Post into a message (embed,
chart file, buttons), and words the review service's notices (cogs/_review_notices.py).

Posts carry the occurrence's nonce; discord.py sends ``enforce_nonce: true`` with any nonce, so
Discord answers a repeated post (after a crash between posting and recording it) with the
message it already created. Discord's answers are mapped to what the scheduler acts on: the
channel is gone, access was lost, DMs are closed, Discord refused the post itself (any other 4xx
but 429: AutoMod, an invalid body; never retried), or a temporary failure worth retrying.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
from collections.abc import Callable

import aiohttp
import discord

from bot.bot import CohortBot
from bot.errors import DmsClosed
from bot.formatting import message_link
from bot.scheduler import (
    ChannelGone,
    NoAccess,
    PostFailed,
    Refused,
    TemporaryFailure,
)
from bot.services.announcements import Card, Post
from bot.services.reviews import ChannelNotice, DirectNotice
from cogs._review_notices import channel_posts, direct_text

log = logging.getLogger(__name__)

UNKNOWN_CHANNEL = 10003
MISSING_ACCESS = 50001
MISSING_PERMISSIONS = 50013
CANNOT_DM = 50007
#: How far back an earlier attempt at a post is looked for (Discord's page size).
RECENT_MESSAGES = 100

# Builds the persistent view that carries a post's buttons (named as in announcements) for a
# guild.
ViewFactory = Callable[[tuple[str, ...], int], discord.ui.View | None]


def build_embed(card: Card) -> discord.Embed:
    embed = discord.Embed(
        title=card.title[:256],
        description=card.description[:4096] or None,
        colour=discord.Colour(card.colour),
    )
    for field in card.fields[:25]:
        embed.add_field(name=field.name[:256], value=field.value[:1024], inline=field.inline)
    if card.footer:
        embed.set_footer(text=card.footer[:2048])
    if card.image:
        embed.set_image(url=f"attachment://{card.image}")
    return embed


def _temporary(error: BaseException) -> bool:
    if isinstance(error, discord.HTTPException):
        return error.status >= 500 or error.status == 429
    return isinstance(error, discord.RateLimited | aiohttp.ClientError | asyncio.TimeoutError)


def _failure(error: Exception) -> Exception:
    """A temporary failure to retry, Discord's refusal of the post itself, or `error`."""
    if _temporary(error):
        return TemporaryFailure(str(error) or type(error).__name__)
    if isinstance(error, discord.HTTPException) and 400 <= error.status < 500:
        return Refused(error.text or str(error), error.status, error.code)
    return error


class DiscordPublisher:
    def __init__(self, bot: CohortBot, views: ViewFactory | None = None) -> None:
        self._bot = bot
        self._views = views
        self._dm_channels: dict[int, int] = {}

    # -- posts -------------------------------------------------------------------------------

    async def post(self, guild_id: int, channel_id: int, post: Post, nonce: str) -> int:
        cached = self._bot.get_channel(channel_id)
        channel: discord.abc.Messageable
        if cached is None:  # not cached (yet): Discord itself says whether it still exists
            channel = self._bot.get_partial_messageable(channel_id, guild_id=guild_id)
        elif isinstance(cached, discord.abc.Messageable):
            channel = cached
        else:
            raise ChannelGone(f"channel {channel_id} is not a text channel")
        view = self._views(post.buttons, guild_id) if self._views and post.buttons else None
        files = [discord.File(io.BytesIO(a.data), filename=a.filename) for a in post.files]
        try:
            message = await channel.send(
                content=post.content[:2000] if post.content else None,
                embed=build_embed(post.card) if post.card else None,  # type: ignore[arg-type]
                files=files or None,  # type: ignore[arg-type]
                view=view,  # type: ignore[arg-type]
                nonce=nonce,
                allowed_mentions=self._mentions(guild_id, channel, post),
            )
        except discord.NotFound as exc:
            if exc.code == UNKNOWN_CHANNEL:
                raise ChannelGone(str(exc)) from exc
            raise PostFailed(str(exc)) from exc
        except discord.Forbidden as exc:
            raise NoAccess(str(exc)) from exc
        except Exception as exc:
            raise _failure(exc) from exc
        return message.id

    async def recent_posts(self, guild_id: int, channel_id: int, post: Post) -> list[int]:
        """The bot's messages among the channel's last 100 that carry the post's marker
        (fetching needs Read Message History; without it Discord returns nothing)."""
        me = self._bot.user
        kind, marker = post.marker()
        if me is None or not marker:
            return []  # nothing that tells this post apart
        try:
            messages = await self._bot.http.logs_from(channel_id, RECENT_MESSAGES)
        except (TimeoutError, discord.HTTPException, aiohttp.ClientError) as exc:
            log.info("cannot read channel %s to look for an earlier post: %s", channel_id, exc)
            return []
        found = []
        for message in messages:
            if int(message.get("author", {}).get("id", 0)) != me.id:
                continue
            if kind == "title":
                embeds = message.get("embeds") or []
                matches = bool(embeds) and embeds[0].get("title") == marker
            else:
                matches = (message.get("content") or "").split("\n", 1)[0] == marker
            if matches:
                found.append(int(message["id"]))
        return sorted(found, reverse=True)

    def _mentions(self, guild_id: int, channel: object, post: Post) -> discord.AllowedMentions:
        """Exactly the members the post must ping, and the roles the moderator's text names
        that the bot may mention; never @everyone or @here."""
        roles: list[discord.Object] = []
        guild = self._bot.get_guild(guild_id)
        if post.role_ids and guild is not None and guild.me is not None:
            may_mention_any = (
                isinstance(channel, discord.abc.GuildChannel)
                and channel.permissions_for(guild.me).mention_everyone
            )
            for role_id in post.role_ids:
                role = guild.get_role(role_id)
                if (
                    role is not None
                    and not role.is_default()
                    and (role.mentionable or may_mention_any)
                ):
                    roles.append(discord.Object(role.id))
        # Mentions inside an embed never ping: an embed-only post allows nobody.
        users = [discord.Object(user_id) for user_id in post.user_ids] if post.content else []
        return discord.AllowedMentions(
            everyone=False, users=users or False, roles=roles or False, replied_user=False
        )

    # -- direct messages ---------------------------------------------------------------------

    async def direct_message(self, user_id: int, text: str, nonce: str) -> None:
        try:
            channel_id = self._dm_channels.get(user_id)
            if channel_id is None:
                data = await self._bot.http.start_private_message(user_id)
                channel_id = self._dm_channels[user_id] = int(data["id"])
            channel = self._bot.get_partial_messageable(
                channel_id, type=discord.ChannelType.private
            )
            await channel.send(text[:2000], nonce=nonce)
        except discord.Forbidden as exc:
            if exc.code == CANNOT_DM:
                raise DmsClosed(str(exc)) from exc
            raise PostFailed(str(exc)) from exc
        except discord.NotFound as exc:
            raise PostFailed(str(exc)) from exc
        except Exception as exc:
            raise _failure(exc) from exc

    async def tell_owner(self, guild_id: int, text: str) -> bool:
        guild = self._bot.get_guild(guild_id)
        if guild is None or guild.owner_id is None:
            return False
        try:
            nonce = "o" + hashlib.sha256(f"{guild_id}:{text}".encode()).hexdigest()[:20]
            await self.direct_message(guild.owner_id, f"**{guild.name}**: {text}", nonce)
        except (DmsClosed, PostFailed):
            return False
        return True

    # -- review notices ----------------------------------------------------------------------

    def review_posts(self, notice: ChannelNotice) -> list[Post]:
        return channel_posts(notice.news)

    def review_dm(self, notice: DirectNotice) -> str:
        return direct_text(notice.news, self.guild_name(notice.guild_id))

    # -- names -------------------------------------------------------------------------------

    def guild_name(self, guild_id: int) -> str | None:
        guild = self._bot.get_guild(guild_id)
        return guild.name if guild is not None else None

    @staticmethod
    def message_link(guild_id: int, channel_id: int, message_id: int) -> str:
        return message_link(guild_id, channel_id, message_id)
