"""/settings: a server's own quiz time, answer visibility and channels for mentions.

Only members with the Manage Server permission may use it: Discord hides the command from
everyone else (default permissions), and every subcommand checks again at run time, since
a server can override who sees a command. The rules and the storage are in
bot.guild_settings; this cog only parses options and renders the result.
"""

from __future__ import annotations

import logging
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_app.deps import AnyBot, BotDeps
from bot.discord_app.ui import CONTENT_LIMIT, NO_MENTIONS
from bot.errors import BotError
from bot.formatting import trim
from bot.guild_settings import QUIZ_SECONDS_MAX, QUIZ_SECONDS_MIN, GuildSettings

log = logging.getLogger(__name__)

# Where mentions can be answered; a thread counts as its parent channel.
AnswerChannel = discord.TextChannel | discord.VoiceChannel | discord.ForumChannel


class SettingsRefused(BotError, app_commands.CheckFailure):
    """Not a server, or no Manage Server permission: the central handler shows the text."""


@app_commands.default_permissions(manage_guild=True)
class SettingsCog(commands.GroupCog, group_name="settings", name="Settings"):
    """This server's settings for the bot (Manage Server permission)."""

    channels = app_commands.Group(
        name="channels", description="The channels where the bot answers mentions"
    )

    def __init__(self, bot: AnyBot, deps: BotDeps) -> None:
        self.bot = bot
        self.deps = deps
        self.guild_settings = deps.guild_settings
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.guild_id is None:
            raise SettingsRefused(
                "Settings belong to a server: use /settings in a server channel, "
                "with the Manage Server permission."
            )
        if not interaction.permissions.manage_guild:
            raise SettingsRefused(
                "Only members with the Manage Server permission can view or change "
                "the bot's settings for this server."
            )
        return True

    # -- commands ------------------------------------------------------------------------------
    @app_commands.command(name="show")
    async def show(self, interaction: discord.Interaction) -> None:
        """Show this server's settings for the bot."""
        await self._reply(interaction, "", self._settings(interaction))

    @app_commands.command(name="quiz-seconds")
    @app_commands.describe(
        seconds=f"{QUIZ_SECONDS_MIN}-{QUIZ_SECONDS_MAX} seconds; leave it out for the default"
    )
    async def quiz_seconds(
        self,
        interaction: discord.Interaction,
        seconds: app_commands.Range[int, QUIZ_SECONDS_MIN, QUIZ_SECONDS_MAX] | None = None,
    ) -> None:
        """Set the time per quiz question for quizzes started in this server."""
        settings = await self.guild_settings.set_quiz_seconds(self._guild(interaction), seconds)
        done = (
            f"Saved: quiz questions now last {seconds} s."
            if seconds is not None
            else "Saved: quiz questions use the default time again."
        )
        await self._reply(interaction, done + " Quizzes already running keep theirs.", settings)

    @app_commands.command(name="answers")
    @app_commands.describe(visibility="public: everyone sees answers; private: only the asker")
    async def answers(
        self, interaction: discord.Interaction, visibility: Literal["public", "private"]
    ) -> None:
        """Choose whether answers to /ask, /define and /analogy are public or private."""
        private = visibility == "private"
        settings = await self.guild_settings.set_private_answers(self._guild(interaction), private)
        await self._reply(
            interaction, f"Saved: answers to slash commands are {visibility}.", settings
        )

    @channels.command(name="add")
    @app_commands.describe(channel="A channel where the bot should answer mentions")
    async def channels_add(self, interaction: discord.Interaction, channel: AnswerChannel) -> None:
        """Answer mentions in this channel (once any is listed, only in listed channels)."""
        settings = await self.guild_settings.add_channel(self._guild(interaction), channel.id)
        await self._reply(interaction, f"Saved: I answer mentions in {channel.mention}.", settings)

    @channels.command(name="remove")
    @app_commands.describe(channel="A listed channel")
    async def channels_remove(
        self, interaction: discord.Interaction, channel: AnswerChannel
    ) -> None:
        """Stop answering mentions in this channel."""
        guild_id = self._guild(interaction)
        if channel.id not in self.guild_settings.get(guild_id).answer_channels:
            await self._reply(
                interaction, f"{channel.mention} is not listed.", self._settings(interaction)
            )
            return
        settings = await self.guild_settings.remove_channel(guild_id, channel.id)
        await self._reply(interaction, f"Saved: {channel.mention} is no longer listed.", settings)

    @channels.command(name="clear")
    async def channels_clear(self, interaction: discord.Interaction) -> None:
        """Answer mentions in every channel again."""
        settings = await self.guild_settings.clear_channels(self._guild(interaction))
        await self._reply(interaction, "Saved: I answer mentions in every channel.", settings)

    # -- rendering -----------------------------------------------------------------------------
    @staticmethod
    def _guild(interaction: discord.Interaction) -> int:
        assert interaction.guild_id is not None  # interaction_check refused DMs
        return interaction.guild_id

    def _settings(self, interaction: discord.Interaction) -> GuildSettings:
        return self.guild_settings.get(self._guild(interaction))

    async def _reply(
        self, interaction: discord.Interaction, done: str, settings: GuildSettings
    ) -> None:
        text = f"{done}\n\n{self.summary(settings)}" if done else self.summary(settings)
        await interaction.response.send_message(
            trim(text, CONTENT_LIMIT), ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    def summary(self, settings: GuildSettings) -> str:
        default = self.deps.config.quiz.question_seconds
        if settings.quiz_seconds is None:
            quiz = f"{default:g} s per question (the default)"
        else:
            quiz = f"{settings.quiz_seconds} s per question (the default is {default:g} s)"
        if settings.private_answers:
            answers = "private: only the asker sees answers to /ask, /define and /analogy"
        else:
            answers = "public: everyone in the channel sees answers to /ask, /define and /analogy"
        if settings.answer_channels:
            listed = ", ".join(f"<#{c}>" for c in sorted(settings.answer_channels))
            where = f"only in {listed} (and their threads)"
        else:
            where = "in every channel"
        return "\n".join(
            [
                "**Settings for this server**",
                f"- Quiz time: {quiz}",
                f"- Answers: {answers}",
                "  Answers to mentions are always public: a reply to a message cannot be private.",
                f"- Mentions answered: {where}",
                "  Slash commands work in every channel, and DMs are always answered.",
            ]
        )
