"""/ask, /define, /analogy, /reload, answers to mentions and DMs, and the related-entry
buttons under answers."""

from __future__ import annotations

import logging
import re

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_app.checks import is_bot_owner
from bot.discord_app.cogs.answers.buttons import answer_view
from bot.discord_app.cogs.answers.delivery import (
    AnswerDelivery,
    Drawn,
    InteractionSurface,
    MessageSurface,
)
from bot.discord_app.deps import AnyBot, BotDeps
from bot.discord_app.ui import (
    CHOICE_NAME_LIMIT,
    CHOICES_LIMIT,
    CONTENT_LIMIT,
    NO_MENTIONS,
    answer_embed,
)
from bot.errors import BotError
from bot.formatting import trim

log = logging.getLogger(__name__)


class AnswersCog(commands.Cog, name="Answers"):
    def __init__(self, bot: AnyBot, deps: BotDeps, delivery: AnswerDelivery | None = None):
        self.bot = bot
        self.deps = deps
        self.delivery = delivery or AnswerDelivery(
            deps.tutor, deps.config.discord.edit_interval_s, deps.feedback
        )

    # -- slash commands ------------------------------------------------------------------------
    @app_commands.command(name="ask")
    @app_commands.describe(question="Your question about AI inference, e.g. 'what is a KV cache?'")
    async def ask(self, interaction: discord.Interaction, question: str) -> None:
        """Ask anything about AI inference; the answer cites its sources."""
        await self.answer(interaction, question, "ask")

    @app_commands.command(name="define")
    @app_commands.describe(term="A term from the glossary, e.g. 'quantization' or 'GGUF'")
    async def define(self, interaction: discord.Interaction, term: str) -> None:
        """Define an inference term, with an example."""
        await self.answer(interaction, term, "define")

    @app_commands.command(name="analogy")
    @app_commands.describe(concept="A concept to explain with an everyday analogy")
    async def analogy(self, interaction: discord.Interaction, concept: str) -> None:
        """Explain an inference concept with an everyday analogy."""
        await self.answer(interaction, concept, "analogy")

    @define.autocomplete("term")
    @analogy.autocomplete("concept")
    async def glossary_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        needle = current.lower().strip()
        seen: set[str] = set()
        choices = []
        for name, entry_id in self.deps.tutor.library.kb.glossary():
            if entry_id in seen or (needle and needle not in name.lower()):
                continue
            seen.add(entry_id)
            short = name[:CHOICE_NAME_LIMIT]
            choices.append(app_commands.Choice(name=short, value=short))
            if len(choices) == CHOICES_LIMIT:
                break
        return choices

    @app_commands.command(name="reload")
    async def reload(self, interaction: discord.Interaction) -> None:
        """Re-read knowledge and prompts (bot owner only)."""
        owners = self.deps.config.discord.owner_ids
        if not await is_bot_owner(self.bot, interaction.user, owners):
            await interaction.response.send_message(
                "Only the bot's owner can reload its knowledge.", ephemeral=True
            )
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            library = self.deps.tutor.reload()
        except BotError as exc:
            text = f"Reload failed, the previous knowledge stays in service: {exc}"
            await interaction.followup.send(trim(text, CONTENT_LIMIT), ephemeral=True)
            return
        await interaction.followup.send(
            f"Reloaded {len(library.kb)} knowledge entries and the prompts.", ephemeral=True
        )

    async def answer(self, interaction: discord.Interaction, text: str, mode: str) -> None:
        # Acknowledge first: Discord allows 3 seconds; everything else comes after.
        # A refusal (busy, rate limited) is the first response, so it can be private.
        surface = InteractionSurface(interaction)
        refusal = self.delivery.refusal(interaction.user.id)
        if refusal is not None:
            await surface.refuse(refusal)
            return
        # The server's setting: answers seen by everyone, or by the asker only.
        private = (
            interaction.guild_id is not None
            and self.deps.guild_settings.get(interaction.guild_id).private_answers
        )
        await interaction.response.defer(thinking=True, ephemeral=private)
        await self.delivery.deliver(surface, interaction.user.id, text, mode, admitted=True)

    # -- the related-entry buttons -------------------------------------------------------------
    async def explain_entry(self, interaction: discord.Interaction, entry_id: str) -> None:
        """A related-entry button: explain that entry to the presser only."""
        tutor = self.deps.tutor
        entry = tutor.library.kb.get(entry_id)
        if entry is None:
            await interaction.response.send_message(
                "That entry is no longer in my notes.", ephemeral=True
            )
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        result = await tutor.ask(entry.title, "define")
        view = answer_view((), await self.delivery.record(result))
        drawn: Drawn = {
            "embed": answer_embed(entry.title, result.answer, result, ""),
            "allowed_mentions": NO_MENTIONS,
        }
        if view is not None:
            drawn["view"] = view
        await interaction.followup.send(ephemeral=True, **drawn)

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
        ) or (reply_to is not None and self.delivery.conversations.knows(reply_to))
        if not (is_dm or me in message.mentions or replying_to_me):
            return
        question = re.sub(rf"<@!?{me.id}>", " ", message.content).strip()
        try:
            await self.delivery.deliver(
                MessageSurface(message), message.author.id, question, "ask", reply_to
            )
        except discord.HTTPException:
            log.exception("could not answer message %s", message.id)

    def _answers_in(self, message: discord.Message) -> bool:
        """The server's channel list (a thread counts as its parent channel)."""
        assert message.guild is not None
        parent_id = getattr(message.channel, "parent_id", None)
        return self.deps.guild_settings.get(message.guild.id).answers_in(
            message.channel.id, parent_id
        )
