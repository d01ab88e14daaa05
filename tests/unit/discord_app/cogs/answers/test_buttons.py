"""The related-entry button of an answer, pressed with the answers cog loaded."""

from __future__ import annotations

from bot.discord_app.cogs.answers import AnswersCog, RelatedButton

from ...fakes import FakeClient, FakeInteraction, FakeUser

ASKER = FakeUser(42)


async def test_a_related_button_explains_its_entry_to_the_presser(
    cog: AnswersCog, client: FakeClient
) -> None:
    interaction = FakeInteraction(ASKER, client=client)
    await RelatedButton("training", "Training").callback(interaction)  # type: ignore[arg-type]
    assert interaction.response.deferred == {"ephemeral": True, "thinking": True}
    [sent] = interaction.followup.sent
    assert sent.kwargs["embed"].title == "Training"
    assert sent.kwargs["ephemeral"] is True
    assert "view" not in sent.kwargs  # no feedback recorded, and no related buttons here
