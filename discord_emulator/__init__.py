"""A local Discord (gateway + REST) that the unmodified discord.py client connects to.

See README.md in this directory for how to write an end-to-end test.
"""

from __future__ import annotations

from . import permissions
from .harness import discord_endpoints, run_client
from .interactions import (
    Choice,
    CommandUnavailable,
    InteractionNotAcknowledged,
    InteractionResult,
    Modal,
    ModalField,
    Upload,
)
from .messages import Attachment, Pings, PostedMessage, compute_pings
from .permissions import (
    ADMINISTRATOR,
    ATTACH_FILES,
    EMBED_LINKS,
    MANAGE_GUILD,
    MANAGE_MESSAGES,
    MENTION_EVERYONE,
    SEND_MESSAGES,
    VIEW_CHANNEL,
)
from .schema import SchemaViolation
from .server import Emulator, RecordedRequest
from .world import Channel, Guild, Member, Role, User, World

__all__ = [
    "ADMINISTRATOR",
    "ATTACH_FILES",
    "EMBED_LINKS",
    "MANAGE_GUILD",
    "MANAGE_MESSAGES",
    "MENTION_EVERYONE",
    "SEND_MESSAGES",
    "VIEW_CHANNEL",
    "Attachment",
    "Channel",
    "Choice",
    "CommandUnavailable",
    "Emulator",
    "Guild",
    "InteractionNotAcknowledged",
    "InteractionResult",
    "Member",
    "Modal",
    "ModalField",
    "Pings",
    "PostedMessage",
    "RecordedRequest",
    "Role",
    "SchemaViolation",
    "Upload",
    "User",
    "World",
    "compute_pings",
    "discord_endpoints",
    "permissions",
    "run_client",
]
