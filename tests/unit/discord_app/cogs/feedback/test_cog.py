"""The feedback cog: a vote on a bot that records no feedback."""

from __future__ import annotations

from bot.discord_app.cogs.feedback import FeedbackCog
from bot.discord_app.deps import BotDeps

from ...fakes import FakeClient, FakeInteraction, FakeUser

ASKER = FakeUser(42)


async def test_a_vote_without_feedback_is_thanked_privately(deps: BotDeps) -> None:
    cog = FeedbackCog(FakeClient(), deps)  # type: ignore[arg-type]
    interaction = FakeInteraction(ASKER)
    await cog.record_vote(interaction, 1, True)  # type: ignore[arg-type]
    [sent] = interaction.response.sent
    assert sent.content == "Thanks! Feedback isn't recorded on this bot."
    assert sent.kwargs["ephemeral"] is True
