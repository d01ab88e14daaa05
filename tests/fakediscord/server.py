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
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from aiohttp import web

from .callbacks import CallbacksMixin
from .checks import ChecksMixin
from .commands import CommandsMixin
from .constants import (
    BOT_ROLE_PERMISSIONS,
    EVERYONE_PERMISSIONS,
    MODERATOR_PERMISSIONS,
    PRIVILEGED_INTENTS,
)
from .gateway import GatewayMixin
from .interactions import InteractionsMixin
from .messages import MessagesMixin
from .models import (
    Callback,
    Event,
    FakeDiscordTimeout,
    Interaction,
    _Bucket,
    _Conn,
    _IdDict,
    _Session,
)
from .rest import RestMixin
from .state import StateMixin
from .transport import TransportMixin
from .waits import WaitsMixin

__all__ = [
    "Callback",
    "Event",
    "FakeDiscord",
    "FakeDiscordTimeout",
    "Interaction",
    "run_bot",
]


class FakeDiscord(
    InteractionsMixin,
    CallbacksMixin,
    CommandsMixin,
    MessagesMixin,
    ChecksMixin,
    WaitsMixin,
    GatewayMixin,
    RestMixin,
    TransportMixin,
    StateMixin,
):
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
        owner_id: int = 1200000000000000002,
        *,
        bot_name: str = "TestBot",
        guild_name: str = "Test Guild",
        channel_name: str = "general",
        ack_deadline_s: float = 3.0,
        rate_limit: tuple[int, float] = (5, 5.0),
        rate_limit_headers: bool = True,
        allowed_privileged_intents: int = PRIVILEGED_INTENTS,
        shard_count: int = 1,
        click_delay_s: float = 0.1,
    ) -> None:
        self.token = token
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.guild_id = int(guild_id)
        self.channel_id = int(channel_id)
        self.dm_channel_id = int(dm_channel_id)
        self.bot_user_id = int(bot_user_id)
        self.app_id = self.bot_user_id  # as for every bot made since 2016
        self.owner_id = int(owner_id)
        self.ack_deadline_s = ack_deadline_s
        self.rate_limit = rate_limit
        self.rate_limit_headers = rate_limit_headers
        self.allowed_privileged_intents = allowed_privileged_intents
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
        self.dispatched: list[tuple[float, str, dict[str, Any]]] = []
        self.undelivered: list[str] = []
        self.interactions: list[Interaction] = []
        self.messages: _IdDict = _IdDict()
        self.message_history: _IdDict = _IdDict()
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
