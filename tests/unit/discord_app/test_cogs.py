"""The feature cogs as a whole (bot.discord_app.cogs): how every dynamic button reaches its
cog, and what each extension's setup registers."""

from __future__ import annotations

from typing import Any

import pytest

from bot.discord_app.cogs import answers, feedback, quiz, settings
from bot.discord_app.cogs.answers import RelatedButton
from bot.discord_app.cogs.feedback import FeedbackButton
from bot.discord_app.cogs.quiz import QuizAnswerButton
from bot.discord_app.deps import BotDeps

from .fakes import FakeClient, FakeInteraction, FakeUser

ASKER = FakeUser(42)


# -- every button kind reaches its cog the same way -----------------------------------------------
class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, name: str) -> Any:
        async def handler(interaction: Any, *args: Any) -> None:
            self.calls.append((name, args))

        return handler


@pytest.mark.parametrize(
    ("button", "cog_name", "call_made"),
    [
        (RelatedButton("training"), "Answers", ("explain_entry", ("training",))),
        (FeedbackButton(7, False), "Feedback", ("record_vote", (7, False))),
        (QuizAnswerButton(3, 2, 1, "B"), "Quiz", ("on_answer", (3, 2, 1))),
    ],
)
async def test_each_button_routes_its_press_through_its_cog(
    button: Any, cog_name: str, call_made: tuple[str, tuple[Any, ...]]
) -> None:
    recorder = Recorder()
    await button.callback(FakeInteraction(ASKER, client=FakeClient({cog_name: recorder})))
    assert recorder.calls == [call_made]
    await button.callback(FakeInteraction(ASKER, client=FakeClient()))  # cog not loaded: no-op


# -- the extensions' setup ------------------------------------------------------------------------
async def test_each_extension_registers_its_buttons_and_its_cog(deps: BotDeps) -> None:
    client = FakeClient()
    client.deps = deps
    await answers.setup(client)  # type: ignore[arg-type]
    await feedback.setup(client)  # type: ignore[arg-type]
    await settings.setup(client)  # type: ignore[arg-type]
    assert client.dynamic_items == [RelatedButton, FeedbackButton]
    assert set(client.cogs) == {"Answers", "Feedback", "Settings"}
    assert quiz.setup is not None  # the quiz needs a real engine: see tests/e2e
