"""What every feature draws with: colours, mentions, Discord's limits, the answer embed,
and how a button press reaches its cog."""

from __future__ import annotations

from typing import Any

import discord

from bot.formatting import (
    CHOICE_NAME_LIMIT,
    CHOICES_LIMIT,
    CONTENT_LIMIT,
    DESCRIPTION_LIMIT,
    FIELD_LIMIT,
    FOOTER_LIMIT,
    LABEL_LIMIT,
    TITLE_LIMIT,
    defuse_mentions,
    figures_footer,
    sources_text,
    trim,
)
from bot.pipeline import AnswerResult

__all__ = [
    "ANSWER_COLOUR",
    "CHOICES_LIMIT",
    "CHOICE_NAME_LIMIT",
    "CONTENT_LIMIT",
    "DESCRIPTION_LIMIT",
    "FIELD_LIMIT",
    "FOOTER_LIMIT",
    "LABEL_LIMIT",
    "NO_MENTIONS",
    "QUIZ_COLOUR",
    "RESULT_COLOUR",
    "TITLE_LIMIT",
    "answer_embed",
    "cog_for",
]

NO_MENTIONS = discord.AllowedMentions.none()
ANSWER_COLOUR = discord.Colour.blurple()
QUIZ_COLOUR = discord.Colour.gold()
RESULT_COLOUR = discord.Colour.green()


def answer_embed(
    question: str, text: str, result: AnswerResult | None, status: str, caveat: str | None = None
) -> discord.Embed:
    """The answer as an embed; `caveat` (e.g. low confidence) is a last, italic line."""
    title = trim(defuse_mentions(" ".join(question.split())) or "Question", TITLE_LIMIT)
    body = defuse_mentions(text) or "…"
    if caveat:
        body = trim(body, DESCRIPTION_LIMIT - len(caveat) - 4) + f"\n\n*{caveat}*"
    embed = discord.Embed(
        title=title, description=trim(body, DESCRIPTION_LIMIT), colour=ANSWER_COLOUR
    )
    if result is None:
        embed.set_footer(text=status)
        return embed
    if result.sources:
        embed.add_field(name="Sources", value=sources_text(result), inline=False)
    embed.set_footer(text=figures_footer(result))
    return embed


def cog_for(interaction: discord.Interaction[Any], name: str) -> Any:
    """The loaded cog called `name` that handles a button press, or None (not loaded).

    Every dynamic button routes its press this way, so a button module never imports
    its cog (the cog imports the button to draw it)."""
    get_cog = getattr(interaction.client, "get_cog", None)
    return get_cog(name) if get_cog is not None else None
