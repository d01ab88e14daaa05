"""/gaps, the curators' report of questions the knowledge answered badly (owner only), and
the votes from the buttons under answers. The rules and the report live in bot.feedback."""

from __future__ import annotations

import asyncio

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_app.checks import is_bot_owner
from bot.discord_app.deps import AnyBot, BotDeps
from bot.discord_app.ui import CONTENT_LIMIT, NO_MENTIONS
from bot.feedback import GapsReport, render_text
from bot.formatting import defuse_mentions, trim


class FeedbackCog(commands.Cog, name="Feedback"):
    def __init__(self, bot: AnyBot, deps: BotDeps) -> None:
        self.bot = bot
        self.deps = deps

    @app_commands.command(name="gaps")
    @app_commands.describe(days="Look back this many days (default: the retention period)")
    async def gaps(
        self, interaction: discord.Interaction, days: app_commands.Range[int, 1, 3650] | None = None
    ) -> None:
        """Questions my notes answered badly, grouped by topic (bot owner only)."""
        owners = self.deps.config.discord.owner_ids
        if not await is_bot_owner(self.bot, interaction.user, owners):
            await interaction.response.send_message(
                "Only the bot's owner can see the gaps report.", ephemeral=True
            )
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        feedback = self.deps.feedback
        if feedback is None or not feedback.enabled:
            retention = self.deps.config.analytics.retention_days
            report = GapsReport(days or retention, 0, enabled=False)
        else:
            kb = self.deps.tutor.library.kb
            titles = {entry_id: entry.title for entry_id, entry in kb.entries.items()}
            report = await asyncio.to_thread(feedback.gaps, titles, days)
        # Mentions in the stored questions stay inert text (allowed_mentions blocks them too).
        text = defuse_mentions(render_text(report, limit=CONTENT_LIMIT - 50))
        await interaction.followup.send(
            trim(text, CONTENT_LIMIT), ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    async def record_vote(
        self, interaction: discord.Interaction, answer_id: int, helpful: bool
    ) -> None:
        """A feedback button: record the presser's vote (hashed id), tell them privately."""
        feedback = self.deps.feedback
        if feedback is None:
            text = "Thanks! Feedback isn't recorded on this bot."
        else:
            text = await asyncio.to_thread(feedback.vote, answer_id, interaction.user.id, helpful)
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
