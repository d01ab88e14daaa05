"""/gaps: the curators' report of questions the knowledge answered badly (owner only).

The votes themselves arrive through `FeedbackButton` in views.py; the rules and the
report live in bot.feedback.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_app.delivery import NO_MENTIONS
from bot.feedback import GapsReport, render_text
from bot.formatting import CONTENT_LIMIT, defuse_mentions, trim

if TYPE_CHECKING:
    from bot.discord_app.client import InferenceBotMixin


class FeedbackCog(commands.Cog, name="Feedback"):
    def __init__(self, bot: InferenceBotMixin) -> None:
        self.bot = bot

    @app_commands.command(name="gaps")
    @app_commands.describe(days="Look back this many days (default: the retention period)")
    async def gaps(
        self, interaction: discord.Interaction, days: app_commands.Range[int, 1, 3650] | None = None
    ) -> None:
        """Questions my notes answered badly, grouped by topic (bot owner only)."""
        if not await self.bot.is_bot_owner(interaction.user):
            await interaction.response.send_message(
                "Only the bot's owner can see the gaps report.", ephemeral=True
            )
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        feedback = self.bot.feedback
        if feedback is None or not feedback.enabled:
            report = GapsReport(days or self.bot.config.analytics.retention_days, 0, enabled=False)
        else:
            kb = self.bot.tutor.library.kb
            titles = {entry_id: entry.title for entry_id, entry in kb.entries.items()}
            report = await asyncio.to_thread(feedback.gaps, titles, days)
        # Mentions in the stored questions stay inert text (allowed_mentions blocks them too).
        text = defuse_mentions(render_text(report, limit=CONTENT_LIMIT - 50))
        await interaction.followup.send(
            trim(text, CONTENT_LIMIT), ephemeral=True, allowed_mentions=NO_MENTIONS
        )


async def setup(bot: InferenceBotMixin) -> None:
    await bot.add_cog(FeedbackCog(bot))
