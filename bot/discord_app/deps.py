"""What the bot is given: typed dependencies, built once by the runner.

The bot class knows no feature; each cog's `setup` takes what it needs from `deps_of(bot)`.
Nothing here imports a cog or the client, so every module of the Discord layer can use it.
"""

from __future__ import annotations

from dataclasses import dataclass

from discord.ext import commands

from bot.config import Config
from bot.feedback import Feedback
from bot.guild_settings import GuildSettingsService
from bot.pipeline import Tutor
from bot.quiz import QuizEngine, ScoreStore

# What cogs are handed: the plain or the auto-sharded bot (discord.py has no common class
# with the client methods on it).
AnyBot = commands.Bot | commands.AutoShardedBot


@dataclass(frozen=True)
class BotDeps:
    """Everything the features need. `feedback` None or disabled: no vote buttons."""

    config: Config
    tutor: Tutor
    quiz_engine: QuizEngine
    score_store: ScoreStore
    guild_settings: GuildSettingsService
    feedback: Feedback | None = None


def deps_of(bot: object) -> BotDeps:
    """The dependencies of a bot built by `build_bot`, for a cog's `setup`."""
    deps = getattr(bot, "deps", None)
    if not isinstance(deps, BotDeps):
        raise TypeError(f"{type(bot).__name__} carries no BotDeps")
    return deps
