"""The answer buttons of a quiz question; presses go to the Quiz cog."""

from __future__ import annotations

import re
from typing import Any, Protocol

import discord

from bot.discord_app.ui import LABEL_LIMIT, cog_for
from bot.formatting import trim
from bot.quiz import QuestionState

COG_NAME = "Quiz"
LETTERS = "ABCDEFGH"


class TakesAnswers(Protocol):
    async def on_answer(
        self, interaction: discord.Interaction, game_id: int, number: int, choice: int
    ) -> None: ...


class QuizAnswerButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"quiz:(?P<game>\d+):(?P<number>\d+):(?P<choice>\d)",
):
    """One answer choice. Game, question and choice live in the custom_id."""

    def __init__(self, game_id: int, number: int, choice: int, label: str, disabled: bool = False):
        super().__init__(
            discord.ui.Button(
                label=trim(f"{LETTERS[choice]}. {label}", LABEL_LIMIT),
                style=discord.ButtonStyle.primary,
                custom_id=f"quiz:{game_id}:{number}:{choice}",
                disabled=disabled,
            )
        )
        self.game_id, self.number, self.choice = game_id, number, choice

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> QuizAnswerButton:
        label = item.label if isinstance(item, discord.ui.Button) else None  # it is one
        return cls(int(match["game"]), int(match["number"]), int(match["choice"]), label or "")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        cog: TakesAnswers | None = cog_for(interaction, COG_NAME)
        if cog is not None:
            await cog.on_answer(interaction, self.game_id, self.number, self.choice)


def question_view(state: QuestionState, disabled: bool = False) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for i, choice in enumerate(state.question.choices):
        view.add_item(QuizAnswerButton(state.game_id, state.number, i, choice, disabled))
    return view
