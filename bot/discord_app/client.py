"""The Discord client: wiring, command sync, the central error handler."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.admission import Admission
from bot.config import Config
from bot.discord_app.delivery import NO_MENTIONS, AnswerDelivery, Conversations, answer_embed
from bot.discord_app.views import RelatedButton, RelatedView
from bot.errors import BotError
from bot.pipeline import Tutor

log = logging.getLogger(__name__)

GENERIC_APOLOGY = "Sorry, something went wrong on my side. Please try again in a moment."


class InferenceBotMixin:
    """Shared by the plain and the auto-sharded bot classes."""

    config: Config
    tutor: Tutor
    delivery: AnswerDelivery
    services: dict[str, Any]

    def __init__(self, config: Config, tutor: Tutor, services: dict[str, Any], **options: Any):
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
        limits = config.limits
        admission = Admission(
            limits.per_user_in_flight, limits.rate_limit_count, limits.rate_limit_window_s
        )
        self.delivery = AnswerDelivery(
            tutor, admission, Conversations(), config.discord.edit_interval_s, RelatedView
        )

    async def setup_hook(self) -> None:  # called by discord.py before connecting
        from bot.discord_app.cogs import answers, quiz

        await answers.setup(self)
        await quiz.setup(self)
        self.add_dynamic_items(RelatedButton)
        self.tree.on_error = self.on_app_command_error
        await self.sync_commands()

    async def sync_commands(self) -> None:
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
        await interaction.followup.send(
            embed=answer_embed(entry.title, result.answer, result, ""),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

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
    """Several shards, as Discord asks of bots in many guilds (`discord.sharded: true`)."""


def build_bot(
    config: Config, tutor: Tutor, services: dict[str, Any], **options: Any
) -> commands.Bot:
    cls = ShardedInferenceBot if config.discord.sharded else InferenceBot
    return cls(config, tutor, services, **options)
