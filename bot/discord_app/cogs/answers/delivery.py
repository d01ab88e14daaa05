"""Showing one answer in Discord: thinking, streamed edits at most ~1/s, final state.

The same flow serves slash commands (editing the interaction's original response) and
mentions/DMs (a reply message that is then edited), through the small `Surface` classes.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import TypedDict

import discord

from bot.discord_app.cogs.answers.buttons import answer_view
from bot.discord_app.ui import CONTENT_LIMIT, NO_MENTIONS, answer_embed
from bot.feedback import Feedback
from bot.formatting import CURSOR, EditThrottle, defuse_mentions, queue_text, trim
from bot.pipeline import AnswerResult, Conversation, Progress, Tutor

log = logging.getLogger(__name__)
CHECKING = "Checking the model's additions against the sources…"


class Drawn(TypedDict, total=False):
    """What `show` passes to discord.py: `view` is left out when there is none (for an edit,
    view=None would remove the buttons already there)."""

    embed: discord.Embed
    view: discord.ui.View
    allowed_mentions: discord.AllowedMentions


class Surface:
    """Where an answer is drawn. `show` is called at most about once a second."""

    async def show(self, embed: discord.Embed, view: discord.ui.View | None = None) -> int | None:
        raise NotImplementedError

    async def refuse(self, text: str) -> None:
        raise NotImplementedError


class InteractionSurface(Surface):
    def __init__(self, interaction: discord.Interaction) -> None:
        self.interaction = interaction

    async def show(self, embed: discord.Embed, view: discord.ui.View | None = None) -> int | None:
        kwargs: Drawn = {"embed": embed, "allowed_mentions": NO_MENTIONS}
        if view is not None:
            kwargs["view"] = view
        message = await self.interaction.edit_original_response(**kwargs)
        return message.id

    async def refuse(self, text: str) -> None:
        if self.interaction.response.is_done():
            await self.interaction.followup.send(
                trim(text, CONTENT_LIMIT), ephemeral=True, allowed_mentions=NO_MENTIONS
            )
        else:
            await self.interaction.response.send_message(
                trim(text, CONTENT_LIMIT), ephemeral=True, allowed_mentions=NO_MENTIONS
            )


class MessageSurface(Surface):
    """A reply to the user's message, created on first show and edited afterwards."""

    def __init__(self, message: discord.Message) -> None:
        self.message = message
        self.reply: discord.Message | None = None

    async def show(self, embed: discord.Embed, view: discord.ui.View | None = None) -> int | None:
        kwargs: Drawn = {"embed": embed, "allowed_mentions": NO_MENTIONS}
        if view is not None:
            kwargs["view"] = view
        if self.reply is None:
            self.reply = await self.message.reply(mention_author=False, **kwargs)
        else:
            self.reply = await self.reply.edit(**kwargs)
        return self.reply.id

    async def refuse(self, text: str) -> None:
        await self.message.reply(
            trim(defuse_mentions(text), CONTENT_LIMIT),
            mention_author=False,
            allowed_mentions=NO_MENTIONS,
        )


class Conversations:
    """Remembers which question each bot answer was for, so replies can follow up."""

    def __init__(self, capacity: int = 1000) -> None:
        self._by_message: OrderedDict[int, Conversation] = OrderedDict()
        self.capacity = capacity

    def for_reply_to(self, message_id: int | None) -> Conversation:
        earlier = self._by_message.get(message_id) if message_id else None
        return Conversation(list(earlier.turns)) if earlier else Conversation()

    def knows(self, message_id: int) -> bool:
        return message_id in self._by_message

    def remember(self, message_id: int, conversation: Conversation) -> None:
        self._by_message[message_id] = conversation
        self._by_message.move_to_end(message_id)
        while len(self._by_message) > self.capacity:
            self._by_message.popitem(last=False)


class AnswerDelivery:
    def __init__(
        self,
        tutor: Tutor,
        edit_interval_s: float,
        feedback: Feedback | None = None,
        conversations: Conversations | None = None,
    ) -> None:
        self.tutor = tutor
        self.admission = tutor.admission
        self.edit_interval_s = edit_interval_s
        self.feedback = feedback  # records each answer; None or disabled: no vote buttons
        self.conversations = conversations or Conversations()

    def refusal(self, user_id: int) -> str | None:
        """Open a question for the user (then `deliver(..., admitted=True)` must follow) or
        say why not, before anything is shown: too many open questions, or a user already
        over the rate limit. The pipeline charges the rate limit, and only for questions
        that need the model, so fixed replies never count."""
        prompts = self.tutor.library.prompts
        wait_s = self.admission.rate_wait(user_id)
        if wait_s > 0:
            return prompts.reply("rate_limited", wait_s=max(1, round(wait_s)))
        if not self.admission.try_enter(user_id).ok:
            return prompts.reply("busy", count=self.admission.per_user_queued)
        return None

    async def deliver(
        self,
        surface: Surface,
        user_id: int,
        question: str,
        mode: str = "ask",
        reply_to: int | None = None,
        admitted: bool = False,
    ) -> AnswerResult | None:
        if not admitted:
            refusal = self.refusal(user_id)
            if refusal is not None:
                await surface.refuse(refusal)
                return None
        try:
            return await self._stream(surface, user_id, question, mode, reply_to)
        finally:
            self.admission.leave(user_id)

    async def _stream(
        self, surface: Surface, user_id: int, question: str, mode: str, reply_to: int | None
    ) -> AnswerResult:
        conversation = self.conversations.for_reply_to(reply_to)
        throttle = EditThrottle(self.edit_interval_s)
        text, status = "", queue_text(self.tutor.worker.queue_length + 1)
        result: AnswerResult | None = None
        pending: asyncio.Task | None = None
        drawn: tuple[str, str] | None = None

        async def draw(snapshot: tuple[str, str]) -> None:
            nonlocal drawn
            throttle.mark()
            drawn = snapshot
            await surface.show(answer_embed(question, snapshot[0] + CURSOR, None, snapshot[1]))

        async for item in self.tutor.stream(question, mode, conversation, user_id):
            if isinstance(item, AnswerResult):
                result = item
                break
            if isinstance(item, Progress):
                status = queue_text(item.position)
            else:
                text += item
                status = CHECKING
            idle = pending is None or pending.done()
            if idle and throttle.ready() and (text, status) != drawn:
                pending = asyncio.create_task(draw((text, status)))
        if pending is not None:
            await pending
        assert result is not None
        await asyncio.sleep(throttle.wait_time())
        message_id = await self._show_final(surface, question, result)
        conversation.add(result)
        if message_id is not None:
            self.conversations.remember(message_id, conversation)
        return result

    async def _show_final(
        self, surface: Surface, question: str, result: AnswerResult
    ) -> int | None:
        answer_id = await self.record(result)
        prompts = self.tutor.library.prompts
        caveat = prompts.reply("low_confidence_note") if result.low_confidence else None
        embed = answer_embed(question, result.answer, result, "", caveat)
        return await surface.show(embed, answer_view(result.related, answer_id))

    async def record(self, result: AnswerResult) -> int | None:
        """Keep the answer for the gaps report; its id for the feedback buttons."""
        if self.feedback is None or not self.feedback.enabled:
            return None
        retriever = self.tutor.library.retriever
        return await asyncio.to_thread(self.feedback.record, result, "discord", retriever)
