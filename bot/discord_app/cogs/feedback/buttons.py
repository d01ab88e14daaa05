"""The "Helpful" / "Not helpful" buttons under an answer; presses go to the Feedback cog."""

from __future__ import annotations

import re
from typing import Any, ClassVar, Protocol

import discord

from bot.discord_app.ui import cog_for

COG_NAME = "Feedback"


class RecordsVotes(Protocol):
    async def record_vote(
        self, interaction: discord.Interaction, answer_id: int, helpful: bool
    ) -> None: ...


class FeedbackButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"feedback:(?P<answer>[0-9]{1,18}):(?P<vote>up|down)",
):
    """One vote on a recorded answer.

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
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> FeedbackButton:
        return cls(int(match["answer"]), match["vote"] == "up")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        cog: RecordsVotes | None = cog_for(interaction, COG_NAME)
        if cog is not None:
            await cog.record_vote(interaction, self.answer_id, self.helpful)


def feedback_buttons(answer_id: int) -> list[FeedbackButton]:
    return [FeedbackButton(answer_id, True), FeedbackButton(answer_id, False)]
