"""The answers feature: /ask, /define, /analogy, /reload, mentions and DMs, and the
related-entry buttons."""

from __future__ import annotations

from bot.discord_app.cogs.answers.buttons import RelatedButton
from bot.discord_app.cogs.answers.cog import AnswersCog
from bot.discord_app.deps import AnyBot, deps_of


async def setup(bot: AnyBot) -> None:
    bot.add_dynamic_items(RelatedButton)
    await bot.add_cog(AnswersCog(bot, deps_of(bot)))
