"""The answers cog's handlers (slash commands, autocomplete, /reload, mentions and DMs,
the related-entry button) against fake interactions and messages, with a real Tutor on
ScriptedBackend; and how every dynamic button reaches its cog."""

from __future__ import annotations

from typing import Any

import pytest
from scripted_backend import ScriptedBackend

from bot.discord_app.cogs import answers, feedback, quiz, settings
from bot.discord_app.cogs.answers import AnswersCog, RelatedButton
from bot.discord_app.cogs.feedback import FeedbackButton, FeedbackCog
from bot.discord_app.cogs.quiz import QuizAnswerButton
from bot.discord_app.deps import BotDeps, deps_of
from bot.discord_app.ui import NO_MENTIONS
from bot.guild_settings import GuildSettingsService

from .fakes import (
    FakeChannel,
    FakeClient,
    FakeGuild,
    FakeInteraction,
    FakeMessage,
    FakeReference,
    FakeUser,
)

NOVEL = "A chatbot reply is produced by inference on a model that finished training months earlier."
ASKER = FakeUser(42)


@pytest.fixture
def client() -> FakeClient:
    return FakeClient()


@pytest.fixture
def cog(client: FakeClient, deps: BotDeps) -> AnswersCog:
    cog = AnswersCog(client, deps)  # type: ignore[arg-type]
    client.cogs["Answers"] = cog
    return cog


async def call(command: Any, cog: Any, *args: Any) -> None:
    """Run a slash command's handler as discord.py does once it has parsed the options."""
    await command.callback(cog, *args)


# -- slash commands -------------------------------------------------------------------------------
async def test_ask_defers_publicly_then_edits_in_the_answer(
    cog: AnswersCog, backend: ScriptedBackend
) -> None:
    backend.enqueue(NOVEL)
    interaction = FakeInteraction(ASKER, client=cog.bot)  # type: ignore[arg-type]
    await call(cog.ask, cog, interaction, "what is inference?")
    assert interaction.response.deferred == {"thinking": True, "ephemeral": False}
    final = interaction.edits[-1]
    assert final["embed"].title == "what is inference?"
    assert final["allowed_mentions"] is NO_MENTIONS
    assert [b.custom_id for b in final["view"].children][:1] == ["related:training"]
    assert cog.delivery.conversations.knows(interaction.message_id)


async def test_a_server_with_private_answers_gets_them_privately(
    cog: AnswersCog, guild_settings: GuildSettingsService
) -> None:
    await guild_settings.set_private_answers(5, True)
    interaction = FakeInteraction(ASKER, guild_id=5)
    await call(cog.define, cog, interaction, "quantization")
    assert interaction.response.deferred == {"thinking": True, "ephemeral": True}
    assert interaction.edits[-1]["embed"].title == "quantization"


async def test_a_dm_command_is_public_whatever_a_server_says(
    cog: AnswersCog, guild_settings: GuildSettingsService
) -> None:
    await guild_settings.set_private_answers(5, True)
    interaction = FakeInteraction(ASKER, guild_id=None)
    await call(cog.analogy, cog, interaction, "inference")
    assert interaction.response.deferred == {"thinking": True, "ephemeral": False}


async def test_a_busy_asker_is_refused_privately_without_deferring(cog: AnswersCog) -> None:
    admission = cog.deps.tutor.admission
    for _ in range(admission.per_user_queued):
        admission.try_enter(ASKER.id)
    interaction = FakeInteraction(ASKER)
    await call(cog.ask, cog, interaction, "what is inference?")
    assert interaction.response.deferred is None and interaction.edits == []
    [sent] = interaction.response.sent
    assert "questions waiting" in (sent.content or "")
    assert sent.kwargs == {"ephemeral": True, "allowed_mentions": NO_MENTIONS}


async def test_glossary_autocomplete_offers_each_entry_once(cog: AnswersCog) -> None:
    choices = await cog.glossary_autocomplete(FakeInteraction(ASKER), "quant")  # type: ignore[arg-type]
    assert len(choices) == 1 and "quant" in choices[0].name.lower()
    everything = await cog.glossary_autocomplete(FakeInteraction(ASKER), "")  # type: ignore[arg-type]
    assert len(everything) == 4  # the four fixture entries, one name each


async def test_reload_is_for_the_owner_only(cog: AnswersCog, client: FakeClient) -> None:
    stranger = FakeInteraction(FakeUser(7))
    await call(cog.reload, cog, stranger)
    assert "Only the bot's owner" in (stranger.response.sent[0].content or "")
    client.owners.add(8)
    owner = FakeInteraction(FakeUser(8))
    await call(cog.reload, cog, owner)
    assert owner.response.deferred == {"ephemeral": True, "thinking": True}
    assert owner.followup.sent[0].content == "Reloaded 4 knowledge entries and the prompts."


# -- the related-entry button -----------------------------------------------------------------
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


async def test_a_related_button_for_a_removed_entry_says_so(cog: AnswersCog) -> None:
    interaction = FakeInteraction(ASKER)
    await cog.explain_entry(interaction, "no-such-entry")  # type: ignore[arg-type]
    assert interaction.response.sent[0].content == "That entry is no longer in my notes."


# -- mentions and DMs ---------------------------------------------------------------------------
def message(content: str, **kwargs: Any) -> FakeMessage:
    return FakeMessage(author=ASKER, content=content, **kwargs)


async def test_a_dm_is_answered_with_a_reply_that_is_then_edited(
    cog: AnswersCog, backend: ScriptedBackend
) -> None:
    backend.enqueue(NOVEL)
    dm = message("what is inference?")
    await cog.on_message(dm)  # type: ignore[arg-type]
    [reply] = dm.replies
    assert reply.kwargs["mention_author"] is False
    assert reply.last_embed.title == "what is inference?"
    assert reply.last_embed.fields[0].name == "Sources"


async def test_a_mention_in_a_server_is_answered_without_the_mention(
    cog: AnswersCog, client: FakeClient
) -> None:
    mention = message(f"<@{client.user.id}> what is quantization?", guild=FakeGuild())
    mention.mentions.append(client.user)
    await cog.on_message(mention)  # type: ignore[arg-type]
    assert mention.replies[0].last_embed.title == "what is quantization?"


async def test_server_messages_without_a_mention_and_bots_are_ignored(
    cog: AnswersCog, client: FakeClient
) -> None:
    plain = message("what is inference?", guild=FakeGuild())
    from_bot = FakeMessage(author=FakeUser(99, bot=True), content="what is inference?")
    for msg in (plain, from_bot):
        await cog.on_message(msg)  # type: ignore[arg-type]
        assert msg.replies == []


async def test_a_reply_to_an_earlier_answer_is_a_follow_up(
    cog: AnswersCog, backend: ScriptedBackend
) -> None:
    backend.enqueue(NOVEL, NOVEL)
    first = message("what is inference?")
    await cog.on_message(first)  # type: ignore[arg-type]
    answer_id = first.replies[0].id
    follow_up = message("and on a GPU?", guild=FakeGuild(), reference=FakeReference(answer_id))
    await cog.on_message(follow_up)  # type: ignore[arg-type]
    assert follow_up.replies, "a reply to the bot's answer needs no mention"
    turns = cog.delivery.conversations.for_reply_to(follow_up.replies[0].id).turns
    assert len(turns) == 2


async def test_mentions_outside_the_listed_channels_are_ignored(
    cog: AnswersCog, client: FakeClient, guild_settings: GuildSettingsService
) -> None:
    await guild_settings.add_channel(5, 70)
    elsewhere = message(f"<@{client.user.id}> what is inference?", guild=FakeGuild())
    elsewhere.mentions.append(client.user)
    await cog.on_message(elsewhere)  # type: ignore[arg-type]
    assert elsewhere.replies == []
    in_thread = message(
        f"<@{client.user.id}> what is inference?",
        guild=FakeGuild(),
        channel=FakeChannel(id=71, parent_id=70),
    )
    in_thread.mentions.append(client.user)
    await cog.on_message(in_thread)  # type: ignore[arg-type]
    assert in_thread.replies


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


async def test_a_vote_without_feedback_is_thanked_privately(deps: BotDeps) -> None:
    cog = FeedbackCog(FakeClient(), deps)  # type: ignore[arg-type]
    interaction = FakeInteraction(ASKER)
    await cog.record_vote(interaction, 1, True)  # type: ignore[arg-type]
    [sent] = interaction.response.sent
    assert sent.content == "Thanks! Feedback isn't recorded on this bot."
    assert sent.kwargs["ephemeral"] is True


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


def test_a_bot_without_deps_is_refused() -> None:
    with pytest.raises(TypeError, match="carries no BotDeps"):
        deps_of(FakeClient())
