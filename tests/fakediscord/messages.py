"""Messages: simulated user messages, the bot's messages, their edits and versions."""

from __future__ import annotations

import copy
from typing import Any

from .constants import (
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    INTENT_MESSAGE_CONTENT,
    IT_APPLICATION_COMMAND,
    ROLE_MENTION_RE,
    SETTABLE_FLAGS,
    USER_MENTION_RE,
)
from .models import (
    Interaction,
    _iso,
)


class MessagesMixin:
    """A part of :class:`~fakediscord.server.FakeDiscord` (the module docstring says which)."""

    async def user_message(
        self,
        content: str,
        user: Any = None,
        mention_bot: bool = False,
        channel_id: Any = None,
        dm: bool = False,
        reference_message_id: Any = None,
    ) -> dict[str, Any]:
        """A user posts a message; dispatches MESSAGE_CREATE and returns the message dict.

        ``mention_bot`` prefixes ``<@bot>`` and lists the bot in ``mentions``; a reply
        (``reference_message_id``) also mentions the replied-to author, as Discord does.
        ``dm=True`` posts in the user's DM channel with the bot (no ``guild_id``).  The
        message reaches the bot with its content only if the bot has the message-content
        intent or is mentioned; otherwise it arrives with empty content, like on Discord
        (noted in :attr:`undelivered`).
        """
        await self.wait_ready()
        u = self._resolve_user(user)
        bot_mention = f"<@{self.bot_user_id}>"
        if mention_bot and bot_mention not in content and f"<@!{self.bot_user_id}>" not in content:
            content = f"{bot_mention} {content}"
        if dm:
            channel = self._dm_channel(u)
            guild_id = None
        else:
            cid = str(channel_id or self.channel_id)
            if cid not in self.channels:
                raise AssertionError(f"unknown guild channel {cid}")
            channel = self.channels[cid]
            guild_id = channel["guild_id"]
        mentioned_ids = list(dict.fromkeys(USER_MENTION_RE.findall(content)))
        referenced = None
        if reference_message_id is not None:
            referenced = self.messages.get(reference_message_id)
            if referenced is None:
                raise AssertionError(f"cannot reply to unknown message {reference_message_id}")
            author_id = referenced["author"]["id"]
            if author_id not in mentioned_ids:
                mentioned_ids.append(author_id)
        mentions = []
        for uid in mentioned_ids:
            if uid not in self.users:
                continue
            mention = dict(self.users[uid])
            if guild_id:
                mention["member"] = self._member_payload(uid, with_user=False)
            mentions.append(mention)
        message = {
            "id": self._snowflake(),
            "channel_id": channel["id"],
            "author": u,
            "content": content,
            "timestamp": _iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": "@everyone" in content or "@here" in content,
            "mentions": mentions,
            "mention_roles": list(dict.fromkeys(ROLE_MENTION_RE.findall(content))),
            "attachments": [],
            "embeds": [],
            "components": [],
            "reactions": [],
            "pinned": False,
            "type": 19 if referenced else 0,
            "flags": 0,
            "nonce": self._snowflake(),
        }
        if guild_id:
            message["guild_id"] = guild_id
            message["member"] = self._member_payload(u["id"], with_user=False)
        if referenced is not None:
            message["message_reference"] = {
                "type": 0,
                "message_id": referenced["id"],
                "channel_id": referenced["channel_id"],
                **({"guild_id": guild_id} if guild_id else {}),
            }
            message["referenced_message"] = self._without_reference(referenced)
        self._store_message(message)
        channel["last_message_id"] = message["id"]
        await self._deliver_user_message(message)
        return message

    async def _deliver_user_message(self, message: dict[str, Any]) -> None:
        guild_id = message.get("guild_id")
        session = self._session_for(guild_id)
        if session is None:
            raise AssertionError("the bot is not connected to the fake gateway")
        data = copy.deepcopy(message)
        mentions_bot = any(m["id"] == str(self.bot_user_id) for m in message["mentions"])
        if guild_id and not session.intents & INTENT_MESSAGE_CONTENT and not mentions_bot:
            data.update(content="", embeds=[], attachments=[], components=[])
            self.undelivered.append(
                f"message {message['id']} dispatched with empty content: the bot's intents "
                "lack message_content"
            )
        await self._send_dispatch(session, "MESSAGE_CREATE", data)

    @staticmethod
    def _without_reference(message: dict[str, Any]) -> dict[str, Any]:
        msg = copy.deepcopy(message)
        msg.pop("referenced_message", None)
        return msg

    def _store_message(self, message: dict[str, Any]) -> None:
        self._message_changed_at[message["id"]] = self._now()
        self.messages[message["id"]] = message
        self.message_history[message["id"]] = [copy.deepcopy(message)]
        self._notify()

    def _record_edit(self, message: dict[str, Any]) -> None:
        self._message_changed_at[message["id"]] = self._now()
        self.message_history.setdefault(message["id"], []).append(copy.deepcopy(message))
        self._notify()

    def _attachments_from_files(self, files: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for f in files:
            aid = self._snowflake()
            url = f"{self.base_url}/attachments/{aid}/{f['filename']}"
            out.append(
                {
                    "id": aid,
                    "filename": f["filename"],
                    "size": f["size"],
                    "url": url,
                    "proxy_url": url,
                    "content_type": f.get("content_type") or "application/octet-stream",
                    "ephemeral": False,
                }
            )
        return out

    def _bot_message(
        self,
        payload: dict[str, Any],
        *,
        channel_id: str,
        guild_id: str | None,
        files: list[dict[str, Any]] | None = None,
        msg_type: int = 0,
        flags: int = 0,
        interaction: Interaction | None = None,
    ) -> dict[str, Any]:
        content = payload.get("content") or ""
        mentions = []
        for uid in dict.fromkeys(USER_MENTION_RE.findall(content)):
            if uid in self.users:
                mentions.append(self.users[uid])
        message: dict[str, Any] = {
            "id": self._snowflake(),
            "channel_id": channel_id,
            "author": self.bot_user,
            "content": content,
            "timestamp": _iso(),
            "edited_timestamp": None,
            "tts": bool(payload.get("tts", False)),
            "mention_everyone": False,
            "mentions": mentions,
            "mention_roles": [],
            "attachments": self._attachments_from_files(files or []),
            "embeds": [self._embed_out(e) for e in payload.get("embeds") or []],
            "components": copy.deepcopy(payload.get("components") or []),
            "reactions": [],
            "pinned": False,
            "type": msg_type,
            "flags": (int(payload.get("flags") or 0) & (SETTABLE_FLAGS | FLAG_EPHEMERAL)) | flags,
        }
        if payload.get("nonce") is not None:
            message["nonce"] = payload["nonce"]
        if guild_id:
            message["guild_id"] = guild_id
            message["member"] = self._member_payload(self.bot_user_id, with_user=False)
        if interaction is not None:
            message["webhook_id"] = str(self.app_id)
            message["application_id"] = str(self.app_id)
            user = self.users[interaction.user_id]
            meta: dict[str, Any] = {
                "id": interaction.id,
                "type": interaction.type,
                "user": user,
                "authorizing_integration_owners": interaction.payload.get(
                    "authorizing_integration_owners", {}
                ),
            }
            if interaction.type == IT_APPLICATION_COMMAND:
                meta["name"] = interaction.name
                meta["command_type"] = 1
            if interaction.component_message_id:
                meta["interacted_message_id"] = interaction.component_message_id
            message["interaction_metadata"] = meta
        return message

    @staticmethod
    def _embed_out(embed: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(embed)
        out.setdefault("type", "rich")
        out.setdefault("content_scan_version", 0)
        return out

    def _apply_edit(
        self, message: dict[str, Any], payload: dict[str, Any], files: list[dict[str, Any]]
    ) -> dict[str, Any]:
        if "content" in payload:
            message["content"] = payload["content"] or ""
            message["mentions"] = [
                self.users[uid]
                for uid in dict.fromkeys(USER_MENTION_RE.findall(message["content"]))
                if uid in self.users
            ]
        if "embeds" in payload:
            message["embeds"] = [self._embed_out(e) for e in payload["embeds"] or []]
        if "components" in payload:
            message["components"] = copy.deepcopy(payload["components"] or [])
        message["attachments"] = message["attachments"] + self._attachments_from_files(files)
        if payload.get("flags") is not None:
            keep_flags = message.get("flags", 0) & ~SETTABLE_FLAGS & ~FLAG_LOADING
            message["flags"] = keep_flags | (int(payload["flags"]) & SETTABLE_FLAGS)
        message["flags"] = message.get("flags", 0) & ~FLAG_LOADING
        message["edited_timestamp"] = _iso()
        self._record_edit(message)
        return message

    def message_versions(self, message_id: Any) -> list[dict[str, Any]]:
        """Every version of a message: as created, then after each edit."""
        return list(self.message_history.get(message_id, []))
