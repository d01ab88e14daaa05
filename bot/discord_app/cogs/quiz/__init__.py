"""The quiz feature: /quiz start|stop|leaderboard and the answer buttons."""

from __future__ import annotations

from bot.discord_app.cogs.quiz.buttons import QuizAnswerButton
from bot.discord_app.cogs.quiz.cog import QuizCog
from bot.discord_app.deps import AnyBot, deps_of


async def setup(bot: AnyBot) -> None:
    bot.add_dynamic_items(QuizAnswerButton)
    await bot.add_cog(QuizCog(bot, deps_of(bot)))
