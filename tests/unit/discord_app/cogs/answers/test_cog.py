"""The answers cog's handlers (slash commands, autocomplete, /reload, mentions and DMs, an
entry that is gone) against fake interactions and messages, with a real Tutor on
ScriptedBackend."""

from __future__ import annotations

from typing import Any

from scripted_backend import ScriptedBackend

from bot.discord_app.cogs.answers import AnswersCog
from bot.discord_app.ui import NO_MENTIONS
from bot.guild_settings import GuildSettingsService

from ...fakes import (
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


# -- an entry asked for by its related-entry button ---------------------------------------------
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
