"""The Discord client, as discord.py's `advanced_startup` example builds it: a bot that
knows no feature, given typed dependencies (`BotDeps`) and a list of extensions that it
loads in `setup_hook`; command sync; the central error handler."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.config import DiscordConfig
from bot.discord_app.deps import BotDeps
from bot.discord_app.ui import NO_MENTIONS
from bot.errors import BotError

log = logging.getLogger(__name__)

GENERIC_APOLOGY = "Sorry, something went wrong on my side. Please try again in a moment."
EXTENSIONS = (
    "bot.discord_app.cogs.answers",
    "bot.discord_app.cogs.quiz",
    "bot.discord_app.cogs.settings",
    "bot.discord_app.cogs.feedback",
)


# A mixin for commands.Bot and commands.AutoShardedBot: the type checker is told its base (so
# that `self.tree`, `self.user`, ... are known); at run time it is a plain object, so that each
# subclass's method order stays "this mixin, then the discord.py class".
if TYPE_CHECKING:
    _MixinBase = commands.Bot
else:
    _MixinBase = object


class InferenceBotBase(_MixinBase):
    """Shared by the plain and the auto-sharded bot classes; knows no feature."""

    deps: BotDeps
    extensions_to_load: tuple[str, ...]

    def __init__(
        self, deps: BotDeps, *, extensions: Sequence[str] = EXTENSIONS, **options: Any
    ) -> None:
        intents = discord.Intents.default()
        # Mentions and DMs carry their text without the privileged message-content intent.
        intents.message_content = deps.config.discord.message_content
        super().__init__(  # commands.Bot or commands.AutoShardedBot, by the subclass
            command_prefix=commands.when_mentioned,
            intents=intents,
            allowed_mentions=NO_MENTIONS,
            help_command=None,
            **options,
        )
        self.deps = deps
        self.extensions_to_load = tuple(extensions)

    async def setup_hook(self) -> None:  # called by discord.py before connecting
        for extension in self.extensions_to_load:
            await self.load_extension(extension)
        self.tree.error(self.on_app_command_error)  # the tree's on_error, as documented
        await self.sync_commands()

    async def sync_commands(self) -> None:
        # Commands belong to the application, not to a shard, so one writer is enough.
        # With shards spread over processes only the one running shard 0 (there is always
        # exactly one) syncs: a repeated bulk overwrite with the same list would be
        # harmless, but during a rolling restart a process still on the old version could
        # put the old commands back, and N processes would spend N times the rate limit.
        if not syncs_commands(self.deps.config.discord):
            log.info("not syncing commands: the process running shard 0 does that")
            return
        guild_ids = self.deps.config.discord.dev_guild_ids
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
        user_id = self.user.id if self.user is not None else None  # set once ready
        log.info("connected as %s (%s) to %d guilds", self.user, user_id, len(self.guilds))

    async def on_message(self, message: discord.Message) -> None:
        """No prefix commands: mentions and DMs are handled by the answers cog."""

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


class InferenceBot(InferenceBotBase, commands.Bot):
    """One gateway connection: right for most servers."""


class ShardedInferenceBot(InferenceBotBase, commands.AutoShardedBot):
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


def build_bot(deps: BotDeps, **options: Any) -> InferenceBot | ShardedInferenceBot:
    """The plain or the auto-sharded bot, as `discord.sharded`/`shard_count` ask."""
    discord_config = deps.config.discord
    sharded = discord_config.sharded or discord_config.shard_count is not None
    if discord_config.shard_count is not None:  # else AutoShardedBot asks Discord
        options.setdefault("shard_count", discord_config.shard_count)
        if discord_config.shard_ids is not None:  # else all of them, 0..count-1
            options.setdefault("shard_ids", list(discord_config.shard_ids))
    log.info("this process runs %s", shard_plan(discord_config))
    cls = ShardedInferenceBot if sharded else InferenceBot
    return cls(deps, **options)
