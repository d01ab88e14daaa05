"""/ask, /define, /analogy, /reload, and answers to mentions and DMs."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_app.delivery import InteractionSurface, MessageSurface
from bot.errors import BotError
from bot.formatting import CONTENT_LIMIT, trim

if TYPE_CHECKING:
    from bot.discord_app.client import InferenceBotMixin

log = logging.getLogger(__name__)
AUTOCOMPLETE_LIMIT = 25


class AnswersCog(commands.Cog, name="Answers"):
    def __init__(self, bot: InferenceBotMixin) -> None:
        self.bot = bot

    # -- slash commands ------------------------------------------------------------------------
    @app_commands.command(name="ask")
    @app_commands.describe(question="Your question about AI inference, e.g. 'what is a KV cache?'")
    async def ask(self, interaction: discord.Interaction, question: str) -> None:
        """Ask anything about AI inference; the answer cites its sources."""
        await self._answer(interaction, question, "ask")

    @app_commands.command(name="define")
    @app_commands.describe(term="A term from the glossary, e.g. 'quantization' or 'GGUF'")
    async def define(self, interaction: discord.Interaction, term: str) -> None:
        """Define an inference term, with an example."""
        await self._answer(interaction, term, "define")

    @app_commands.command(name="analogy")
    @app_commands.describe(concept="A concept to explain with an everyday analogy")
    async def analogy(self, interaction: discord.Interaction, concept: str) -> None:
        """Explain an inference concept with an everyday analogy."""
        await self._answer(interaction, concept, "analogy")

    @define.autocomplete("term")
    @analogy.autocomplete("concept")
    async def glossary_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        needle = current.lower().strip()
        seen: set[str] = set()
        choices = []
        for name, entry_id in self.bot.tutor.library.kb.glossary():
            if entry_id in seen or (needle and needle not in name.lower()):
                continue
            seen.add(entry_id)
            choices.append(app_commands.Choice(name=name[:100], value=name[:100]))
            if len(choices) == AUTOCOMPLETE_LIMIT:
                break
        return choices

    @app_commands.command(name="reload")
    async def reload(self, interaction: discord.Interaction) -> None:
        """Re-read knowledge and prompts (bot owner only)."""
        if not await self.bot.is_bot_owner(interaction.user):
            await interaction.response.send_message(
                "Only the bot's owner can reload its knowledge.", ephemeral=True
            )
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            library = self.bot.tutor.reload()
        except BotError as exc:
            await interaction.followup.send(
                trim(
                    f"Reload failed, the previous knowledge stays in service: {exc}", CONTENT_LIMIT
                ),
                ephemeral=True,
            )
            return
        await interaction.followup.send(
            f"Reloaded {len(library.kb)} knowledge entries and the prompts.", ephemeral=True
        )

    async def _answer(self, interaction: discord.Interaction, text: str, mode: str) -> None:
        # Acknowledge first: Discord allows 3 seconds; everything else comes after.
        # A refusal (busy, rate limited) is the first response, so it can be private.
        surface = InteractionSurface(interaction)
        refusal = self.bot.delivery.refusal(interaction.user.id)
        if refusal is not None:
            await surface.refuse(refusal)
            return
        # The server's setting: answers seen by everyone, or by the asker only.
        private = (
            interaction.guild_id is not None
            and self.bot.guild_settings.get(interaction.guild_id).private_answers
        )
        await interaction.response.defer(thinking=True, ephemeral=private)
        await self.bot.delivery.deliver(surface, interaction.user.id, text, mode, admitted=True)

    # -- mentions and DMs ----------------------------------------------------------------------
    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        me = self.bot.user
        if me is None or message.author.bot or message.author.id == me.id:
            return
        is_dm = message.guild is None
        if not is_dm and not self._answers_in(message):
            return
        reply_to = message.reference.message_id if message.reference else None
        resolved = message.reference.resolved if message.reference else None
        replying_to_me = (
            isinstance(resolved, discord.Message) and resolved.author.id == me.id
        ) or (reply_to is not None and self.bot.delivery.conversations.knows(reply_to))
        if not (is_dm or me in message.mentions or replying_to_me):
            return
        question = re.sub(rf"<@!?{me.id}>", " ", message.content).strip()
        try:
            await self.bot.delivery.deliver(
                MessageSurface(message), message.author.id, question, "ask", reply_to
            )
        except discord.HTTPException:
            log.exception("could not answer message %s", message.id)

    def _answers_in(self, message: discord.Message) -> bool:
        """The server's channel list (a thread counts as its parent channel)."""
        assert message.guild is not None
        parent_id = getattr(message.channel, "parent_id", None)
        return self.bot.guild_settings.get(message.guild.id).answers_in(
            message.channel.id, parent_id
        )


async def setup(bot: InferenceBotMixin) -> None:
    await bot.add_cog(AnswersCog(bot))
