"""A local fake Discord (REST API + gateway) for end-to-end tests of a discord.py 2.7.1 bot.

The fake is a real aiohttp server on 127.0.0.1 (ephemeral port).  An unmodified
``discord.Client`` / ``commands.Bot`` / ``AutoShardedClient`` connects to it once
``discord.http.Route.BASE`` points at :attr:`FakeDiscord.api_base` and
``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` at :attr:`FakeDiscord.gateway_url`
(see :meth:`FakeDiscord.patch_discord` and :func:`run_bot`), or, for a bot running as a
subprocess, through the environment from :meth:`FakeDiscord.bot_env`.

Everything the bot does is recorded in order (:attr:`FakeDiscord.events`) and checked
against Discord's rules: the 3-second deadline of the first interaction response, a
single acknowledgement per interaction, message/embed/component limits, mention safety
(``allowed_mentions``) and per-route rate limits.  Broken rules land in
:attr:`FakeDiscord.violations` (and rate-limited requests in
:attr:`FakeDiscord.rate_limited`); tests assert both stay empty.

Every wait takes a timeout and raises :class:`FakeDiscordTimeout` (an ``AssertionError``)
with a summary of what the bot did, so a hanging bot fails fast with a readable message.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import json
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

__all__ = [
    "Callback",
    "Event",
    "FakeDiscord",
    "FakeDiscordTimeout",
    "Interaction",
    "run_bot",
]

DISCORD_EPOCH_MS = 1420070400000

# Gateway intents (https://discord.com/developers/docs/events/gateway#gateway-intents)
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = INTENT_GUILD_MEMBERS | INTENT_GUILD_PRESENCES | INTENT_MESSAGE_CONTENT

# Permission bits
P_KICK_MEMBERS = 1 << 1
P_ADMINISTRATOR = 1 << 3
P_ADD_REACTIONS = 1 << 6
P_VIEW_CHANNEL = 1 << 10
P_SEND_MESSAGES = 1 << 11
P_MANAGE_MESSAGES = 1 << 13
P_EMBED_LINKS = 1 << 14
P_ATTACH_FILES = 1 << 15
P_READ_MESSAGE_HISTORY = 1 << 16
P_MENTION_EVERYONE = 1 << 17
P_USE_EXTERNAL_EMOJIS = 1 << 18
P_USE_APPLICATION_COMMANDS = 1 << 31
P_CREATE_PUBLIC_THREADS = 1 << 35
P_SEND_MESSAGES_IN_THREADS = 1 << 38
P_ALL = (1 << 51) - 1
EVERYONE_PERMISSIONS = (
    P_VIEW_CHANNEL
    | P_SEND_MESSAGES
    | P_EMBED_LINKS
    | P_ATTACH_FILES
    | P_READ_MESSAGE_HISTORY
    | P_ADD_REACTIONS
    | P_USE_EXTERNAL_EMOJIS
    | P_USE_APPLICATION_COMMANDS
)
BOT_ROLE_PERMISSIONS = (
    EVERYONE_PERMISSIONS | P_MANAGE_MESSAGES | P_SEND_MESSAGES_IN_THREADS | P_CREATE_PUBLIC_THREADS
)
MODERATOR_PERMISSIONS = EVERYONE_PERMISSIONS | P_MANAGE_MESSAGES | P_KICK_MEMBERS

# Message flags
FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12
FLAG_COMPONENTS_V2 = 1 << 15
SETTABLE_FLAGS = FLAG_SUPPRESS_EMBEDS | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_COMPONENTS_V2

# Interaction types / callback types
IT_APPLICATION_COMMAND = 2
IT_COMPONENT = 3
IT_AUTOCOMPLETE = 4
IT_MODAL_SUBMIT = 5
CB_NAMES = {
    1: "PONG",
    4: "CHANNEL_MESSAGE_WITH_SOURCE",
    5: "DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE",
    6: "DEFERRED_UPDATE_MESSAGE",
    7: "UPDATE_MESSAGE",
    8: "APPLICATION_COMMAND_AUTOCOMPLETE_RESULT",
    9: "MODAL",
    10: "PREMIUM_REQUIRED",
    12: "LAUNCH_ACTIVITY",
}
CB_ALLOWED = {
    IT_APPLICATION_COMMAND: {4, 5, 9},
    IT_COMPONENT: {4, 5, 6, 7, 9},
    IT_AUTOCOMPLETE: {8},
    IT_MODAL_SUBMIT: {4, 5, 6, 7},
}

# Application command option types
OPT_SUB_COMMAND = 1
OPT_SUB_COMMAND_GROUP = 2
OPT_STRING = 3
OPT_INTEGER = 4
OPT_BOOLEAN = 5
OPT_USER = 6
OPT_CHANNEL = 7
OPT_ROLE = 8
OPT_MENTIONABLE = 9
OPT_NUMBER = 10
OPT_ATTACHMENT = 11

ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024
COMMAND_NAME_RE = re.compile(r"^[-_\w]{1,32}$")
USER_MENTION_RE = re.compile(r"<@!?(\d+)>")
ROLE_MENTION_RE = re.compile(r"<@&(\d+)>")
GATEWAY_OPS = {
    0: "DISPATCH",
    1: "HEARTBEAT",
    2: "IDENTIFY",
    3: "PRESENCE_UPDATE",
    4: "VOICE_STATE_UPDATE",
    6: "RESUME",
    8: "REQUEST_GUILD_MEMBERS",
    31: "REQUEST_SOUNDBOARD_SOUNDS",
}


class FakeDiscordTimeout(AssertionError):
    """A bounded wait on the fake Discord ran out (the message says what the bot did)."""


class _ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        errors: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors


@dataclass
class Event:
    """One thing the bot did: an HTTP request (``kind="http"``) or a gateway op (``"gateway"``).

    ``time`` is seconds since :meth:`FakeDiscord.start` (monotonic clock); ``status`` is the
    HTTP status the fake answered (``None`` for gateway ops).
    """

    kind: str
    method: str
    path: str
    json: Any
    time: float
    status: int | None = None
    query: dict[str, str] = field(default_factory=dict)


@dataclass
class Callback:
    """One ``POST /interactions/{id}/{token}/callback`` the bot made."""

    type: int
    data: Any
    elapsed: float  # seconds since the INTERACTION_CREATE was dispatched
    time: float
    status: int = 0
    accepted: bool = False
    error: str | None = None

    @property
    def type_name(self) -> str:
        return CB_NAMES.get(self.type, str(self.type))


@dataclass
class Interaction:
    """An interaction the fake dispatched, with everything the bot answered to it."""

    id: str
    token: str
    type: int
    payload: dict[str, Any]
    dispatched_at: float
    channel_id: str
    guild_id: str | None
    user_id: str
    name: str  # command name (with subcommand path) or component custom_id
    callbacks: list[Callback] = field(default_factory=list)
    original_message_id: str | None = None
    followup_ids: list[str] = field(default_factory=list)
    choices: list[dict[str, Any]] | None = None  # autocomplete result
    modal: dict[str, Any] | None = None  # modal the bot opened
    late: bool = False
    component_message_id: str | None = None
    shard: int | None = None  # the shard whose gateway session it was dispatched to
    session_id: str | None = None  # that session (discord.py logs it on connecting)

    @property
    def acknowledged(self) -> bool:
        return any(cb.accepted for cb in self.callbacks)

    @property
    def response(self) -> Callback | None:
        """The accepted (first valid, in-time) callback, if any."""
        return next((cb for cb in self.callbacks if cb.accepted), None)

    @property
    def response_type(self) -> int | None:
        cb = self.response
        return cb.type if cb else None

    @property
    def ack_elapsed(self) -> float | None:
        """Seconds from dispatch to the first callback the bot sent (accepted or not)."""
        return self.callbacks[0].elapsed if self.callbacks else None


class _IdDict(dict):
    """A dict keyed by snowflake strings that also accepts int keys."""

    def __getitem__(self, key: Any) -> Any:
        return super().__getitem__(str(key))

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(str(key), value)

    def __contains__(self, key: Any) -> bool:
        return super().__contains__(str(key))

    def __delitem__(self, key: Any) -> None:
        super().__delitem__(str(key))

    def get(self, key: Any, default: Any = None) -> Any:
        return super().get(str(key), default)

    def pop(self, key: Any, *args: Any) -> Any:
        return super().pop(str(key), *args)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        return super().setdefault(str(key), default)


@dataclass
class _Session:
    id: str
    shard: tuple[int, int]
    intents: int
    seq: int = 0
    buffer: list[tuple[int, str]] = field(default_factory=list)
    conn: _Conn | None = None
    ready: bool = False  # READY and its GUILD_CREATEs were sent


@dataclass
class _Conn:
    id: int
    ws: web.WebSocketResponse
    query: dict[str, str]
    session: _Session | None = None
    closed: bool = False


@dataclass
class _Bucket:
    limit: int
    per: float
    window_start: float = 0.0
    count: int = 0


@dataclass
class _Route:
    method: str
    template: str
    regex: re.Pattern[str]
    handler: Any
    bucket: str | None  # "message", "webhook", "default" or None
    auth: bool


def _iso(ts: float | None = None) -> str:
    dt = datetime.fromtimestamp(ts if ts is not None else time.time(), UTC)
    return dt.isoformat(timespec="microseconds")


def _errors_tree(problems: list[tuple[str, str, str]]) -> dict[str, Any]:
    """Builds Discord's nested ``errors`` object from (dotted path, code, message)."""
    tree: dict[str, Any] = {}
    for path, code, message in problems:
        node = tree
        for part in path.split("."):
            node = node.setdefault(part, {})
        node.setdefault("_errors", []).append({"code": code, "message": message})
    return tree


def _walk_components(components: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for comp in components or []:
        if not isinstance(comp, dict):
            continue
        yield comp
        yield from _walk_components(comp.get("components") or [])
        if isinstance(comp.get("component"), dict):  # label (type 18)
            yield from _walk_components([comp["component"]])
        if isinstance(comp.get("accessory"), dict):  # section (type 9)
            yield from _walk_components([comp["accessory"]])


class FakeDiscord:
    """A fake Discord server (REST API v10 + gateway) on 127.0.0.1 for end-to-end tests.

    One guild with one text channel (``channel_id``), roles ``@everyone``, ``Moderator``
    and the bot's managed role, and members: the bot, ``owner`` (the guild owner),
    ``alice`` (the default user for simulated actions) and ``bob`` (a Moderator).
    :meth:`add_guild` adds more guilds (same members and roles, each its own channel);
    with ``shard_count`` > 1 each guild is sent to, and acted in over, its own shard.
    """

    def __init__(
        self,
        token: str = "test-token",
        heartbeat_interval_ms: int = 1000,
        guild_id: int = 1300000000000000001,
        channel_id: int = 1300000000000000002,
        dm_channel_id: int = 1300000000000000003,
        bot_user_id: int = 1200000000000000001,
        app_id: int | None = None,
        owner_id: int = 1200000000000000002,
        *,
        bot_name: str = "TestBot",
        guild_name: str = "Test Guild",
        channel_name: str = "general",
        ack_deadline_s: float = 3.0,
        rate_limit: tuple[int, float] = (5, 5.0),
        rate_limit_headers: bool = True,
        allowed_privileged_intents: int = PRIVILEGED_INTENTS,
        echo_bot_messages: bool = True,
        shard_count: int = 1,
        click_delay_s: float = 0.1,
    ) -> None:
        self.token = token
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.guild_id = int(guild_id)
        self.channel_id = int(channel_id)
        self.dm_channel_id = int(dm_channel_id)
        self.bot_user_id = int(bot_user_id)
        self.app_id = int(app_id if app_id is not None else bot_user_id)
        self.owner_id = int(owner_id)
        self.ack_deadline_s = ack_deadline_s
        self.rate_limit = rate_limit
        self.rate_limit_headers = rate_limit_headers
        self.allowed_privileged_intents = allowed_privileged_intents
        self.echo_bot_messages = echo_bot_messages
        self.shard_count = shard_count
        # A user cannot click a component within ms of it appearing; the delay also lets
        # discord.py finish handling the HTTP response that created it (store_view).
        self.click_delay_s = click_delay_s
        self._message_changed_at: dict[str, float] = {}

        # --- records -------------------------------------------------------------------
        self.events: list[Event] = []
        self.violations: list[str] = []
        self.rate_limited: list[dict[str, Any]] = []
        self.rate_limit_exhausted: list[dict[str, Any]] = []
        self.unknown_routes: list[dict[str, Any]] = []
        self.allowed_mentions: list[dict[str, Any]] = []
        self.heartbeats: list[tuple[int, float]] = []
        self.identifies: list[dict[str, Any]] = []
        self.resumes: list[dict[str, Any]] = []
        self.presence_updates: list[dict[str, Any]] = []
        self.dispatched: list[tuple[float, str, dict[str, Any]]] = []
        self.undelivered: list[str] = []
        self.typing: list[tuple[str, float]] = []
        self.interactions: list[Interaction] = []
        self.messages: _IdDict = _IdDict()
        self.message_history: _IdDict = _IdDict()
        self.deleted_messages: _IdDict = _IdDict()
        self.attachments: _IdDict = _IdDict()  # attachment id -> bytes
        self.commands: dict[str, dict[str, Any]] = {}
        self.guild_commands: _IdDict = _IdDict()
        self.syncs: list[dict[str, Any]] = []

        # --- server state --------------------------------------------------------------
        self._routes = self._build_routes()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._t0 = time.monotonic()
        self._changed = asyncio.Event()
        self._conns: list[_Conn] = []
        self._sessions: dict[str, _Session] = {}
        self._conn_ids = 0
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._by_token: dict[str, Interaction] = {}
        self._by_interaction_id: dict[str, Interaction] = {}
        self._ready_sessions = 0

        # --- world ---------------------------------------------------------------------
        self._last_snowflake = 0
        self.bot_user: dict[str, Any] = {
            "id": str(self.bot_user_id),
            "username": bot_name,
            "discriminator": "0001",
            "global_name": None,
            "avatar": None,
            "bot": True,
            "system": False,
            "mfa_enabled": False,
            "verified": True,
            "email": None,
            "flags": 0,
            "public_flags": 0,
            "locale": "en-US",
        }
        self.users: _IdDict = _IdDict()
        self.users[self.bot_user_id] = self.bot_user
        self.everyone_role = self._role(self.guild_id, "@everyone", EVERYONE_PERMISSIONS, 0)
        self.moderator_role = self._role(self._snowflake(), "Moderator", MODERATOR_PERMISSIONS, 2)
        self.bot_role = self._role(self._snowflake(), bot_name, BOT_ROLE_PERMISSIONS, 1)
        self.bot_role["managed"] = True
        self.bot_role["tags"] = {"bot_id": str(self.bot_user_id)}
        self.roles: _IdDict = _IdDict()
        for role in (self.everyone_role, self.moderator_role, self.bot_role):
            self.roles[role["id"]] = role
        self.members: _IdDict = _IdDict()  # user id -> member payload (without "user")
        self.channels: _IdDict = _IdDict()  # guild channels
        self.dm_channels: _IdDict = _IdDict()  # channel id -> DM channel payload
        self._dm_by_user: _IdDict = _IdDict()
        self.other_guilds: _IdDict = _IdDict()  # guild id -> payload, from add_guild()
        self.guild: dict[str, Any] = {
            "id": str(self.guild_id),
            "name": guild_name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": str(self.channel_id),
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "max_members": 500000,
            "max_video_channel_users": 25,
            "emojis": [],
            "stickers": [],
        }
        self.add_user(bot_name, user_id=self.bot_user_id, roles=[self.bot_role["id"]], bot=True)
        self.add_user("owner", user_id=self.owner_id)
        self.alice = self.add_user("alice")
        self.bob = self.add_user("bob", roles=[self.moderator_role["id"]])
        self.default_user_id = int(self.alice["id"])
        self.add_text_channel(channel_name, channel_id=self.channel_id)
        self._dm_channel(self.alice, channel_id=self.dm_channel_id)

    # ================================================================ lifecycle

    async def start(self) -> FakeDiscord:
        """Starts the HTTP + websocket server on 127.0.0.1 (ephemeral port)."""
        if self._runner is not None:
            return self
        self._t0 = time.monotonic()
        self._changed = asyncio.Event()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._ws_handler)
        app.router.add_route("*", "/{tail:.*}", self._http_handler)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        """Closes every gateway connection and stops the server (close the bot first)."""
        if self._runner is None:
            return
        for conn in list(self._conns):
            if not conn.ws.closed:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.ws.close(code=1001), 1.0)
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeDiscord is not started; await fake.start() first")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        """What ``discord.http.Route.BASE`` must be: ``http://127.0.0.1:PORT/api/v10``."""
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        """What ``DiscordWebSocket.DEFAULT_GATEWAY`` must be: ``ws://127.0.0.1:PORT/gateway``."""
        return f"ws://127.0.0.1:{self.port}/gateway"

    def bot_env(self) -> dict[str, str]:
        """Environment for a bot subprocess (``python -m bot run``)."""
        return {
            "DISCORD_API_BASE_URL": self.api_base,
            "DISCORD_GATEWAY_URL": self.gateway_url,
            "DISCORD_TOKEN": self.token,
        }

    @contextlib.contextmanager
    def patch_discord(self) -> Iterator[None]:
        """Points the in-process discord.py at this fake; restores the old values on exit."""
        import discord.gateway
        import discord.http
        import yarl

        old_base = discord.http.Route.BASE
        old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
        discord.http.Route.BASE = self.api_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        try:
            yield
        finally:
            discord.http.Route.BASE = old_base
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway

    # ================================================================ world helpers

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
        member: bool = True,
        roles: Iterable[Any] = (),
        bot: bool = False,
    ) -> dict[str, Any]:
        """Adds a user (a guild member unless ``member=False``); returns the user payload.

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
        if member:
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
        """Adds a text channel to the guild (or to ``guild_id``, one from :meth:`add_guild`);
        dispatches CHANNEL_CREATE when that guild's shard is connected."""
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
        if self._live_conn(gid) is not None:
            task = asyncio.ensure_future(self._dispatch("CHANNEL_CREATE", channel, gid))
            task.add_done_callback(lambda t: t.exception())
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
        if guild_id in self.other_guilds:
            return self.other_guilds[guild_id]
        raise _ApiError(404, 10004, "Unknown Guild")

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
        if isinstance(user, dict):
            if user.get("id") in self.users:
                return self.users[user["id"]]
            return self.add_user(user.get("username", "user"), user_id=user.get("id"))
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

    def _member_payload(self, user_id: Any, *, with_user: bool = True) -> dict[str, Any] | None:
        member = self.members.get(user_id)
        if member is None:
            return None
        data = copy.deepcopy(member)
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

    # ================================================================ gateway

    def _shard_for(self, guild_id: Any) -> int:
        if guild_id is None:
            return 0
        return (int(guild_id) >> 22) % max(self.shard_count, 1)

    def _live_conn(self, guild_id: Any = None) -> _Conn | None:
        return self._shard_conn(self._shard_for(guild_id))

    def _shard_conn(self, shard: int) -> _Conn | None:
        for conn in reversed(self._conns):
            sess = conn.session
            if not conn.closed and sess is not None and sess.shard[0] == shard:
                return conn
        return None

    def _session_for(self, guild_id: Any = None) -> _Session | None:
        conn = self._live_conn(guild_id)
        return conn.session if conn else None

    @property
    def intents(self) -> int | None:
        """The intents of the latest IDENTIFY (``None`` before the bot identified)."""
        return self.identifies[-1]["intents"] if self.identifies else None

    async def _ws_handler(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        self._conn_ids += 1
        conn = _Conn(id=self._conn_ids, ws=ws, query=dict(request.query))
        self._conns.append(conn)
        self.events.append(Event("gateway", "WS", "connect", dict(request.query), self._now()))
        if request.query.get("v") not in (None, "10"):
            self._violation(f"gateway: connected with v={request.query.get('v')} (expected 10)")
        try:
            await ws.send_str(
                json.dumps(
                    {
                        "op": 10,
                        "d": {"heartbeat_interval": self.heartbeat_interval_ms, "_trace": ["fake"]},
                        "s": None,
                        "t": None,
                    }
                )
            )
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await self._on_gateway_message(conn, msg.data)
                elif msg.type == WSMsgType.BINARY:
                    self._violation("gateway: the client sent a binary frame (expected JSON text)")
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            conn.closed = True
            if conn.session is not None and conn.session.conn is conn:
                conn.session.conn = None
            self.events.append(
                Event("gateway", "WS", "disconnect", {"close_code": ws.close_code}, self._now())
            )
            self._notify()
        return ws

    async def _on_gateway_message(self, conn: _Conn, raw: str) -> None:
        try:
            msg = json.loads(raw)
        except ValueError:
            self._violation(f"gateway: invalid JSON frame {raw[:100]!r}")
            return
        op = msg.get("op")
        data = msg.get("d")
        now = self._now()
        if op == 1:
            self.heartbeats.append((conn.id, now))
            await conn.ws.send_str(json.dumps({"op": 11, "d": None, "s": None, "t": None}))
            self._notify()
            return
        self.events.append(Event("gateway", "WS", f"op {op} {GATEWAY_OPS.get(op, '?')}", data, now))
        if op == 2:
            await self._on_identify(conn, data or {})
        elif op == 6:
            await self._on_resume(conn, data or {})
        elif op == 8:
            await self._on_request_members(conn, data or {})
        elif op == 3:
            self.presence_updates.append(data)
        self._notify()

    async def _on_identify(self, conn: _Conn, data: dict[str, Any]) -> None:
        record = {
            "time": self._now(),
            "intents": data.get("intents"),
            "shard": data.get("shard"),
            "properties": data.get("properties"),
            "presence": data.get("presence"),
        }
        self.identifies.append(record)
        if data.get("token") != self.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        intents = data.get("intents")
        if not isinstance(intents, int):
            await conn.ws.close(code=4013, message=b"Invalid intent(s).")
            return
        if intents & PRIVILEGED_INTENTS & ~self.allowed_privileged_intents:
            await conn.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        shard = tuple(data.get("shard") or (0, 1))
        if shard[1] != self.shard_count:
            await conn.ws.close(code=4011, message=b"Sharding required.")
            return
        session = _Session(
            id=secrets.token_hex(16), shard=(int(shard[0]), int(shard[1])), intents=intents
        )
        session.conn = conn
        conn.session = session
        self._sessions[session.id] = session
        ready = {
            "v": 10,
            "user": self.bot_user,
            "guilds": [],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.app_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "user_settings": {},
            "geo_ordered_rtc_regions": [],
            "_trace": ["fake-gateway"],
        }
        owned = [g for g in self.guild_ids if self._shard_for(g) == session.shard[0]]
        ready["guilds"] = [{"id": str(g), "unavailable": True} for g in owned]
        if data.get("shard") is not None:
            ready["shard"] = list(session.shard)
        await self._send_dispatch(session, "READY", ready)
        for gid in owned:
            payload = self._guild_create_payload(intents, gid)
            await self._send_dispatch(session, "GUILD_CREATE", payload)
        session.ready = True
        self._ready_sessions += 1

    async def _on_resume(self, conn: _Conn, data: dict[str, Any]) -> None:
        self.resumes.append(
            {"time": self._now(), **{k: data.get(k) for k in ("session_id", "seq")}}
        )
        if data.get("token") != self.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        session = self._sessions.get(data.get("session_id") or "")
        if session is None:
            await conn.ws.send_str(json.dumps({"op": 9, "d": False, "s": None, "t": None}))
            return
        session.conn = conn
        conn.session = session
        last = data.get("seq") or 0
        for seq, frame in list(session.buffer):
            if seq > last:
                await conn.ws.send_str(frame)
        await self._send_dispatch(session, "RESUMED", {"_trace": ["fake-gateway"]})

    async def _on_request_members(self, conn: _Conn, data: dict[str, Any]) -> None:
        if conn.session is None:
            return
        if not conn.session.intents & INTENT_GUILD_MEMBERS and not data.get("user_ids"):
            await conn.ws.close(code=4013, message=b"Invalid intent(s).")
            return
        query = (data.get("query") or "").lower()
        user_ids = data.get("user_ids")
        if user_ids is not None and not isinstance(user_ids, list):
            user_ids = [user_ids]
        members = []
        not_found = []
        if user_ids is not None:
            for uid in user_ids:
                member = self._member_payload(uid)
                if member is None:
                    not_found.append(str(uid))
                else:
                    members.append(member)
        else:
            for uid in self.members:
                if self.users[uid]["username"].lower().startswith(query):
                    members.append(self._member_payload(uid))
            if data.get("limit"):
                members = members[: int(data["limit"])]
        chunk: dict[str, Any] = {
            "guild_id": str(data.get("guild_id")),
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": not_found,
        }
        if data.get("presences"):
            chunk["presences"] = []
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        await self._send_dispatch(conn.session, "GUILD_MEMBERS_CHUNK", chunk)

    async def _send_dispatch(self, session: _Session, event: str, data: dict[str, Any]) -> None:
        session.seq += 1
        frame = json.dumps({"op": 0, "t": event, "s": session.seq, "d": data})
        session.buffer.append((session.seq, frame))
        del session.buffer[:-1000]
        self.dispatched.append((self._now(), event, data))
        conn = session.conn
        if conn is not None and not conn.ws.closed:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await conn.ws.send_str(frame)
        self._notify()

    async def _dispatch(self, event: str, data: dict[str, Any], guild_id: Any = None) -> bool:
        session = self._session_for(guild_id)
        if session is None:
            return False
        await self._send_dispatch(session, event, data)
        return True

    async def _echo(self, event: str, message: dict[str, Any]) -> None:
        """Dispatches the bot's own message create/update/delete, as Discord does."""
        if not self.echo_bot_messages:
            return
        guild_id = message.get("guild_id")
        session = self._session_for(guild_id)
        if session is None:
            return
        needed = INTENT_GUILD_MESSAGES if guild_id else INTENT_DIRECT_MESSAGES
        if not session.intents & needed:
            return
        if message.get("flags", 0) & FLAG_EPHEMERAL:
            return
        if event == "MESSAGE_DELETE":
            data = {"id": message["id"], "channel_id": message["channel_id"]}
            if guild_id:
                data["guild_id"] = guild_id
        else:
            data = copy.deepcopy(message)
        await self._send_dispatch(session, event, data)

    async def reconnect(self, *, op: int = 7) -> None:
        """Asks the bot to reconnect (op 7; ``op=9`` sends a resumable INVALID_SESSION)."""
        await self.wait_ready()
        conn = self._live_conn()
        assert conn is not None
        frame = {"op": op, "d": True if op == 9 else None, "s": None, "t": None}
        await conn.ws.send_str(json.dumps(frame))

    async def drop_connection(self, code: int = 4000) -> None:
        """Closes the bot's gateway connection from the server side (it should RESUME)."""
        await self.wait_ready()
        conn = self._live_conn()
        assert conn is not None
        await conn.ws.close(code=code)

    def heartbeat_gaps(self, *, include_pending: bool = False) -> list[float]:
        """Seconds between consecutive heartbeats on the same connection.

        ``include_pending`` also appends, for each live connection, the time since its last
        heartbeat (a blocked event loop shows up there before the next heartbeat arrives).
        """
        gaps: list[float] = []
        last: dict[int, float] = {}
        for conn_id, t in self.heartbeats:
            if conn_id in last:
                gaps.append(t - last[conn_id])
            last[conn_id] = t
        if include_pending:
            now = self._now()
            for conn in self._conns:
                if not conn.closed and conn.id in last:
                    gaps.append(now - last[conn.id])
        return gaps

    # ================================================================ waiting

    def _summary(self) -> str:
        lines = []
        connected = self._live_conn() is not None
        lines.append(
            f"bot connected: {connected}; identifies: {len(self.identifies)}; "
            f"heartbeats: {len(self.heartbeats)}"
        )
        recent = self.events[-15:]
        if recent:
            lines.append("last requests/ops:")
            for ev in recent:
                status = "" if ev.status is None else f" -> {ev.status}"
                lines.append(f"  {ev.time:7.3f}s {ev.method} {ev.path}{status}")
        for label, items in (
            ("violations", self.violations),
            ("unknown routes", [f"{u['method']} {u['path']}" for u in self.unknown_routes]),
            ("rate limited", [f"{r['method']} {r['path']}" for r in self.rate_limited]),
            ("not delivered to the bot", self.undelivered),
        ):
            if items:
                lines.append(f"{label}: {items[-10:]}")
        return "\n".join(lines)

    async def _wait_until(self, check: Callable[[], Any], timeout: float, what: str) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = check()
            if result is not None and result is not False:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise FakeDiscordTimeout(
                    f"timed out after {timeout:.1f}s waiting for {what}\n{self._summary()}"
                )
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), min(remaining, 0.05))  # also polls

    async def wait_until(
        self, check: Callable[[], Any], timeout: float = 5.0, what: str = "a condition"
    ) -> Any:
        """Waits until ``check()`` returns something truthy (re-checked on every request,
        gateway op and message change) and returns it; raises FakeDiscordTimeout."""
        return await self._wait_until(lambda: check() or None, timeout, what)

    @property
    def ready_sessions(self) -> int:
        """How many sessions got READY so far: a restarted bot's new session adds one."""
        return self._ready_sessions

    async def wait_ready(self, timeout: float = 10.0, *, all_shards: bool = False) -> None:
        """Waits until the bot identified and got READY (and GUILD_CREATE) on shard 0, or,
        with ``all_shards``, on every one of the ``shard_count`` shards (from any process)."""

        def check() -> bool:
            if not all_shards:
                return self._live_conn() is not None and self._ready_sessions > 0
            conns = [self._shard_conn(shard) for shard in range(max(self.shard_count, 1))]
            return all(c is not None and c.session is not None and c.session.ready for c in conns)

        what = "every shard" if all_shards else "the bot"
        await self._wait_until(check, timeout, f"{what} to IDENTIFY on the gateway")

    async def wait_for_sync(
        self, names: Iterable[str] = (), *, guild: Any = None, timeout: float = 10.0
    ) -> dict[str, dict[str, Any]]:
        """Waits until the named commands are synced (globally, or to ``guild``)."""
        wanted = set(names)

        def check() -> dict[str, dict[str, Any]] | None:
            if not self.syncs:
                return None
            table = self.commands if guild is None else self.guild_commands.get(guild, {})
            if wanted - set(table):
                return None
            return table

        where = "globally" if guild is None else f"to guild {guild}"
        return await self._wait_until(check, timeout, f"command sync of {sorted(wanted)} {where}")

    async def wait_for_event(
        self, predicate: Callable[[Event], bool], timeout: float = 5.0, *, what: str = "a request"
    ) -> Event:
        """Waits for a recorded request/op matching ``predicate`` (already recorded ones count)."""
        return await self._wait_until(
            lambda: next((ev for ev in self.events if predicate(ev)), None), timeout, what
        )

    async def wait_for_request(self, method: str, path_regex: str, timeout: float = 5.0) -> Event:
        """Waits for an HTTP request whose path (after /api/v10) matches ``path_regex``."""
        pattern = re.compile(path_regex)

        def pred(ev: Event) -> bool:
            return (
                ev.kind == "http"
                and ev.method == method.upper()
                and bool(pattern.search(ev.path.removeprefix("/api/v10")))
            )

        return await self.wait_for_event(pred, timeout, what=f"{method} {path_regex}")

    async def wait_for_message(
        self,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
        timeout: float = 5.0,
        *,
        from_bot: bool = True,
    ) -> dict[str, Any]:
        """Waits for a (current, possibly edited) message satisfying ``predicate``."""

        def check() -> dict[str, Any] | None:
            for msg in list(self.messages.values()):
                if from_bot and msg["author"]["id"] != str(self.bot_user_id):
                    continue
                if predicate is None or predicate(msg):
                    return msg
            return None

        return await self._wait_until(check, timeout, "a message matching the predicate")

    async def wait_for_reply(self, to: dict[str, Any], timeout: float = 5.0) -> dict[str, Any]:
        """Waits for a bot message in the same channel posted after the message ``to``."""
        after = int(to["id"])
        return await self.wait_for_message(
            lambda m: m["channel_id"] == to["channel_id"] and int(m["id"]) > after,
            timeout,
        )

    async def wait_for_callback(self, interaction: Interaction, timeout: float = 5.0) -> Callback:
        """Waits for the first interaction callback the bot sends (accepted or not)."""
        return await self._wait_until(
            lambda: interaction.callbacks[0] if interaction.callbacks else None,
            timeout,
            f"a callback to interaction {interaction.name!r}",
        )

    async def wait_for_final(
        self,
        interaction: Interaction,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
        timeout: float = 10.0,
    ) -> dict[str, Any]:
        """Waits until the interaction's original response satisfies ``predicate``.

        The default predicate accepts the first original response that is not in the
        "thinking" (loading) state.  Returns the current message dict.
        """

        def check() -> dict[str, Any] | None:
            mid = interaction.original_message_id
            msg = self.messages.get(mid) if mid else None
            if msg is None:
                return None
            if predicate is None:
                return None if msg.get("flags", 0) & FLAG_LOADING else msg
            return msg if predicate(msg) else None

        return await self._wait_until(
            check, timeout, f"the final response to interaction {interaction.name!r}"
        )

    async def wait_for_violation(self, needle: str = "", timeout: float = 5.0) -> str:
        """Waits for a violation containing ``needle`` (for tests of the checks themselves)."""
        return await self._wait_until(
            lambda: next((v for v in self.violations if needle in v), None),
            timeout,
            f"a violation containing {needle!r}",
        )

    def problems(self, *, unknown_routes: bool = True) -> list[str]:
        """Everything a clean end-to-end run must not have, as readable lines.

        Violations, 429 answers, unknown routes (unless ``unknown_routes=False``),
        interactions never answered within the deadline, and "thinking" responses that
        were never completed.  Call it once the scenario is over.
        """
        out = list(self.violations)
        out += [f"429 on {r['method']} {r['path']}" for r in self.rate_limited]
        if unknown_routes:
            out += [f"unknown route {u['method']} {u['path']}" for u in self.unknown_routes]
        now = self._now()
        for rec in self.interactions:
            if rec.late or rec.acknowledged:
                original = self.messages.get(rec.original_message_id or "")
                if original is not None and original.get("flags", 0) & FLAG_LOADING:
                    out.append(f"interaction {rec.name!r}: deferred but never completed")
            elif now - rec.dispatched_at > self.ack_deadline_s:
                out.append(f"interaction {rec.name!r}: never answered")
        return out

    def assert_clean(self, *, unknown_routes: bool = True) -> None:
        """Raises AssertionError listing :meth:`problems`, if any."""
        found = self.problems(unknown_routes=unknown_routes)
        if found:
            raise AssertionError("fake Discord saw problems:\n  " + "\n  ".join(found))

    def message_versions(self, message_id: Any) -> list[dict[str, Any]]:
        """Every version of a message: as created, then after each edit."""
        return list(self.message_history.get(message_id, []))

    # ================================================================ user actions

    def _interaction_base(
        self,
        itype: int,
        user: dict[str, Any],
        *,
        guild: bool,
        channel_id: Any,
        data: dict[str, Any],
        message: dict[str, Any] | None = None,
        locale: str = "en-US",
    ) -> dict[str, Any]:
        iid = self._snowflake()
        payload: dict[str, Any] = {
            "id": iid,
            "application_id": str(self.app_id),
            "type": itype,
            "data": data,
            "token": "fake-interaction-" + secrets.token_urlsafe(32),
            "version": 1,
            "locale": locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
            "app_permissions": str(self._permissions(self.bot_user_id)),
        }
        if guild:
            cid = str(channel_id or self.channel_id)
            if cid not in self.channels:
                raise AssertionError(f"unknown guild channel {cid}")
            gid = self.channels[cid]["guild_id"]
            member = self._member_payload(user["id"])
            if member is None:
                raise AssertionError(f"user {user['username']} is not a member of the guild")
            member["permissions"] = str(self._permissions(user["id"]))
            payload.update(
                {
                    "guild_id": gid,
                    "guild": {"id": gid, "locale": "en-US", "features": []},
                    "guild_locale": "en-US",
                    "channel_id": cid,
                    "channel": dict(self.channels[cid], permissions=member["permissions"]),
                    "member": member,
                    "context": 0,
                    "authorizing_integration_owners": {"0": gid},
                }
            )
        else:
            channel = self._dm_channel(user)
            payload.update(
                {
                    "channel_id": channel["id"],
                    "channel": copy.deepcopy(channel),
                    "user": user,
                    "context": 1,
                    "authorizing_integration_owners": {"0": str(self.guild_id)},
                }
            )
        if message is not None:
            payload["message"] = copy.deepcopy(message)
        return payload

    async def _dispatch_interaction(self, payload: dict[str, Any], name: str) -> Interaction:
        record = Interaction(
            id=payload["id"],
            token=payload["token"],
            type=payload["type"],
            payload=payload,
            dispatched_at=0.0,
            channel_id=payload["channel_id"],
            guild_id=payload.get("guild_id"),
            user_id=(payload.get("member") or payload)["user"]["id"],
            name=name,
        )
        if "message" in payload:
            record.component_message_id = payload["message"]["id"]
        self.interactions.append(record)
        self._by_token[record.token] = record
        self._by_interaction_id[record.id] = record
        session = self._session_for(record.guild_id)
        if session is None:
            shard = self._shard_for(record.guild_id)
            raise AssertionError(f"the bot is not connected to the fake gateway (shard {shard})")
        record.shard, record.session_id = session.shard[0], session.id
        record.dispatched_at = self._now()
        await self._send_dispatch(session, "INTERACTION_CREATE", payload)
        record.dispatched_at = self._now()
        return record

    def _find_command(
        self, name: str, guild: bool, ctype: int = 1, channel_id: Any = None
    ) -> dict[str, Any]:
        if guild:
            channel = self.channels.get(channel_id or self.channel_id)
            gid = channel["guild_id"] if channel else self.guild_id
            gcmds = self.guild_commands.get(gid, {})
            for cmd in gcmds.values():
                if cmd["name"] == name and cmd.get("type", 1) == ctype:
                    return cmd
        for cmd in self.commands.values():
            if cmd["name"] == name and cmd.get("type", 1) == ctype:
                if not guild and (
                    cmd.get("dm_permission") is False
                    or (cmd.get("contexts") is not None and 1 not in cmd["contexts"])
                ):
                    raise AssertionError(f"command {name!r} is not available in DMs")
                return cmd
        synced = sorted(self.commands) + [
            f"{n} (guild {g})" for g, cmds in self.guild_commands.items() for n in cmds
        ]
        where = "in the guild" if guild else "in DMs (only global commands work there)"
        raise AssertionError(
            f"command {name!r} is not synced {where}; synced commands: {synced or 'none'}"
        )

    def _coerce_option(
        self, opt: dict[str, Any], value: Any, resolved: dict[str, Any], guild: bool
    ) -> Any:
        otype = opt.get("type")
        name = opt["name"]
        if otype == OPT_STRING:
            if not isinstance(value, str):
                raise AssertionError(f"option {name!r} is a string option, got {value!r}")
            if "min_length" in opt and len(value) < opt["min_length"]:
                raise AssertionError(f"option {name!r} is shorter than {opt['min_length']}")
            if "max_length" in opt and len(value) > opt["max_length"]:
                raise AssertionError(f"option {name!r} is longer than {opt['max_length']}")
        elif otype == OPT_INTEGER:
            if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
                value = int(value)
            if isinstance(value, bool) or not isinstance(value, int):
                raise AssertionError(f"option {name!r} is an integer option, got {value!r}")
        elif otype == OPT_NUMBER:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise AssertionError(f"option {name!r} is a number option, got {value!r}")
        elif otype == OPT_BOOLEAN:
            if not isinstance(value, bool):
                raise AssertionError(f"option {name!r} is a boolean option, got {value!r}")
        elif otype in (OPT_USER, OPT_MENTIONABLE) and not (
            otype == OPT_MENTIONABLE and str(value) in self.roles
        ):
            user = self._resolve_user(value)
            value = user["id"]
            resolved.setdefault("users", {})[value] = user
            member = self._member_payload(value, with_user=False)
            if guild and member is not None:
                member["permissions"] = str(self._permissions(value))
                resolved.setdefault("members", {})[value] = member
        elif otype in (OPT_ROLE, OPT_MENTIONABLE):
            role = self.roles.get(value) or next(
                (r for r in self.roles.values() if r["name"] == value), None
            )
            if role is None:
                raise AssertionError(f"option {name!r}: unknown role {value!r}")
            value = role["id"]
            resolved.setdefault("roles", {})[value] = role
        elif otype == OPT_CHANNEL:
            channel = self.channels.get(value) or next(
                (c for c in self.channels.values() if c["name"] == value), None
            )
            if channel is None:
                raise AssertionError(f"option {name!r}: unknown channel {value!r}")
            value = channel["id"]
            resolved.setdefault("channels", {})[value] = {
                k: channel[k] for k in ("id", "name", "type", "parent_id", "flags")
            } | {"permissions": str(P_ALL)}
        else:
            raise AssertionError(f"option {name!r}: option type {otype} is not supported")
        if otype in (OPT_INTEGER, OPT_NUMBER):
            if "min_value" in opt and value < opt["min_value"]:
                raise AssertionError(f"option {name!r} is below {opt['min_value']}")
            if "max_value" in opt and value > opt["max_value"]:
                raise AssertionError(f"option {name!r} is above {opt['max_value']}")
        if opt.get("choices"):
            allowed = [c["value"] for c in opt["choices"]]
            if value not in allowed:
                raise AssertionError(f"option {name!r} must be one of {allowed}, got {value!r}")
        return value

    def _build_command_data(
        self,
        cmd: dict[str, Any],
        subcommand: str | None,
        options: dict[str, Any] | None,
        guild: bool,
        focused: str | None = None,
    ) -> dict[str, Any]:
        options = dict(options or {})
        path = subcommand.split() if subcommand else []
        level = cmd.get("options") or []
        chain: list[dict[str, Any]] = []
        for part in path:
            found = next(
                (
                    o
                    for o in level
                    if o["name"] == part and o["type"] in (OPT_SUB_COMMAND, OPT_SUB_COMMAND_GROUP)
                ),
                None,
            )
            if found is None:
                subs = [o["name"] for o in level if o["type"] in (1, 2)]
                raise AssertionError(
                    f"/{cmd['name']} has no subcommand {part!r} here; available: {subs}"
                )
            chain.append(found)
            level = found.get("options") or []
        subs_left = [o["name"] for o in level if o["type"] in (OPT_SUB_COMMAND, 2)]
        if subs_left:
            raise AssertionError(
                f"/{cmd['name']} {' '.join(path)} needs a subcommand: pass subcommand= one of "
                f"{subs_left}"
            )
        resolved: dict[str, Any] = {}
        leaf: list[dict[str, Any]] = []
        definitions = {o["name"]: o for o in level}
        for key, value in options.items():
            opt = definitions.get(key)
            if opt is None:
                raise AssertionError(
                    f"/{cmd['name']} {' '.join(path)} has no option {key!r}; "
                    f"options: {sorted(definitions)}"
                )
            entry: dict[str, Any] = {"name": key, "type": opt["type"]}
            if key == focused:
                if not opt.get("autocomplete"):
                    raise AssertionError(f"option {key!r} does not have autocomplete enabled")
                entry["value"] = value if opt["type"] != OPT_STRING else str(value)
                entry["focused"] = True
            else:
                entry["value"] = self._coerce_option(opt, value, resolved, guild)
            leaf.append(entry)
        if focused is None:
            missing = [o["name"] for o in level if o.get("required") and o["name"] not in options]
            if missing:
                raise AssertionError(f"/{cmd['name']}: missing required options {missing}")
        elif focused not in options:
            raise AssertionError(f"focused option {focused!r} needs a value in options")
        nested: list[dict[str, Any]] = leaf
        for sub in reversed(chain):
            nested = [{"name": sub["name"], "type": sub["type"], "options": nested}]
        data: dict[str, Any] = {
            "id": cmd["id"],
            "name": cmd["name"],
            "type": cmd.get("type", 1),
            "options": nested,
        }
        if cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        if resolved:
            data["resolved"] = resolved
        return data

    async def slash_command(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        user: Any = None,
        subcommand: str | None = None,
        guild: bool = True,
        channel_id: Any = None,
        *,
        locale: str = "en-US",
    ) -> Interaction:
        """Dispatches an INTERACTION_CREATE (type 2) for a synced slash command.

        ``options`` maps option names to values (strings, ints, floats, bools; users by
        id/username, roles and channels by id/name).  ``subcommand`` is ``"sub"`` or
        ``"group sub"``.  ``guild=False`` invokes it in the user's DM with the bot.
        Returns the :class:`Interaction` record right after dispatch.
        """
        await self.wait_ready()
        u = self._resolve_user(user)
        cmd = self._find_command(name, guild, channel_id=channel_id)
        data = self._build_command_data(cmd, subcommand, options, guild)
        payload = self._interaction_base(
            IT_APPLICATION_COMMAND, u, guild=guild, channel_id=channel_id, data=data, locale=locale
        )
        full_name = f"{name} {subcommand}" if subcommand else name
        return await self._dispatch_interaction(payload, full_name)

    async def autocomplete(
        self,
        name: str,
        option_name: str,
        value: Any,
        options: dict[str, Any] | None = None,
        user: Any = None,
        subcommand: str | None = None,
        guild: bool = True,
        channel_id: Any = None,
        *,
        timeout: float = 5.0,
    ) -> list[dict[str, Any]]:
        """Dispatches an autocomplete interaction (type 4) and returns the bot's choices."""
        await self.wait_ready()
        u = self._resolve_user(user)
        cmd = self._find_command(name, guild, channel_id=channel_id)
        opts = dict(options or {})
        opts[option_name] = value
        data = self._build_command_data(cmd, subcommand, opts, guild, focused=option_name)
        payload = self._interaction_base(
            IT_AUTOCOMPLETE, u, guild=guild, channel_id=channel_id, data=data
        )
        record = await self._dispatch_interaction(payload, f"{name} (autocomplete {option_name})")
        await self._wait_until(
            lambda: record.response is not None or record.late,
            timeout,
            f"autocomplete choices for /{name} {option_name}",
        )
        if record.response is None or record.choices is None:
            raise AssertionError(
                f"autocomplete for /{name} was not answered correctly: {record.callbacks}"
            )
        return record.choices

    def _find_component(self, message: dict[str, Any], custom_id: str) -> dict[str, Any]:
        for comp in _walk_components(message.get("components") or []):
            if comp.get("custom_id") == custom_id:
                return comp
        ids = [c.get("custom_id") for c in _walk_components(message.get("components") or [])]
        raise AssertionError(
            f"message {message['id']} has no component {custom_id!r}; custom_ids: "
            f"{[i for i in ids if i]}"
        )

    async def _component_interaction(
        self, message_id: Any, custom_id: str, user: Any, data_extra: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        await self.wait_ready()
        message = self.messages.get(message_id)
        if message is None:
            raise AssertionError(f"unknown (or deleted) message {message_id}")
        age = self._now() - self._message_changed_at.get(message["id"], 0.0)
        if age < self.click_delay_s:
            await asyncio.sleep(self.click_delay_s - age)
            message = self.messages.get(message_id)
            if message is None:
                raise AssertionError(f"message {message_id} was deleted")
        comp = self._find_component(message, custom_id)
        if comp.get("disabled"):
            raise AssertionError(f"component {custom_id!r} is disabled; a user cannot use it")
        u = self._resolve_user(user)
        if message.get("flags", 0) & FLAG_EPHEMERAL:
            owner = (message.get("interaction_metadata") or {}).get("user", {}).get("id")
            if owner and owner != u["id"]:
                raise AssertionError("only the invoking user can see this ephemeral message")
        data = {"custom_id": custom_id, "component_type": comp["type"], **data_extra}
        if comp.get("id") is not None:
            data["id"] = comp["id"]
        payload = self._interaction_base(
            IT_COMPONENT,
            u,
            guild=message.get("guild_id") is not None,
            channel_id=message["channel_id"],
            data=data,
            message=message,
        )
        return payload, comp, u

    async def press_button(self, message_id: Any, custom_id: str, user: Any = None) -> Interaction:
        """Clicks a button (interaction type 3) on a stored message; returns the record."""
        payload, comp, _ = await self._component_interaction(message_id, custom_id, user, {})
        if comp["type"] != 2:
            raise AssertionError(f"component {custom_id!r} is not a button (type {comp['type']})")
        return await self._dispatch_interaction(payload, custom_id)

    async def select(
        self, message_id: Any, custom_id: str, values: list[str], user: Any = None
    ) -> Interaction:
        """Chooses ``values`` in a select menu on a stored message; returns the record."""
        payload, comp, _ = await self._component_interaction(
            message_id, custom_id, user, {"values": list(values)}
        )
        if comp["type"] not in (3, 5, 6, 7, 8):
            raise AssertionError(f"component {custom_id!r} is not a select menu")
        lo, hi = comp.get("min_values", 1), comp.get("max_values", 1)
        if not lo <= len(values) <= hi:
            raise AssertionError(f"select {custom_id!r} takes {lo}..{hi} values, got {values}")
        if comp["type"] == 3:
            offered = [o["value"] for o in comp.get("options", [])]
            if set(values) - set(offered):
                raise AssertionError(f"select {custom_id!r} offers {offered}, got {values}")
        return await self._dispatch_interaction(payload, custom_id)

    async def submit_modal(
        self, interaction: Interaction, values: dict[str, str], user: Any = None
    ) -> Interaction:
        """Submits the modal the bot opened in answer to ``interaction`` (type 5)."""
        modal = interaction.modal
        if modal is None:
            raise AssertionError(f"the bot did not open a modal for {interaction.name!r}")
        opened = interaction.response
        if opened is not None and self._now() - opened.time < self.click_delay_s:
            await asyncio.sleep(self.click_delay_s - (self._now() - opened.time))
        u = self._resolve_user(user or interaction.user_id)
        inputs = {}
        rows: list[dict[str, Any]] = []
        for top in modal.get("components", []):
            if top.get("type") == 1:
                inner = []
                for comp in top.get("components", []):
                    if comp.get("type") == 4:
                        inputs[comp["custom_id"]] = comp
                        inner.append(
                            {
                                "type": 4,
                                "id": comp.get("id"),
                                "custom_id": comp["custom_id"],
                                "value": values.get(comp["custom_id"], ""),
                            }
                        )
                rows.append({"type": 1, "id": top.get("id"), "components": inner})
            elif top.get("type") == 18 and isinstance(top.get("component"), dict):
                comp = top["component"]
                if comp.get("type") == 4:
                    inputs[comp["custom_id"]] = comp
                    sub = {
                        "type": 4,
                        "id": comp.get("id"),
                        "custom_id": comp["custom_id"],
                        "value": values.get(comp["custom_id"], ""),
                    }
                    rows.append({"type": 18, "id": top.get("id"), "component": sub})
        unknown = set(values) - set(inputs)
        if unknown:
            raise AssertionError(f"modal has no text inputs {sorted(unknown)}; has {list(inputs)}")
        for cid, comp in inputs.items():
            value = values.get(cid, "")
            if comp.get("required", True) and not value:
                raise AssertionError(f"modal text input {cid!r} is required")
            if len(value) > comp.get("max_length", 4000):
                raise AssertionError(f"modal text input {cid!r} is too long")
        data = {"custom_id": modal["custom_id"], "components": rows}
        message = None
        if interaction.component_message_id:
            message = self.messages.get(interaction.component_message_id)
        payload = self._interaction_base(
            IT_MODAL_SUBMIT,
            u,
            guild=interaction.guild_id is not None,
            channel_id=interaction.channel_id,
            data=data,
            message=message,
        )
        record = await self._dispatch_interaction(payload, modal["custom_id"])
        record.component_message_id = interaction.component_message_id
        return record

    async def user_message(
        self,
        content: str,
        user: Any = None,
        mention_bot: bool = False,
        channel_id: Any = None,
        dm: bool = False,
        reference_message_id: Any = None,
        *,
        mention_everyone: bool = False,
    ) -> dict[str, Any]:
        """A user posts a message; dispatches MESSAGE_CREATE and returns the message dict.

        ``mention_bot`` prefixes ``<@bot>`` and lists the bot in ``mentions``; a reply
        (``reference_message_id``) also mentions the replied-to author, as Discord does.
        ``dm=True`` posts in the user's DM channel with the bot (no ``guild_id``).  The
        message reaches the bot only if its intents allow it (else it is noted in
        :attr:`undelivered`); without the message-content intent, guild messages that do
        not mention the bot arrive with empty content, like on Discord.
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
            member = self._member_payload(uid, with_user=False)
            if guild_id and member is not None:
                mention["member"] = member
            mentions.append(mention)
        message = {
            "id": self._snowflake(),
            "channel_id": channel["id"],
            "author": u,
            "content": content,
            "timestamp": _iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": mention_everyone or ("@everyone" in content or "@here" in content),
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
        needed = INTENT_GUILD_MESSAGES if guild_id else INTENT_DIRECT_MESSAGES
        if not session.intents & needed:
            which = "guild_messages" if guild_id else "dm_messages"
            self.undelivered.append(
                f"message {message['id']} not dispatched: the bot's intents lack {which}"
            )
            self._notify()
            return
        data = copy.deepcopy(message)
        mentions_bot = any(m["id"] == str(self.bot_user_id) for m in message["mentions"])
        if guild_id and not session.intents & INTENT_MESSAGE_CONTENT and not mentions_bot:
            data.update(content="", embeds=[], attachments=[], components=[])
            self.undelivered.append(
                f"message {message['id']} dispatched with empty content: the bot's intents "
                "lack message_content"
            )
        await self._send_dispatch(session, "MESSAGE_CREATE", data)

    # ================================================================ messages

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

    def _check_message_payload(
        self,
        payload: dict[str, Any],
        where: str,
        *,
        creating: bool,
        files: list[dict[str, Any]] | None = None,
        existing: dict[str, Any] | None = None,
    ) -> None:
        """Validates limits and mention safety; raises a 400 (code 50035/50006) on errors."""
        problems: list[tuple[str, str, str]] = []

        def bad(path: str, code: str, message: str) -> None:
            problems.append((path, code, message))

        def max_len(path: str, value: Any, limit: int) -> None:
            if isinstance(value, str) and len(value) > limit:
                bad(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

        content = payload.get("content")
        if content is not None and not isinstance(content, str):
            bad("content", "BASE_TYPE_STRING", "Could not interpret value as string.")
        max_len("content", content, 2000)
        flags = payload.get("flags")
        if flags is None and existing is not None:
            flags = existing.get("flags", 0)
        v2 = bool((flags or 0) & FLAG_COMPONENTS_V2)

        embeds = payload.get("embeds")
        if embeds is not None:
            if len(embeds) > 10:
                bad("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
            total = 0
            for i, embed in enumerate(embeds):
                p = f"embeds.{i}"
                for key, limit in (("title", 256), ("description", 4096)):
                    max_len(f"{p}.{key}", embed.get(key), limit)
                    total += len(embed.get(key) or "")
                fields = embed.get("fields") or []
                if len(fields) > 25:
                    bad(f"{p}.fields", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
                for j, fld in enumerate(fields):
                    max_len(f"{p}.fields.{j}.name", fld.get("name"), 256)
                    max_len(f"{p}.fields.{j}.value", fld.get("value"), 1024)
                    if not fld.get("name") or not fld.get("value"):
                        bad(f"{p}.fields.{j}", "BASE_TYPE_REQUIRED", "This field is required")
                    total += len(fld.get("name") or "") + len(fld.get("value") or "")
                footer = (embed.get("footer") or {}).get("text")
                author = (embed.get("author") or {}).get("name")
                max_len(f"{p}.footer.text", footer, 2048)
                max_len(f"{p}.author.name", author, 256)
                total += len(footer or "") + len(author or "")
            if total > 6000:
                bad(
                    "embeds",
                    "MAX_EMBED_SIZE_EXCEEDED",
                    f"Embed size exceeds maximum size of 6000 ({total} characters)",
                )

        components = payload.get("components")
        if components is not None:
            self._check_components(components, v2, bad)
            if v2 and (payload.get("content") or payload.get("embeds")):
                bad(
                    "content",
                    "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
                    "The 'content' and 'embeds' fields cannot be used with components v2",
                )

        for i, f in enumerate(files or []):
            if f["size"] > ATTACHMENT_SIZE_LIMIT:
                raise _ApiError(413, 40005, "Request entity too large")
            if not f["filename"]:
                bad(f"files.{i}", "BASE_TYPE_REQUIRED", "File name is required")

        if problems:
            for path, _code, message in problems:
                detail = self._describe(payload, path)
                self._violation(f"{where}: {path}: {message}{detail}")
            raise _ApiError(400, 50035, "Invalid Form Body", _errors_tree(problems))

        # empty message check (the resulting message must show something)
        merged = dict(existing or {})
        for key in ("content", "embeds", "components", "attachments"):
            if key in payload:
                merged[key] = payload[key]
        has_files = bool(files) or bool(merged.get("attachments"))
        loading = existing is not None and existing.get("flags", 0) & FLAG_LOADING
        if not (
            merged.get("content")
            or merged.get("embeds")
            or merged.get("components")
            or has_files
            or payload.get("poll")
            or payload.get("sticker_ids")
        ) and (creating or "content" in payload or loading):
            self._violation(f"{where}: empty message (no content, embeds, components or files)")
            raise _ApiError(400, 50006, "Cannot send an empty message")

        self._check_mentions(payload, where)

    @staticmethod
    def _describe(payload: dict[str, Any], path: str) -> str:
        node: Any = payload
        for part in path.split("."):
            if isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            elif isinstance(node, dict) and part in node:
                node = node[part]
            else:
                return ""
        if isinstance(node, str):
            return f" (length {len(node)})"
        if isinstance(node, list) and path != "embeds":
            return f" ({len(node)} items)"
        return ""

    @staticmethod
    def _check_components(
        components: list[dict[str, Any]], v2: bool, bad: Callable[[str, str, str], None]
    ) -> None:
        seen_ids: set[str] = set()
        if not v2:
            if len(components) > 5:
                bad("components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
            for i, row in enumerate(components):
                if row.get("type") != 1:
                    bad(
                        f"components.{i}.type",
                        "BASE_TYPE_CHOICES",
                        "Top-level components must be action rows (type 1).",
                    )
                    continue
                children = row.get("components") or []
                if not children:
                    bad(
                        f"components.{i}.components",
                        "BASE_TYPE_MIN_LENGTH",
                        "Must be 1 or more in length.",
                    )
                if len(children) > 5:
                    bad(
                        f"components.{i}.components",
                        "BASE_TYPE_MAX_LENGTH",
                        "Must be 5 or fewer in length.",
                    )
                if any(c.get("type") in (3, 5, 6, 7, 8) for c in children) and len(children) > 1:
                    bad(
                        f"components.{i}.components",
                        "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                        "A select menu must be alone in its action row.",
                    )
        else:
            total = sum(1 for _ in _walk_components(components))
            if total > 40:
                bad("components", "BASE_TYPE_MAX_LENGTH", "Must be 40 or fewer in total.")
        for comp in _walk_components(components):
            ctype = comp.get("type")
            cid = comp.get("custom_id")
            if isinstance(cid, str):
                if len(cid) > 100:
                    bad(
                        "components.custom_id",
                        "BASE_TYPE_MAX_LENGTH",
                        f"custom_id {cid[:20]!r}... must be 100 or fewer in length.",
                    )
                if cid in seen_ids:
                    bad(
                        "components.custom_id",
                        "COMPONENT_CUSTOM_ID_DUPLICATED",
                        f"Component custom id {cid!r} cannot be duplicated",
                    )
                seen_ids.add(cid)
            if ctype == 2:
                label = comp.get("label")
                if isinstance(label, str) and len(label) > 80:
                    bad(
                        "components.label",
                        "BASE_TYPE_MAX_LENGTH",
                        f"Button label of length {len(label)} must be 80 or fewer in length.",
                    )
                style = comp.get("style")
                if style == 5 and not comp.get("url"):
                    bad("components.url", "BASE_TYPE_REQUIRED", "Link buttons need a url.")
                if style not in (5, 6) and not cid:
                    bad("components.custom_id", "BASE_TYPE_REQUIRED", "Buttons need a custom_id.")
                if not label and not comp.get("emoji") and style != 6:
                    bad(
                        "components.label",
                        "BASE_TYPE_REQUIRED",
                        "Buttons need a label or an emoji.",
                    )
            elif ctype == 3:
                options = comp.get("options") or []
                if not 1 <= len(options) <= 25:
                    bad(
                        "components.options",
                        "BASE_TYPE_BAD_LENGTH",
                        "Select menus need 1 to 25 options.",
                    )
                for opt in options:
                    for key in ("label", "value", "description"):
                        value = opt.get(key)
                        if isinstance(value, str) and len(value) > 100:
                            bad(
                                f"components.options.{key}",
                                "BASE_TYPE_MAX_LENGTH",
                                "Must be 100 or fewer in length.",
                            )
            if ctype in (3, 5, 6, 7, 8):
                placeholder = comp.get("placeholder")
                if isinstance(placeholder, str) and len(placeholder) > 150:
                    bad(
                        "components.placeholder",
                        "BASE_TYPE_MAX_LENGTH",
                        "Must be 150 or fewer in length.",
                    )
            if ctype == 4:
                bad(
                    "components.type",
                    "COMPONENT_TYPE_INVALID",
                    "Text inputs are only valid in modals.",
                )

    def _check_mentions(self, payload: dict[str, Any], where: str) -> None:
        allowed = payload.get("allowed_mentions")
        content = payload.get("content")
        self.allowed_mentions.append(
            {"where": where, "allowed_mentions": copy.deepcopy(allowed), "content": content}
        )
        if not isinstance(content, str) or not content:
            return
        if allowed is None:
            parse = {"everyone", "users", "roles"}  # Discord's default: everything pings
            users: list[str] = []
            roles: list[str] = []
        else:
            parse = set(allowed.get("parse") or [])
            users = [str(u) for u in allowed.get("users") or []]
            roles = [str(r) for r in allowed.get("roles") or []]
        described = "absent" if allowed is None else json.dumps(allowed)
        if ("@everyone" in content or "@here" in content) and "everyone" in parse:
            self._violation(
                f"{where}: content contains @everyone/@here and allowed_mentions ({described}) "
                "lets it ping"
            )
        for rid in ROLE_MENTION_RE.findall(content):
            if "roles" in parse or rid in roles:
                self._violation(
                    f"{where}: content mentions role <@&{rid}> and allowed_mentions "
                    f"({described}) lets it ping"
                )
        for uid in USER_MENTION_RE.findall(content):
            if "users" in parse or uid in users:
                self._violation(
                    f"{where}: content mentions user <@{uid}> and allowed_mentions "
                    f"({described}) lets it ping"
                )

    def _attachments_from_files(self, files: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for f in files:
            aid = self._snowflake()
            self.attachments[aid] = f["data"]
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
        new_attachments = self._attachments_from_files(files)
        if "attachments" in payload and payload["attachments"] is not None:
            keep = {str(a.get("id")) for a in payload["attachments"]}
            message["attachments"] = [a for a in message["attachments"] if a["id"] in keep]
        message["attachments"] = list(message["attachments"]) + new_attachments
        if payload.get("flags") is not None:
            keep_flags = message.get("flags", 0) & ~SETTABLE_FLAGS & ~FLAG_LOADING
            message["flags"] = keep_flags | (int(payload["flags"]) & SETTABLE_FLAGS)
        message["flags"] = message.get("flags", 0) & ~FLAG_LOADING
        message["edited_timestamp"] = _iso()
        self._record_edit(message)
        return message

    # ================================================================ HTTP plumbing

    def _json(
        self, data: Any, status: int = 200, headers: dict[str, str] | None = None
    ) -> web.Response:
        # content_type must be exactly application/json (no charset) for discord.py.
        return web.Response(
            body=json.dumps(data).encode(),
            status=status,
            content_type="application/json",
            headers=headers,
        )

    def _error(self, err: _ApiError) -> web.Response:
        body: dict[str, Any] = {"message": err.message, "code": err.code}
        if err.errors:
            body["errors"] = err.errors
        return self._json(body, err.status)

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

    async def _read_body(self, request: web.Request) -> tuple[Any, list[dict[str, Any]]]:
        files: list[dict[str, Any]] = []
        if not request.can_read_body:
            return None, files
        ctype = request.content_type
        if ctype == "multipart/form-data":
            payload = None
            reader = await request.multipart()
            async for raw_part in reader:
                part: Any = raw_part
                if part is None:
                    break
                data = await part.read()
                if part.name == "payload_json":
                    payload = json.loads(data.decode())
                elif part.filename:
                    files.append(
                        {
                            "field": part.name,
                            "filename": part.filename,
                            "size": len(data),
                            "data": bytes(data),
                            "content_type": part.headers.get("Content-Type"),
                        }
                    )
            return payload, files
        raw = await request.read()
        if not raw:
            return None, files
        try:
            return json.loads(raw), files
        except ValueError:
            return raw.decode(errors="replace"), files

    async def _http_handler(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        method = request.method
        body, files = await self._read_body(request)
        event = Event("http", method, path, body, self._now(), query=dict(request.query))
        self.events.append(event)
        try:
            response = await self._route(request, method, path, body, files)
        except _ApiError as err:
            response = self._error(err)
        except AssertionError as err:  # a broken invariant inside the fake: surface it
            self._violation(f"{method} {path}: fake server error: {err}")
            response = self._json({"message": str(err), "code": 0}, 500)
        event.status = response.status
        self._notify()
        return response

    async def _route(
        self,
        request: web.Request,
        method: str,
        path: str,
        body: Any,
        files: list[dict[str, Any]],
    ) -> web.StreamResponse:
        if method == "GET" and path.startswith("/attachments/"):
            parts = path.split("/")
            if len(parts) >= 3 and parts[2] in self.attachments:
                return web.Response(body=self.attachments[parts[2]])
        if not path.startswith("/api/v10/"):
            return self._unknown(method, path, body, hint="path does not start with /api/v10")
        rel = path[len("/api/v10") :]
        for route in self._routes:
            if route.method != method:
                continue
            match = route.regex.match(rel)
            if match is None:
                continue
            params = match.groupdict()
            if route.auth and request.headers.get("Authorization") != f"Bot {self.token}":
                return self._json({"message": "401: Unauthorized", "code": 0}, 401)
            bucket_key = self._bucket_key(route, params)
            if bucket_key is not None:
                limited = self._rate_limit_check(route, bucket_key, method, path)
                if limited is not None:
                    return limited
            try:
                response = await route.handler(request, params, body, files)
            except _ApiError as err:
                response = self._error(err)
            if bucket_key is not None and self.rate_limit_headers:
                response.headers.update(self._rate_limit_headers(route, bucket_key))
            return response
        return self._unknown(method, path, body)

    def _unknown(self, method: str, path: str, body: Any, hint: str = "") -> web.Response:
        self.unknown_routes.append({"method": method, "path": path, "json": body, "hint": hint})
        return self._json({"message": "404: Not Found", "code": 0}, 404)

    # ---------------------------------------------------------------- rate limits

    def _bucket_key(self, route: _Route, params: dict[str, str]) -> tuple[str, str] | None:
        if route.bucket is None:
            return None
        if route.bucket == "message":
            major = params.get("channel_id", "")
        elif route.bucket == "webhook":
            major = f"{params.get('app_id')}+{params.get('token')}"
        else:
            major = ""
        return (f"{route.method} {route.template}", major)

    def _limits_for(self, route: _Route) -> tuple[int, float]:
        if route.bucket in ("message", "webhook"):
            return self.rate_limit
        return (50, 1.0)

    def _rate_limit_check(
        self, route: _Route, key: tuple[str, str], method: str, path: str
    ) -> web.Response | None:
        now = time.monotonic()
        limit, per = self._limits_for(route)
        bucket = self._buckets.get(key)
        if bucket is None or now >= bucket.window_start + per:
            bucket = self._buckets[key] = _Bucket(limit=limit, per=per, window_start=now)
        if bucket.count >= bucket.limit:
            retry_after = round(max(bucket.window_start + per - now, 0.001), 3)
            record = {
                "method": method,
                "path": path,
                "bucket": key[0],
                "major": key[1],
                "retry_after": retry_after,
                "time": self._now(),
            }
            self.rate_limited.append(record)
            self._notify()
            headers = {
                "Via": "1.1 google",
                "Retry-After": str(max(1, round(retry_after))),
                "X-RateLimit-Scope": "user",
                "X-RateLimit-Global": "false",
            }
            if self.rate_limit_headers:
                headers.update(self._rate_limit_headers(route, key))
            return self._json(
                {
                    "message": "You are being rate limited.",
                    "retry_after": retry_after,
                    "global": False,
                },
                429,
                headers,
            )
        bucket.count += 1
        if bucket.count == bucket.limit and route.bucket in ("message", "webhook"):
            self.rate_limit_exhausted.append(
                {"method": method, "path": path, "bucket": key[0], "time": self._now()}
            )
        return None

    def _rate_limit_headers(self, route: _Route, key: tuple[str, str]) -> dict[str, str]:
        bucket = self._buckets[key]
        now = time.monotonic()
        reset_after = max(bucket.window_start + bucket.per - now, 0.0)
        return {
            "X-RateLimit-Limit": str(bucket.limit),
            "X-RateLimit-Remaining": str(max(bucket.limit - bucket.count, 0)),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": hashlib.sha1(key[0].encode()).hexdigest()[:16],
        }

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

    # ---------------------------------------------------------------- commands

    def _check_app(self, params: dict[str, str]) -> None:
        if params.get("app_id") != str(self.app_id):
            raise _ApiError(403, 50001, "Missing Access")

    def _validate_command(self, cmd: dict[str, Any], index: int) -> list[tuple[str, str, str]]:
        problems: list[tuple[str, str, str]] = []
        ctype = cmd.get("type", 1)
        name = cmd.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 32:
            problems.append((f"{index}.name", "BASE_TYPE_BAD_LENGTH", "Must be 1-32 characters"))
        elif ctype == 1 and (not COMMAND_NAME_RE.match(name) or name != name.lower()):
            problems.append((f"{index}.name", "APPLICATION_COMMAND_INVALID_NAME", "Invalid name"))
        description = cmd.get("description", "")
        if ctype == 1 and not 1 <= len(description or "") <= 100:
            problems.append(
                (f"{index}.description", "BASE_TYPE_BAD_LENGTH", "Must be 1-100 characters")
            )

        def walk(options: list[dict[str, Any]], prefix: str) -> None:
            if len(options) > 25:
                problems.append((f"{prefix}.options", "BASE_TYPE_MAX_LENGTH", "Max 25 options"))
            seen_optional = False
            for j, opt in enumerate(options):
                p = f"{prefix}.options.{j}"
                if opt.get("type") in (1, 2):
                    walk(opt.get("options") or [], p)
                    continue
                if opt.get("required"):
                    if seen_optional:
                        problems.append(
                            (
                                p,
                                "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                                "Required options must be placed before non-required options",
                            )
                        )
                else:
                    seen_optional = True
                if len(opt.get("choices") or []) > 25:
                    problems.append((f"{p}.choices", "BASE_TYPE_MAX_LENGTH", "Max 25 choices"))
                if opt.get("choices") and opt.get("autocomplete"):
                    problems.append(
                        (p, "AUTOCOMPLETE_AND_CHOICES", "Autocomplete cannot have choices")
                    )
                if not 1 <= len(opt.get("description") or "") <= 100:
                    problems.append(
                        (f"{p}.description", "BASE_TYPE_BAD_LENGTH", "Must be 1-100 characters")
                    )

        walk(cmd.get("options") or [], str(index))
        return problems

    def _store_commands(
        self, table: dict[str, dict[str, Any]], payload: list[dict[str, Any]], guild_id: Any
    ) -> list[dict[str, Any]]:
        old = {(c["name"], c.get("type", 1)): c for c in table.values()}
        table.clear()
        stored = []
        for cmd in payload:
            stored.append(self._store_one(table, old, cmd, guild_id))
        return stored

    def _store_one(
        self,
        table: dict[str, dict[str, Any]],
        old: dict[tuple[str, int], dict[str, Any]],
        cmd: dict[str, Any],
        guild_id: Any,
    ) -> dict[str, Any]:
        ctype = cmd.get("type", 1)
        previous = old.get((cmd["name"], ctype))
        entry = copy.deepcopy(cmd)
        entry.setdefault("type", 1)
        entry.setdefault("description", "")
        entry.setdefault("options", [])
        entry.setdefault("default_member_permissions", None)
        entry.setdefault("nsfw", False)
        entry["id"] = previous["id"] if previous else self._snowflake()
        entry["application_id"] = str(self.app_id)
        entry["version"] = self._snowflake()
        if guild_id is not None:
            entry["guild_id"] = str(guild_id)
        else:
            entry.setdefault("contexts", None)
            entry.setdefault("integration_types", [0])
        key = entry["name"] if ctype == 1 else f"{entry['name']} (type {ctype})"
        table[key] = entry
        return entry

    def _command_table(self, params: dict[str, str]) -> tuple[dict[str, Any], Any]:
        self._check_app(params)
        guild_id = params.get("guild_id")
        if guild_id is None:
            return self.commands, None
        if guild_id != str(self.guild_id) and guild_id not in self.other_guilds:
            raise _ApiError(403, 50001, "Missing Access")
        return self.guild_commands.setdefault(guild_id, {}), guild_id

    async def _h_put_commands(
        self, request: web.Request, params: dict, body: Any, files: list
    ) -> Any:
        table, guild_id = self._command_table(params)
        if not isinstance(body, list):
            raise _ApiError(400, 50035, "Invalid Form Body")
        if len(body) > 100:
            raise _ApiError(400, 30032, "Maximum number of application commands reached (100)")
        problems = [p for i, cmd in enumerate(body) for p in self._validate_command(cmd, i)]
        if problems:
            for path, _code, message in problems:
                self._violation(f"PUT commands: {path}: {message}")
            raise _ApiError(400, 50035, "Invalid Form Body", _errors_tree(problems))
        stored = self._store_commands(table, body, guild_id)
        self.syncs.append(
            {"time": self._now(), "guild_id": guild_id, "names": [c["name"] for c in stored]}
        )
        return self._json(stored)

    async def _h_get_commands(
        self, request: web.Request, params: dict, body: Any, files: list
    ) -> Any:
        table, _ = self._command_table(params)
        return self._json(list(table.values()))

    async def _h_post_command(
        self, request: web.Request, params: dict, body: Any, files: list
    ) -> Any:
        table, guild_id = self._command_table(params)
        problems = self._validate_command(body or {}, 0)
        if problems:
            raise _ApiError(400, 50035, "Invalid Form Body", _errors_tree(problems))
        old = {(c["name"], c.get("type", 1)): c for c in table.values()}
        entry = self._store_one(table, old, body, guild_id)
        self.syncs.append({"time": self._now(), "guild_id": guild_id, "names": [entry["name"]]})
        return self._json(entry, 201)

    async def _h_delete_command(
        self, request: web.Request, params: dict, body: Any, files: list
    ) -> Any:
        table, _ = self._command_table(params)
        for key, cmd in list(table.items()):
            if cmd["id"] == params["command_id"]:
                del table[key]
                return web.Response(status=204)
        raise _ApiError(404, 10063, "Unknown application command")

    async def _h_command_permissions(
        self, request: web.Request, params: dict, body: Any, files: list
    ) -> Any:
        return self._json([])

    # ---------------------------------------------------------------- interactions

    async def _h_callback(self, request: web.Request, params: dict, body: Any, files: list) -> Any:
        record = self._by_interaction_id.get(params["interaction_id"])
        if record is None or record.token != params["token"]:
            self._violation(f"callback to unknown interaction {params['interaction_id']}")
            raise _ApiError(404, 10062, "Unknown interaction")
        payload = body if isinstance(body, dict) else {}
        ctype = payload.get("type")
        data = payload.get("data")
        now = self._now()
        callback = Callback(type=ctype, data=data, elapsed=now - record.dispatched_at, time=now)
        record.callbacks.append(callback)
        self._notify()
        try:
            response = await self._accept_callback(record, callback, files)
            if request.query.get("with_response", "").lower() not in ("1", "true"):
                return web.Response(status=204)  # Discord answers 204 without with_response
            return response
        except _ApiError as err:
            callback.status = err.status
            callback.error = f"{err.code} {err.message}"
            raise
        finally:
            self._notify()

    async def _accept_callback(
        self, record: Interaction, callback: Callback, files: list[dict[str, Any]]
    ) -> web.Response:
        ctype = callback.type
        data = callback.data if isinstance(callback.data, dict) else {}
        label = f"interaction {record.name!r}"
        if any(cb.accepted for cb in record.callbacks[:-1]):
            self._violation(
                f"{label}: second callback ({CB_NAMES.get(ctype, ctype)}) after it was already "
                "acknowledged"
            )
            raise _ApiError(400, 40060, "Interaction has already been acknowledged.")
        if callback.elapsed > self.ack_deadline_s:
            record.late = True
            self._violation(
                f"{label}: first response after {callback.elapsed:.2f}s, past the "
                f"{self.ack_deadline_s:.0f}-second deadline"
            )
            raise _ApiError(404, 10062, "Unknown interaction")
        if ctype not in CB_ALLOWED.get(record.type, set()):
            self._violation(
                f"{label}: callback type {ctype} ({CB_NAMES.get(ctype, '?')}) is not valid for "
                f"interaction type {record.type}"
            )
            raise _ApiError(400, 50035, "Invalid Form Body", {"type": {"_errors": []}})
        where = f"{label} callback {CB_NAMES.get(ctype)}"
        is_command = record.type == IT_APPLICATION_COMMAND
        message: dict[str, Any] | None = None
        response_message_id: str | None = None
        guild_id = record.guild_id
        if ctype == 4:
            self._check_message_payload(data, where, creating=True, files=files)
            message = self._bot_message(
                data,
                channel_id=record.channel_id,
                guild_id=guild_id,
                files=files,
                msg_type=20 if is_command else 0,
                interaction=record,
            )
            self._store_message(message)
            record.original_message_id = message["id"]
            await self._echo("MESSAGE_CREATE", message)
        elif ctype == 5:
            message = self._bot_message(
                {"content": "", "flags": data.get("flags", 0)},
                channel_id=record.channel_id,
                guild_id=guild_id,
                msg_type=20 if is_command else 0,
                flags=FLAG_LOADING,
                interaction=record,
            )
            self._store_message(message)
            record.original_message_id = message["id"]
            await self._echo("MESSAGE_CREATE", message)
        elif ctype in (6, 7):
            if record.component_message_id is None:
                self._violation(f"{where}: there is no message to update (not from a component)")
                raise _ApiError(400, 50035, "Invalid Form Body", {"type": {"_errors": []}})
            target = self.messages.get(record.component_message_id)
            if target is None:
                self._violation(f"{where}: the component's message no longer exists")
                raise _ApiError(404, 10008, "Unknown Message")
            if ctype == 7:
                self._check_message_payload(data, where, creating=False, existing=target)
                self._apply_edit(target, data, files)
                await self._echo("MESSAGE_UPDATE", target)
                message = target
            record.original_message_id = target["id"]
            response_message_id = target["id"]
        elif ctype == 8:
            choices = data.get("choices")
            problems = []
            if not isinstance(choices, list) or len(choices) > 25:
                problems.append(("data.choices", "BASE_TYPE_MAX_LENGTH", "1-25 choices"))
            for i, choice in enumerate(choices or []):
                name = choice.get("name")
                if not isinstance(name, str) or not 1 <= len(name) <= 100:
                    problems.append(
                        (f"data.choices.{i}.name", "BASE_TYPE_BAD_LENGTH", "Must be 1-100 long")
                    )
                value = choice.get("value")
                if isinstance(value, str) and len(value) > 100:
                    problems.append(
                        (f"data.choices.{i}.value", "BASE_TYPE_MAX_LENGTH", "Must be <= 100")
                    )
            if problems:
                for path, _c, msg in problems:
                    self._violation(f"{where}: {path}: {msg}")
                raise _ApiError(400, 50035, "Invalid Form Body", _errors_tree(problems))
            record.choices = choices
        elif ctype == 9:
            problems = []
            if len(data.get("title") or "") > 45 or not data.get("title"):
                problems.append(("data.title", "BASE_TYPE_BAD_LENGTH", "Must be 1-45 long"))
            if len(data.get("custom_id") or "") > 100 or not data.get("custom_id"):
                problems.append(("data.custom_id", "BASE_TYPE_BAD_LENGTH", "Must be 1-100 long"))
            if not 1 <= len(data.get("components") or []) <= 5:
                problems.append(("data.components", "BASE_TYPE_BAD_LENGTH", "1-5 components"))
            if problems:
                for path, _c, msg in problems:
                    self._violation(f"{where}: {path}: {msg}")
                raise _ApiError(400, 50035, "Invalid Form Body", _errors_tree(problems))
            record.modal = copy.deepcopy(data)
        callback.accepted = True
        callback.status = 200
        if message is not None:
            response_message_id = message["id"]
        interaction_info: dict[str, Any] = {"id": record.id, "type": record.type}
        if response_message_id is not None:
            interaction_info["response_message_id"] = response_message_id
            interaction_info["response_message_loading"] = ctype == 5
            flags = (message or self.messages.get(response_message_id) or {}).get("flags", 0)
            interaction_info["response_message_ephemeral"] = bool(flags & FLAG_EPHEMERAL)
        result: dict[str, Any] = {"interaction": interaction_info}
        if message is not None:
            result["resource"] = {"type": ctype, "message": copy.deepcopy(message)}
        return self._json(result)

    def _webhook_record(self, params: dict[str, str]) -> Interaction:
        record = self._by_token.get(params["token"])
        if record is None or params["app_id"] != str(self.app_id):
            raise _ApiError(404, 10015, "Unknown Webhook")
        return record

    def _webhook_message(self, record: Interaction, message_id: str, where: str) -> dict[str, Any]:
        if message_id == "@original":
            mid = record.original_message_id
            if mid is None:
                self._violation(
                    f"{where}: interaction {record.name!r} has no original response yet "
                    "(respond or defer first)"
                )
                raise _ApiError(404, 10008, "Unknown Message")
        else:
            mid = message_id
            if mid != record.original_message_id and mid not in record.followup_ids:
                raise _ApiError(404, 10008, "Unknown Message")
        message = self.messages.get(mid)
        if message is None:
            raise _ApiError(404, 10008, "Unknown Message")
        return message

    async def _h_webhook_get(
        self, request: web.Request, params: dict, body: Any, files: list
    ) -> Any:
        record = self._webhook_record(params)
        where = f"GET webhook message {params['message_id']}"
        return self._json(self._webhook_message(record, params["message_id"], where))

    async def _h_webhook_edit(
        self, request: web.Request, params: dict, body: Any, files: list
    ) -> Any:
        record = self._webhook_record(params)
        where = f"interaction {record.name!r} PATCH messages/{params['message_id']}"
        message = self._webhook_message(record, params["message_id"], where)
        payload = body if isinstance(body, dict) else {}
        self._check_message_payload(payload, where, creating=False, files=files, existing=message)
        self._apply_edit(message, payload, files)
        await self._echo("MESSAGE_UPDATE", message)
        return self._json(message)

    async def _h_webhook_delete(
        self, request: web.Request, params: dict, body: Any, files: list
    ) -> Any:
        record = self._webhook_record(params)
        where = f"interaction {record.name!r} DELETE messages/{params['message_id']}"
        message = self._webhook_message(record, params["message_id"], where)
        self._delete(message)
        await self._echo("MESSAGE_DELETE", message)
        return web.Response(status=204)

    async def _h_followup(self, request: web.Request, params: dict, body: Any, files: list) -> Any:
        record = self._webhook_record(params)
        where = f"interaction {record.name!r} followup"
        if not record.acknowledged:
            self._violation(f"{where}: sent before the interaction was acknowledged")
            raise _ApiError(404, 10015, "Unknown Webhook")
        payload = body if isinstance(body, dict) else {}
        original = self.messages.get(record.original_message_id or "")
        wait = request.query.get("wait", "").lower() in ("1", "true")
        if original is not None and original.get("flags", 0) & FLAG_LOADING:
            # Discord: the first followup after a "thinking" defer replaces the loading message.
            self._check_message_payload(payload, where, creating=True, files=files)
            edit = {k: v for k, v in payload.items() if k != "flags"}
            edit.setdefault("content", payload.get("content"))
            self._apply_edit(original, edit, files)
            await self._echo("MESSAGE_UPDATE", original)
            return self._json(original) if wait else web.Response(status=204)
        self._check_message_payload(payload, where, creating=True, files=files)
        message = self._bot_message(
            payload,
            channel_id=record.channel_id,
            guild_id=record.guild_id,
            files=files,
            msg_type=0,
            interaction=record,
        )
        self._store_message(message)
        record.followup_ids.append(message["id"])
        await self._echo("MESSAGE_CREATE", message)
        return self._json(message) if wait else web.Response(status=204)

    # ---------------------------------------------------------------- channels

    def _delete(self, message: dict[str, Any]) -> None:
        self.messages.pop(message["id"], None)
        self.deleted_messages[message["id"]] = message
        self._notify()

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


@contextlib.asynccontextmanager
async def run_bot(
    fake: FakeDiscord,
    client: Any,
    *,
    token: str | None = None,
    ready_timeout: float = 10.0,
    close_timeout: float = 5.0,
) -> AsyncIterator[Any]:
    """Runs an in-process discord.py client against ``fake`` until the block exits.

    Points discord.py at the fake (restored on exit), starts ``client.start(token)`` in a
    task, waits for ``on_ready`` (bounded), yields the client, then closes it.
    """
    with fake.patch_discord():
        task = asyncio.create_task(client.start(token or fake.token), name="fake-discord-bot")
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + ready_timeout
            while not client.is_ready():
                if task.done():
                    task.result()  # re-raise the bot's startup error (e.g. LoginFailure)
                    raise AssertionError("the bot stopped before it became ready")
                if loop.time() > deadline:
                    raise FakeDiscordTimeout(
                        f"the bot was not ready after {ready_timeout:.1f}s\n{fake._summary()}"
                    )
                await asyncio.sleep(0.01)
            yield client
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.close(), close_timeout)
            if not task.done():
                task.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(task, close_timeout)
