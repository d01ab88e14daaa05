"""The feedback feature: /gaps and the vote buttons under answers."""

from __future__ import annotations

from bot.discord_app.cogs.feedback.buttons import FeedbackButton
from bot.discord_app.cogs.feedback.cog import FeedbackCog
from bot.discord_app.deps import AnyBot, deps_of


async def setup(bot: AnyBot) -> None:
    bot.add_dynamic_items(FeedbackButton)
    await bot.add_cog(FeedbackCog(bot, deps_of(bot)))
