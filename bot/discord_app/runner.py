"""`python -m bot run`: start the Discord bot, stop cleanly on SIGTERM/SIGINT.

The token comes from DISCORD_TOKEN only and never reaches a log line. REST and gateway
can be pointed at a proxy (DISCORD_API_BASE_URL, DISCORD_GATEWAY_URL, or config.yaml), as
large deployments do with a rate-limit proxy, and as the tests do with a local fake.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time

import discord
import yarl

from bot.config import Config, DiscordConfig
from bot.discord_app.client import build_bot
from bot.discord_app.deps import BotDeps
from bot.feedback import Feedback, open_feedback
from bot.guard import redact
from bot.guild_settings import GuildSettingsService
from bot.pipeline import Tutor
from bot.quiz import QuizEngine, ScoreStore, load_bank
from bot.storage import store_target

log = logging.getLogger(__name__)
SHUTDOWN_GRACE_S = 5.0


def configure_endpoints(config: DiscordConfig) -> None:
    """Point discord.py's REST and gateway at the configured URLs (default: discord.com)."""
    if config.api_base_url:
        discord.http.Route.BASE = config.api_base_url.rstrip("/")
    if config.gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(config.gateway_url)


class SecretFilter(logging.Filter):
    """Removes the token (and anything shaped like a credential) from every log record."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message.replace(self.token, "[token]")) if self.token else redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install_secret_filter(token: str) -> None:
    secret_filter = SecretFilter(token)
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.INFO)
    for handler in root.handlers:
        handler.addFilter(secret_filter)


async def serve(config: Config, token: str, stop: asyncio.Event, **bot_options: object) -> None:
    """Run the bot until `stop` is set or the connection ends for good."""
    started = time.perf_counter()
    tutor = Tutor.from_config(config)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    bank = load_bank(config.knowledge.dir / "quiz", set(tutor.library.kb.entries))
    store = ScoreStore(store_target(config.database_url, config.data_dir, "quiz.sqlite3"))
    feedback: Feedback | None = None
    guild_settings: GuildSettingsService | None = None
    try:
        guild_settings = await GuildSettingsService.open(
            store_target(config.database_url, config.data_dir, "settings.sqlite3")
        )
        await tutor.start()
        feedback = await asyncio.to_thread(open_feedback, config)
        deps = BotDeps(
            config=config,
            tutor=tutor,
            quiz_engine=QuizEngine(bank, store, question_seconds=config.quiz.question_seconds),
            score_store=store,
            guild_settings=guild_settings,
            feedback=feedback,
        )
        bot = build_bot(deps, **bot_options)
        log.info("ready to connect after %.2f s", time.perf_counter() - started)
        await _run_until_stopped(bot, token, stop)
    finally:
        tutor.close()
        store.close()
        if feedback is not None:
            feedback.close()
        if guild_settings is not None:
            guild_settings.close()


async def _run_until_stopped(bot: discord.Client, token: str, stop: asyncio.Event) -> None:
    async with bot:
        runner = asyncio.create_task(bot.start(token), name="discord-client")
        stopper = asyncio.create_task(stop.wait(), name="stop-signal")
        done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if runner in done:
            stopper.cancel()
            runner.result()  # raises LoginFailure and the like
            return
        log.info("stopping")
        await bot.close()
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(runner, SHUTDOWN_GRACE_S)


def run_bot(config: Config) -> int:
    token = os.environ.get("DISCORD_TOKEN", "").strip()
    if not token:
        print(
            "error: DISCORD_TOKEN is not set. Create a bot at "
            "https://discord.com/developers/applications and export its token.",
            file=sys.stderr,
        )
        return 2
    logging.getLogger().setLevel(logging.INFO)
    install_secret_filter(token)
    configure_endpoints(config.discord)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await serve(config, token, stop)

    try:
        asyncio.run(main())
    except discord.LoginFailure:
        print("error: Discord rejected the token in DISCORD_TOKEN.", file=sys.stderr)
        return 1
    except discord.PrivilegedIntentsRequired:
        print(
            "error: the message content intent is enabled in config.yaml but not in the "
            "Discord developer portal.",
            file=sys.stderr,
        )
        return 1
    except (discord.GatewayNotFound, discord.ConnectionClosed, OSError) as exc:
        print(f"error: could not reach Discord: {redact(str(exc))}", file=sys.stderr)
        return 1
    return 0
