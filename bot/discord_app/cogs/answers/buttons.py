"""The buttons under an answer: related entries (first row) and, for a recorded answer,
the feedback votes. Related-entry presses go to the Answers cog."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol

import discord

from bot.discord_app.cogs.feedback.buttons import feedback_buttons
from bot.discord_app.ui import LABEL_LIMIT, cog_for
from bot.formatting import trim
from bot.pipeline import Source

COG_NAME = "Answers"
RELATED_SHOWN = 3


class ExplainsEntries(Protocol):
    async def explain_entry(self, interaction: discord.Interaction, entry_id: str) -> None: ...


class RelatedButton(
    discord.ui.DynamicItem[discord.ui.Button], template=r"related:(?P<entry>[a-z0-9-]{1,80})"
):
    """A button that explains a related knowledge entry to whoever presses it.

    Dynamic (the entry id lives in the custom_id), so buttons keep working after a restart.
    """

    def __init__(self, entry_id: str, label: str | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=trim(label or entry_id, LABEL_LIMIT),
                style=discord.ButtonStyle.secondary,
                custom_id=f"related:{entry_id}",
            )
        )
        self.entry_id = entry_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> RelatedButton:
        label = item.label if isinstance(item, discord.ui.Button) else None  # it is one
        return cls(match["entry"], label)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        cog: ExplainsEntries | None = cog_for(interaction, COG_NAME)
        if cog is not None:
            await cog.explain_entry(interaction, self.entry_id)


def answer_view(related: Sequence[Source], answer_id: int | None = None) -> discord.ui.View | None:
    """Related-entry buttons and, for a recorded answer, the feedback buttons; None if
    there would be no button at all."""
    if not related and answer_id is None:
        return None
    view = discord.ui.View(timeout=None)
    for source in related[:RELATED_SHOWN]:
        view.add_item(RelatedButton(source.id, source.title))
    if answer_id is not None:
        for button in feedback_buttons(answer_id):
            view.add_item(button)
    return view
