"""The REST route table and the handlers of login, gateway and channel messages."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from .models import (
    _ApiError,
    _Route,
)


class RestMixin:
    """A part of :class:`~fakediscord.server.FakeDiscord` (the module docstring says which)."""

    def _build_routes(self) -> list[_Route]:
        table = [
            ("GET", "/users/@me", self._h_me, "default", True),
            ("GET", "/oauth2/applications/@me", self._h_app_info, "default", True),
            ("GET", "/gateway/bot", self._h_gateway_bot, "default", True),
            ("PUT", "/applications/{app_id}/commands", self._h_put_commands, "default", True),
            (
                "PUT",
                "/applications/{app_id}/guilds/{guild_id}/commands",
                self._h_put_commands,
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
            ("POST", "/webhooks/{app_id}/{token}", self._h_followup, "webhook", False),
            ("POST", "/channels/{channel_id}/messages", self._h_create_message, "message", True),
            (
                "PATCH",
                "/channels/{channel_id}/messages/{message_id}",
                self._h_edit_message,
                "message",
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

    # ---------------------------------------------------------------- channel messages

    async def _h_create_message(
        self, request: web.Request, params: dict, body: Any, files: list
    ) -> Any:
        channel, guild_id = self._channel_of(params["channel_id"])
        payload = body if isinstance(body, dict) else {}
        where = f"POST /channels/{channel['id']}/messages"
        self._check_message_payload(payload, where, creating=True, files=files)
        reference = payload.get("message_reference") or {}
        referenced = self.messages.get(reference.get("message_id") or "")
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

    async def _h_edit_message(
        self, request: web.Request, params: dict, body: Any, files: list
    ) -> Any:
        channel, _ = self._channel_of(params["channel_id"])
        message = self.messages.get(params["message_id"])
        if message is None or message["channel_id"] != channel["id"]:
            raise _ApiError(404, 10008, "Unknown Message")
        payload = body if isinstance(body, dict) else {}
        where = f"PATCH /channels/{channel['id']}/messages/{message['id']}"
        self._check_message_payload(payload, where, creating=False, files=files, existing=message)
        self._apply_edit(message, payload, files)
        await self._echo("MESSAGE_UPDATE", message)
        return self._json(message)
