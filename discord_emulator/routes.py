"""The Discord REST routes the emulator serves, spelled exactly like the OpenAPI `paths` keys.

This list is the single source for two things: the REST dispatcher (rest.py) and the schema
extraction script (discord_openapi/extract.py), which vendors request-body schemas for these.
"""

from __future__ import annotations

SERVED_ROUTES: tuple[tuple[str, str], ...] = (
    # start-up
    ("GET", "/gateway"),
    ("GET", "/gateway/bot"),
    ("GET", "/users/@me"),
    ("GET", "/oauth2/applications/@me"),
    ("GET", "/applications/@me"),
    # application commands
    ("GET", "/applications/{application_id}/commands"),
    ("PUT", "/applications/{application_id}/commands"),
    ("POST", "/applications/{application_id}/commands"),
    ("GET", "/applications/{application_id}/commands/{command_id}"),
    ("PATCH", "/applications/{application_id}/commands/{command_id}"),
    ("DELETE", "/applications/{application_id}/commands/{command_id}"),
    ("GET", "/applications/{application_id}/guilds/{guild_id}/commands"),
    ("PUT", "/applications/{application_id}/guilds/{guild_id}/commands"),
    ("POST", "/applications/{application_id}/guilds/{guild_id}/commands"),
    ("GET", "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}"),
    ("PATCH", "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}"),
    ("DELETE", "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}"),
    ("GET", "/applications/{application_id}/guilds/{guild_id}/commands/permissions"),
    # interactions
    ("POST", "/interactions/{interaction_id}/{interaction_token}/callback"),
    ("POST", "/webhooks/{webhook_id}/{webhook_token}"),
    ("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/@original"),
    ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original"),
    ("DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/@original"),
    ("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"),
    ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"),
    ("DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"),
    # channels and messages
    ("GET", "/channels/{channel_id}"),
    ("GET", "/channels/{channel_id}/messages"),
    ("POST", "/channels/{channel_id}/messages"),
    ("GET", "/channels/{channel_id}/messages/{message_id}"),
    ("PATCH", "/channels/{channel_id}/messages/{message_id}"),
    ("DELETE", "/channels/{channel_id}/messages/{message_id}"),
    ("POST", "/channels/{channel_id}/messages/bulk-delete"),
    ("POST", "/channels/{channel_id}/typing"),
    ("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me"),
    ("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me"),
    ("PUT", "/channels/{channel_id}/pins/{message_id}"),
    ("DELETE", "/channels/{channel_id}/pins/{message_id}"),
    ("PUT", "/channels/{channel_id}/messages/pins/{message_id}"),
    ("DELETE", "/channels/{channel_id}/messages/pins/{message_id}"),
    # users and DMs
    ("GET", "/users/{user_id}"),
    ("POST", "/users/@me/channels"),
    ("GET", "/users/@me/guilds"),
    ("DELETE", "/users/@me/guilds/{guild_id}"),
    # guilds
    ("GET", "/guilds/{guild_id}"),
    ("GET", "/guilds/{guild_id}/channels"),
    ("GET", "/guilds/{guild_id}/roles"),
    ("GET", "/guilds/{guild_id}/members"),
    ("GET", "/guilds/{guild_id}/members/{user_id}"),
)
