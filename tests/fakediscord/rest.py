"""The REST route table and the handlers of users, gateway, channels, messages, reactions, DMs and guilds."""

from __future__ import annotations

import copy
import re
from typing import Any

from aiohttp import web

from .constants import (
    FLAG_EPHEMERAL,
)
from .models import (
    _ApiError,
    _Route,
)


class RestMixin:
    """A part of :class:`~fakediscord.server.FakeDiscord` (the module docstring says which)."""

    def _build_routes(self) -> list[_Route]:
        table = [
            ("GET", "/users/@me", self._h_me, "default", True),
            ("POST", "/users/@me/channels", self._h_create_dm, "default", True),
            ("GET", "/users/{user_id}", self._h_get_user, "default", True),
            ("GET", "/oauth2/applications/@me", self._h_app_info, "default", True),
            ("GET", "/applications/@me", self._h_app_info, "default", True),
            ("GET", "/gateway", self._h_gateway, "default", False),
            ("GET", "/gateway/bot", self._h_gateway_bot, "default", True),
            ("PUT", "/applications/{app_id}/commands", self._h_put_commands, "default", True),
            ("GET", "/applications/{app_id}/commands", self._h_get_commands, "default", True),
            ("POST", "/applications/{app_id}/commands", self._h_post_command, "default", True),
            (
                "DELETE",
                "/applications/{app_id}/commands/{command_id}",
                self._h_delete_command,
                "default",
                True,
            ),
            (
                "GET",
                "/applications/{app_id}/guilds/{guild_id}/commands/permissions",
                self._h_command_permissions,
                "default",
                True,
            ),
            (
                "PUT",
                "/applications/{app_id}/guilds/{guild_id}/commands",
                self._h_put_commands,
                "default",
                True,
            ),
            (
                "GET",
                "/applications/{app_id}/guilds/{guild_id}/commands",
                self._h_get_commands,
                "default",
                True,
            ),
            (
                "POST",
                "/applications/{app_id}/guilds/{guild_id}/commands",
                self._h_post_command,
                "default",
                True,
            ),
            (
                "DELETE",
                "/applications/{app_id}/guilds/{guild_id}/commands/{command_id}",
                self._h_delete_command,
                "default",
                True,
            ),
            (
                "POST",
                "/interactions/{interaction_id}/{token}/callback",
                self._h_callback,
                None,
                False,
            ),
            (
                "GET",
                "/webhooks/{app_id}/{token}/messages/{message_id}",
                self._h_webhook_get,
                "webhook",
                False,
            ),
            (
                "PATCH",
                "/webhooks/{app_id}/{token}/messages/{message_id}",
                self._h_webhook_edit,
                "webhook",
                False,
            ),
            (
                "DELETE",
                "/webhooks/{app_id}/{token}/messages/{message_id}",
                self._h_webhook_delete,
                "webhook",
                False,
            ),
            ("POST", "/webhooks/{app_id}/{token}", self._h_followup, "webhook", False),
            ("GET", "/channels/{channel_id}", self._h_get_channel, "default", True),
            ("GET", "/channels/{channel_id}/messages", self._h_list_messages, "default", True),
            ("POST", "/channels/{channel_id}/messages", self._h_create_message, "message", True),
            (
                "GET",
                "/channels/{channel_id}/messages/{message_id}",
                self._h_get_message,
                "default",
                True,
            ),
            (
                "PATCH",
                "/channels/{channel_id}/messages/{message_id}",
                self._h_edit_message,
                "message",
                True,
            ),
            (
                "DELETE",
                "/channels/{channel_id}/messages/{message_id}",
                self._h_delete_message,
                "message",
                True,
            ),
            ("POST", "/channels/{channel_id}/typing", self._h_typing, "message", True),
            (
                "PUT",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
                self._h_add_reaction,
                "message",
                True,
            ),
            (
                "DELETE",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
                self._h_remove_reaction,
                "message",
                True,
            ),
            ("GET", "/guilds/{guild_id}", self._h_get_guild, "default", True),
            ("GET", "/guilds/{guild_id}/channels", self._h_guild_channels, "default", True),
            ("GET", "/guilds/{guild_id}/roles", self._h_guild_roles, "default", True),
            (
                "GET",
                "/guilds/{guild_id}/members/{user_id}",
                self._h_guild_member,
                "default",
                True,
            ),
        ]
        routes = []
        for method, template, handler, bucket, auth in table:
            pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
            routes.append(
                _Route(method, template, re.compile(f"^{pattern}$"), handler, bucket, auth)
            )
        return routes

    # ---------------------------------------------------------------- login / gateway

    async def _h_me(self, request: web.Request, params: dict, body: Any, files: list) -> Any:
        return self._json(self.bot_user)

    async def _h_get_user(self, request: web.Request, params: dict, body: Any, files: list) -> Any:
        user = self.users.get(params["user_id"])
        if user is None:
            raise _ApiError(404, 10013, "Unknown User")
        return self._json(user)

    async def _h_app_info(self, request: web.Request, params: dict, body: Any, files: list) -> Any:
        return self._json(
            {
                "id": str(self.app_id),
                "name": self.bot_user["username"],
                "description": "Fake application for tests",
                "icon": None,
                "bot_public": False,
                "bot_require_code_grant": False,
                "owner": self.users[self.owner_id],
                "verify_key": "0" * 64,
                "team": None,
                "flags": 0,
                "bot": self.bot_user,
                "rpc_origins": [],
                "tags": [],
                "redirect_uris": [],
                "approximate_guild_count": 1,
                "integration_types_config": {"0": {}},
            }
        )

    async def _h_gateway(self, request: web.Request, params: dict, body: Any, files: list) -> Any:
        return self._json({"url": self.gateway_url})

    async def _h_gateway_bot(
        self, request: web.Request, params: dict, body: Any, files: list
    ) -> Any:
        return self._json(
            {
                "url": self.gateway_url,
                "shards": self.shard_count,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 14400000,
                    "max_concurrency": 1,
                },
            }
        )

    # ---------------------------------------------------------------- channels

    async def _h_get_channel(
        self, request: web.Request, params: dict, body: Any, files: list
    ) -> Any:
        channel, _ = self._channel_of(params["channel_id"])
        return self._json(channel)

    async def _h_list_messages(
        self, request: web.Request, params: dict, body: Any, files: list
    ) -> Any:
        channel, _ = self._channel_of(params["channel_id"])
        limit = int(request.query.get("limit", 50))
        before = request.query.get("before")
        after = request.query.get("after")
        found = [m for m in self.messages.values() if m["channel_id"] == channel["id"]]
        if before:
            found = [m for m in found if int(m["id"]) < int(before)]
        if after:
            found = [m for m in found if int(m["id"]) > int(after)]
        found.sort(key=lambda m: int(m["id"]), reverse=True)
        return self._json(found[:limit])

    async def _h_create_message(
        self, request: web.Request, params: dict, body: Any, files: list
    ) -> Any:
        channel, guild_id = self._channel_of(params["channel_id"])
        payload = body if isinstance(body, dict) else {}
        where = f"POST /channels/{channel['id']}/messages"
        self._check_message_payload(payload, where, creating=True, files=files)
        reference = payload.get("message_reference")
        referenced = None
        if reference:
            referenced = self.messages.get(reference.get("message_id") or "")
            if referenced is None and reference.get("fail_if_not_exists", True):
                self._violation(f"{where}: reply to unknown message {reference.get('message_id')}")
                raise _ApiError(
                    400,
                    50035,
                    "Invalid Form Body",
                    {
                        "message_reference": {
                            "_errors": [
                                {
                                    "code": "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
                                    "message": "Unknown message",
                                }
                            ]
                        }
                    },
                )
        message = self._bot_message(
            payload,
            channel_id=channel["id"],
            guild_id=guild_id,
            files=files,
            msg_type=19 if referenced else 0,
        )
        if referenced is not None:
            message["message_reference"] = {
                "type": 0,
                "message_id": referenced["id"],
                "channel_id": referenced["channel_id"],
                **({"guild_id": guild_id} if guild_id else {}),
            }
            message["referenced_message"] = self._without_reference(referenced)
            replied = (payload.get("allowed_mentions") or {}).get("replied_user", True)
            author = referenced["author"]
            if replied and author["id"] not in {m["id"] for m in message["mentions"]}:
                message["mentions"].append(author)
        self._store_message(message)
        channel["last_message_id"] = message["id"]
        await self._echo("MESSAGE_CREATE", message)
        return self._json(message)

    async def _h_get_message(
        self, request: web.Request, params: dict, body: Any, files: list
    ) -> Any:
        channel, _ = self._channel_of(params["channel_id"])
        message = self.messages.get(params["message_id"])
        if message is None or message["channel_id"] != channel["id"]:
            raise _ApiError(404, 10008, "Unknown Message")
        return self._json(message)

    async def _h_edit_message(
        self, request: web.Request, params: dict, body: Any, files: list
    ) -> Any:
        channel, _ = self._channel_of(params["channel_id"])
        message = self.messages.get(params["message_id"])
        if message is None or message["channel_id"] != channel["id"]:
            raise _ApiError(404, 10008, "Unknown Message")
        payload = body if isinstance(body, dict) else {}
        where = f"PATCH /channels/{channel['id']}/messages/{message['id']}"
        if message["author"]["id"] != str(self.bot_user_id):
            content_keys = {"content", "embeds", "components", "attachments"}
            if content_keys & set(payload):
                self._violation(f"{where}: tried to edit a message authored by another user")
                raise _ApiError(403, 50005, "Cannot edit a message authored by another user")
        if message.get("flags", 0) & FLAG_EPHEMERAL:
            raise _ApiError(404, 10008, "Unknown Message")
        self._check_message_payload(payload, where, creating=False, files=files, existing=message)
        self._apply_edit(message, payload, files)
        await self._echo("MESSAGE_UPDATE", message)
        return self._json(message)

    async def _h_delete_message(
        self, request: web.Request, params: dict, body: Any, files: list
    ) -> Any:
        channel, guild_id = self._channel_of(params["channel_id"])
        message = self.messages.get(params["message_id"])
        if message is None or message["channel_id"] != channel["id"]:
            raise _ApiError(404, 10008, "Unknown Message")
        if message["author"]["id"] != str(self.bot_user_id) and guild_id is None:
            raise _ApiError(403, 50003, "Cannot execute action on a DM channel")
        self._delete(message)
        await self._echo("MESSAGE_DELETE", message)
        return web.Response(status=204)

    async def _h_typing(self, request: web.Request, params: dict, body: Any, files: list) -> Any:
        channel, _ = self._channel_of(params["channel_id"])
        self.typing.append((channel["id"], self._now()))
        return web.Response(status=204)

    def _reaction_target(self, params: dict[str, str]) -> dict[str, Any]:
        channel, _ = self._channel_of(params["channel_id"])
        message = self.messages.get(params["message_id"])
        if message is None or message["channel_id"] != channel["id"]:
            raise _ApiError(404, 10008, "Unknown Message")
        return message

    async def _h_add_reaction(
        self, request: web.Request, params: dict, body: Any, files: list
    ) -> Any:
        message = self._reaction_target(params)
        emoji = params["emoji"]
        for reaction in message.setdefault("reactions", []):
            if reaction["emoji"]["name"] == emoji:
                if not reaction["me"]:
                    reaction["me"] = True
                    reaction["count"] += 1
                break
        else:
            message["reactions"].append(
                {"emoji": {"id": None, "name": emoji}, "count": 1, "me": True}
            )
        self._record_edit(message)
        return web.Response(status=204)

    async def _h_remove_reaction(
        self, request: web.Request, params: dict, body: Any, files: list
    ) -> Any:
        message = self._reaction_target(params)
        emoji = params["emoji"]
        kept = []
        for reaction in message.get("reactions", []):
            if reaction["emoji"]["name"] == emoji and reaction["me"]:
                reaction["me"] = False
                reaction["count"] -= 1
            if reaction["count"] > 0:
                kept.append(reaction)
        message["reactions"] = kept
        self._record_edit(message)
        return web.Response(status=204)

    async def _h_create_dm(self, request: web.Request, params: dict, body: Any, files: list) -> Any:
        recipient = (body or {}).get("recipient_id")
        user = self.users.get(recipient) if recipient is not None else None
        if user is None:
            raise _ApiError(400, 50035, "Invalid Form Body", {"recipient_id": {"_errors": []}})
        if user["id"] == str(self.bot_user_id):
            raise _ApiError(400, 50007, "Cannot send messages to this user")
        return self._json(self._dm_channel(user))

    # ---------------------------------------------------------------- guilds

    def _check_guild(self, params: dict[str, str]) -> None:
        self._guild_payload(params["guild_id"])  # 404 Unknown Guild if it is none of ours

    async def _h_get_guild(self, request: web.Request, params: dict, body: Any, files: list) -> Any:
        self._check_guild(params)
        guild = copy.deepcopy(self._guild_payload(params["guild_id"]))
        guild["roles"] = self._guild_roles(params["guild_id"])
        return self._json(guild)

    async def _h_guild_channels(
        self, request: web.Request, params: dict, body: Any, files: list
    ) -> Any:
        self._check_guild(params)
        return self._json(self._guild_channels(params["guild_id"]))

    async def _h_guild_roles(
        self, request: web.Request, params: dict, body: Any, files: list
    ) -> Any:
        self._check_guild(params)
        return self._json(self._guild_roles(params["guild_id"]))

    async def _h_guild_member(
        self, request: web.Request, params: dict, body: Any, files: list
    ) -> Any:
        self._check_guild(params)
        member = self._member_payload(params["user_id"])
        if member is None:
            raise _ApiError(404, 10007, "Unknown Member")
        return self._json(member)
