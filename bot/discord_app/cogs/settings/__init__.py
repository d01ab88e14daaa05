"""The settings feature: /settings for a server's own quiz time, answers and channels."""

from __future__ import annotations

from bot.discord_app.cogs.settings.cog import SettingsCog
from bot.discord_app.deps import AnyBot, deps_of


async def setup(bot: AnyBot) -> None:
    await bot.add_cog(SettingsCog(bot, deps_of(bot)))
