"""The fake's world: snowflakes, users, members, roles, guilds and channels."""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Iterable
from typing import Any

from .constants import (
    DISCORD_EPOCH_MS,
    INTENT_GUILD_MEMBERS,
    P_ADMINISTRATOR,
    P_ALL,
)
from .models import (
    _ApiError,
    _iso,
)


class StateMixin:
    """A part of :class:`~fakediscord.server.FakeDiscord` (the module docstring says which)."""

    def _now(self) -> float:
        return time.monotonic() - self._t0

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _snowflake(self) -> str:
        value = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        value = max(value, self._last_snowflake + 1)
        self._last_snowflake = value
        return str(value)

    def _violation(self, text: str) -> None:
        self.violations.append(text)
        self._notify()

    @staticmethod
    def _role(role_id: Any, name: str, permissions: int, position: int) -> dict[str, Any]:
        return {
            "id": str(role_id),
            "name": name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": position,
            "permissions": str(permissions),
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }

    def add_user(
        self,
        username: str,
        *,
        user_id: int | None = None,
        roles: Iterable[Any] = (),
        bot: bool = False,
    ) -> dict[str, Any]:
        """Adds a user, a member of every guild; returns the user payload.

        Call it before the bot connects, or the bot's member cache will not know them
        (interactions and messages still carry the member data).
        """
        uid = str(user_id) if user_id is not None else self._snowflake()
        user = self.users.get(uid) or {
            "id": uid,
            "username": username,
            "discriminator": "0",
            "global_name": username.capitalize(),
            "avatar": None,
            "bot": bot,
            "system": False,
            "public_flags": 0,
            "flags": 0,
        }
        self.users[uid] = user
        self.members[uid] = {
            "roles": [str(r) for r in roles],
            "nick": None,
            "avatar": None,
            "banner": None,
            "joined_at": _iso(),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        return user

    def add_text_channel(
        self, name: str, *, channel_id: int | None = None, guild_id: int | None = None
    ) -> dict[str, Any]:
        """Adds a text channel to the guild (or to ``guild_id``, one from :meth:`add_guild`).
        Call it before the bot connects: the bot learns channels from GUILD_CREATE."""
        gid = str(guild_id if guild_id is not None else self.guild_id)
        if gid != str(self.guild_id) and gid not in self.other_guilds:
            raise AssertionError(f"unknown guild {gid}; add it with fake.add_guild()")
        cid = str(channel_id) if channel_id is not None else self._snowflake()
        channel = {
            "id": cid,
            "type": 0,
            "guild_id": gid,
            "name": name,
            "position": len(self._guild_channels(gid)),
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }
        self.channels[cid] = channel
        return channel

    def add_guild(
        self,
        guild_id: int,
        *,
        name: str = "Other Guild",
        channel_id: int | None = None,
        channel_name: str = "general",
    ) -> dict[str, Any]:
        """Adds another guild, with the same members and roles (and its own ``@everyone``)
        and one text channel; returns that channel.  Call it before the bot connects.

        With ``shard_count`` > 1, the guild lives on shard ``(guild_id >> 22) % shard_count``:
        only that shard's session gets its GUILD_CREATE, interactions and messages.
        """
        gid = str(int(guild_id))
        if gid == str(self.guild_id) or gid in self.other_guilds:
            raise AssertionError(f"guild {gid} already exists")
        guild = copy.deepcopy(self.guild)
        guild.update(id=gid, name=name, system_channel_id=None)
        self.other_guilds[gid] = guild
        channel = self.add_text_channel(channel_name, channel_id=channel_id, guild_id=int(gid))
        guild["system_channel_id"] = channel["id"]
        return channel

    @property
    def guild_ids(self) -> list[int]:
        """Every guild the bot is in: the main one first, then those from add_guild()."""
        return [self.guild_id, *(int(gid) for gid in self.other_guilds)]

    def _guild_channels(self, guild_id: Any) -> list[dict[str, Any]]:
        return [c for c in self.channels.values() if c["guild_id"] == str(guild_id)]

    def _guild_roles(self, guild_id: Any) -> list[dict[str, Any]]:
        roles = list(self.roles.values())
        if str(guild_id) == str(self.guild_id):
            return roles
        # Its own @everyone (id = guild id, as on Discord); the other roles are shared.
        shared = [r for r in roles if r["id"] != str(self.guild_id)]
        return [dict(self.everyone_role, id=str(guild_id)), *shared]

    def _guild_payload(self, guild_id: Any) -> dict[str, Any]:
        if str(guild_id) == str(self.guild_id):
            return self.guild
        return self.other_guilds[guild_id]

    def _dm_channel(self, user: dict[str, Any], channel_id: Any = None) -> dict[str, Any]:
        existing = self._dm_by_user.get(user["id"])
        if existing is not None:
            return existing
        cid = str(channel_id) if channel_id is not None else self._snowflake()
        channel = {
            "id": cid,
            "type": 1,
            "last_message_id": None,
            "flags": 0,
            "recipients": [user],
        }
        self.dm_channels[cid] = channel
        self._dm_by_user[user["id"]] = channel
        return channel

    def _resolve_user(self, user: Any) -> dict[str, Any]:
        if user is None:
            return self.users[self.default_user_id]
        if isinstance(user, int) or (isinstance(user, str) and user.isdigit()):
            if user in self.users:
                return self.users[user]
            raise AssertionError(f"unknown user id {user}; add it with fake.add_user()")
        for candidate in self.users.values():
            if candidate["username"] == user:
                return candidate
        raise AssertionError(f"unknown user {user!r}; known: {self._usernames()}")

    def _usernames(self) -> list[str]:
        return [u["username"] for u in self.users.values()]

    def _member_payload(self, user_id: Any, *, with_user: bool = True) -> dict[str, Any]:
        data = copy.deepcopy(self.members[user_id])
        if with_user:
            data["user"] = self.users[user_id]
        return data

    def _permissions(self, user_id: Any) -> int:
        if str(user_id) == str(self.owner_id):
            return P_ALL
        member = self.members.get(user_id)
        perms = int(self.everyone_role["permissions"])
        for rid in (member or {}).get("roles", []):
            role = self.roles.get(rid)
            if role:
                perms |= int(role["permissions"])
        return P_ALL if perms & P_ADMINISTRATOR else perms

    def _guild_create_payload(self, intents: int, guild_id: Any = None) -> dict[str, Any]:
        gid = guild_id if guild_id is not None else self.guild_id
        guild = copy.deepcopy(self._guild_payload(gid))
        # Like Discord: without the GUILD_MEMBERS intent only the bot itself is included.
        member_ids = list(self.members)
        if not intents & INTENT_GUILD_MEMBERS:
            member_ids = [str(self.bot_user_id)]
        members = [self._member_payload(uid) for uid in member_ids]
        guild.update(
            {
                "roles": self._guild_roles(gid),
                "channels": self._guild_channels(gid),
                "threads": [],
                "members": members,
                "member_count": len(self.members),
                "presences": [],
                "voice_states": [],
                "stage_instances": [],
                "guild_scheduled_events": [],
                "soundboard_sounds": [],
                "large": False,
                "unavailable": False,
                "joined_at": self.members[self.bot_user_id]["joined_at"],
                "lazy": True,
            }
        )
        return guild

    def _channel_of(self, channel_id: Any) -> tuple[dict[str, Any], str | None]:
        """Returns (channel payload, guild id or None for DMs) or raises 404 Unknown Channel."""
        if channel_id in self.channels:
            channel = self.channels[channel_id]
            return channel, channel["guild_id"]
        if channel_id in self.dm_channels:
            return self.dm_channels[channel_id], None
        raise _ApiError(404, 10003, "Unknown Channel")
