"""Buttons under answers. They route presses to the core; no rules live here."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

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


class FeedbackButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"feedback:(?P<answer>[0-9]{1,18}):(?P<vote>up|down)",
):
    """The "Helpful" / "Not helpful" buttons under an answer.

    Dynamic (the answer id lives in the custom_id), so votes still count after a restart.
    """

    LABELS: ClassVar[dict[bool, str]] = {True: "Helpful", False: "Not helpful"}

    def __init__(self, answer_id: int, helpful: bool) -> None:
        super().__init__(
            discord.ui.Button(
                label=self.LABELS[helpful],
                style=discord.ButtonStyle.secondary,
                custom_id=f"feedback:{answer_id}:{'up' if helpful else 'down'}",
                row=1,  # below the related-entry buttons
            )
        )
        self.answer_id = answer_id
        self.helpful = helpful

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> FeedbackButton:
        return cls(int(match["answer"]), match["vote"] == "up")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot: InferenceBotMixin = interaction.client  # type: ignore[assignment]
        await bot.record_vote(interaction, self.answer_id, self.helpful)


class RelatedView(discord.ui.View):
    """Related-entry buttons (first row) and, for a recorded answer, the feedback buttons."""

    def __init__(self, related: Sequence[Source], answer_id: int | None = None) -> None:
        super().__init__(timeout=None)
        for source in related[:3]:
            self.add_item(RelatedButton(source.id, source.title))
        if answer_id is not None:
            self.add_item(FeedbackButton(answer_id, True))
            self.add_item(FeedbackButton(answer_id, False))
