"""Buttons under answers. They route presses to the core; no rules live here."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.formatting import LABEL_LIMIT, trim
from bot.pipeline import Source

if TYPE_CHECKING:
    from bot.discord_app.client import InferenceBotMixin


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
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> RelatedButton:
        return cls(match["entry"], item.label)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot: InferenceBotMixin = interaction.client  # type: ignore[assignment]
        await bot.explain_entry(interaction, self.entry_id)


class RelatedView(discord.ui.View):
    def __init__(self, related: list[Source]) -> None:
        super().__init__(timeout=None)
        for source in related[:3]:
            self.add_item(RelatedButton(source.id, source.title))
