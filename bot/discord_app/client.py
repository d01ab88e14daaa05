"""The Discord client: wiring, command sync, the central error handler."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.config import Config, DiscordConfig
from bot.discord_app.delivery import NO_MENTIONS, AnswerDelivery, Conversations, answer_embed
from bot.discord_app.views import FeedbackButton, RelatedButton, RelatedView
from bot.errors import BotError
from bot.guild_settings import GuildSettingsService
from bot.pipeline import Tutor

if TYPE_CHECKING:
    from bot.feedback import Feedback

log = logging.getLogger(__name__)

GENERIC_APOLOGY = "Sorry, something went wrong on my side. Please try again in a moment."


class InferenceBotMixin:
    """Shared by the plain and the auto-sharded bot classes."""

    config: Config
    tutor: Tutor
    delivery: AnswerDelivery
    guild_settings: GuildSettingsService
    services: dict[str, Any]

    def __init__(
        self,
        config: Config,
        tutor: Tutor,
        services: dict[str, Any],
        *,
        guild_settings: GuildSettingsService | None = None,
        **options: Any,
    ):
        super().__init__(  # commands.Bot or commands.AutoShardedBot, by the subclass
            command_prefix=commands.when_mentioned,
            intents=_intents(config),
            allowed_mentions=NO_MENTIONS,
            help_command=None,
            **options,
        )
        self.config = config
        self.tutor = tutor
        self.services = services
        # Per-server settings; without a store (no data dir) every server has the defaults.
        self.guild_settings = guild_settings or GuildSettingsService.in_memory()
        # Answers and votes for the gaps report; absent or disabled: no feedback buttons.
        self.feedback: Feedback | None = services.get("feedback")
        self.delivery = AnswerDelivery(
            tutor, Conversations(), config.discord.edit_interval_s, RelatedView
        )
        self.delivery.feedback = self.feedback

    async def setup_hook(self) -> None:  # called by discord.py before connecting
        from bot.discord_app.cogs import answers, quiz, settings

        await answers.setup(self)
        await quiz.setup(self)
        await settings.setup(self)
        self.add_dynamic_items(RelatedButton)
        self.add_dynamic_items(FeedbackButton)
        from bot.discord_app.cogs import feedback as feedback_cog

        await feedback_cog.setup(self)
        self.tree.on_error = self.on_app_command_error
        await self.sync_commands()

    async def sync_commands(self) -> None:
        # Commands belong to the application, not to a shard, so one writer is enough.
        # With shards spread over processes only the one running shard 0 (there is always
        # exactly one) syncs: a repeated bulk overwrite with the same list would be
        # harmless, but during a rolling restart a process still on the old version could
        # put the old commands back, and N processes would spend N times the rate limit.
        if not syncs_commands(self.config.discord):
            log.info("not syncing commands: the process running shard 0 does that")
            return
        guild_ids = self.config.discord.dev_guild_ids
        if guild_ids:
            for guild_id in guild_ids:
                guild = discord.Object(id=guild_id)
                self.tree.copy_global_to(guild=guild)
                synced = await self.tree.sync(guild=guild)
                log.info("synced %d commands to guild %s", len(synced), guild_id)
        else:
            synced = await self.tree.sync()
            log.info("synced %d global commands", len(synced))

    async def on_ready(self) -> None:
        log.info("connected as %s (%s) to %d guilds", self.user, self.user.id, len(self.guilds))

    async def on_message(self, message: discord.Message) -> None:
        """No prefix commands: mentions and DMs are handled by the answers cog."""

    async def is_bot_owner(self, user: discord.abc.User) -> bool:
        if user.id in self.config.discord.owner_ids:
            return True
        try:
            return await self.is_owner(user)
        except discord.HTTPException:
            return False

    async def explain_entry(self, interaction: discord.Interaction, entry_id: str) -> None:
        """A related-entry button: explain that entry to the presser only."""
        entry = self.tutor.library.kb.get(entry_id)
        if entry is None:
            await interaction.response.send_message(
                "That entry is no longer in my notes.", ephemeral=True
            )
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        result = await self.tutor.ask(entry.title, "define")
        answer_id = await self.delivery.record(result)
        extra = {"view": RelatedView((), answer_id)} if answer_id is not None else {}
        await interaction.followup.send(
            embed=answer_embed(entry.title, result.answer, result, ""),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
            **extra,
        )

    async def record_vote(
        self, interaction: discord.Interaction, answer_id: int, helpful: bool
    ) -> None:
        """A feedback button: record the presser's vote (hashed id), tell them privately."""
        if self.feedback is None:
            text = "Thanks! Feedback isn't recorded on this bot."
        else:
            text = await asyncio.to_thread(
                self.feedback.vote, answer_id, interaction.user.id, helpful
            )
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)

    async def on_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """One place that turns errors into short replies; unknown ones are logged in full."""
        original = getattr(error, "original", error)
        if isinstance(original, BotError):
            text = str(original)
        elif isinstance(error, app_commands.CheckFailure):
            text = "You can't use that command here."
        else:
            log.error(
                "command %s failed",
                interaction.command.qualified_name if interaction.command else "?",
                exc_info=original,
            )
            text = GENERIC_APOLOGY
        try:
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
            else:
                await interaction.response.send_message(
                    text, ephemeral=True, allowed_mentions=NO_MENTIONS
                )
        except discord.HTTPException:
            log.warning("could not report an error to the user")


def _intents(config: Config) -> discord.Intents:
    intents = discord.Intents.default()
    # Mentions and DMs carry their text without the privileged message-content intent.
    intents.message_content = config.discord.message_content
    return intents


class InferenceBot(InferenceBotMixin, commands.Bot):
    """One gateway connection: right for most servers."""


class ShardedInferenceBot(InferenceBotMixin, commands.AutoShardedBot):
    """Several shards, as Discord asks of bots in many guilds (`discord.sharded: true`,
    or `discord.shard_count`, with `shard_ids` for the part of them this process runs)."""

    async def on_ready(self) -> None:
        await super().on_ready()
        log.info("shards %s of %s connected", sorted(self.shards), self.shard_count)


def syncs_commands(config: DiscordConfig) -> bool:
    """Whether this process syncs slash commands: it does unless shard 0 runs elsewhere."""
    return config.shard_ids is None or 0 in config.shard_ids


def shard_plan(config: DiscordConfig) -> str:
    """The shards this process will run, in words, for the start-up log."""
    if config.shard_count is None:
        if config.sharded:
            return "sharded: all shards, as many as Discord recommends"
        return "one gateway connection (not sharded)"
    ids = list(config.shard_ids) if config.shard_ids is not None else None
    if ids is None or len(ids) == config.shard_count:
        return f"sharded: all {config.shard_count} shards"
    listed = ", ".join(str(i) for i in ids)
    return f"sharded: shard{'s' if len(ids) > 1 else ''} {listed} of {config.shard_count}"


def build_bot(
    config: Config,
    tutor: Tutor,
    services: dict[str, Any],
    *,
    guild_settings: GuildSettingsService | None = None,
    **options: Any,
) -> commands.Bot:
    discord_config = config.discord
    sharded = discord_config.sharded or discord_config.shard_count is not None
    if discord_config.shard_count is not None:  # else AutoShardedBot asks Discord
        options.setdefault("shard_count", discord_config.shard_count)
        if discord_config.shard_ids is not None:  # else all of them, 0..count-1
            options.setdefault("shard_ids", list(discord_config.shard_ids))
    log.info("this process runs %s", shard_plan(discord_config))
    cls = ShardedInferenceBot if sharded else InferenceBot
    return cls(config, tutor, services, guild_settings=guild_settings, **options)
