"""AnswerDelivery: streamed, throttled edits; the final embed and its buttons; the memory
that lets a reply follow up; refusals before anything is shown. A real Tutor on
ScriptedBackend and the fixture knowledge; a FakeSurface records what Discord would get."""

from __future__ import annotations

import itertools
from typing import Any

from scripted_backend import ScriptedBackend

from bot.discord_app.cogs.answers.delivery import AnswerDelivery, Conversations
from bot.discord_app.ui import ANSWER_COLOUR
from bot.formatting import CURSOR, figures_footer
from bot.pipeline import AnswerResult, Conversation, Tutor

from ...fakes import FakeSurface

NOVEL = "A chatbot reply is produced by inference on a model that finished training months earlier."
LONG = " ".join([NOVEL] * 4)
USER = 42


def delivery_for(tutor: Tutor, interval_s: float = 0.05, **kwargs: Any) -> AnswerDelivery:
    return AnswerDelivery(tutor, interval_s, **kwargs)


class RecordingFeedback:
    """Stands in for bot.feedback.Feedback: every answer gets the next id."""

    enabled = True

    def __init__(self) -> None:
        self.recorded: list[tuple[AnswerResult, str]] = []

    def record(self, result: AnswerResult, source: str, retriever: object) -> int:
        self.recorded.append((result, source))
        return 100 + len(self.recorded)


async def test_the_final_embed_is_the_answer_with_sources_and_figures(
    tutor: Tutor, backend: ScriptedBackend
) -> None:
    backend.enqueue(NOVEL)
    surface = FakeSurface()
    result = await delivery_for(tutor).deliver(surface, USER, "what is inference?")
    assert result is not None and result.kind == "answer"
    final = surface.final.embed
    assert final.title == "what is inference?"
    assert final.description == result.answer
    assert final.colour == ANSWER_COLOUR
    assert [f.name for f in final.fields] == ["Sources"]
    assert "`inference`" in (final.fields[0].value or "")
    assert final.footer.text == figures_footer(result)
    assert CURSOR not in (final.description or "")


async def test_related_entries_become_buttons_and_no_votes_without_feedback(
    tutor: Tutor, backend: ScriptedBackend
) -> None:
    backend.enqueue(NOVEL)
    surface = FakeSurface()
    await delivery_for(tutor).deliver(surface, USER, "what is inference?")
    assert surface.final.custom_ids == ["related:training", "related:quantization"]
    # Buttons only on the final state; the drafts carry none.
    assert all(shown.view is None for shown in surface.shown[:-1])


async def test_a_recorded_answer_gets_the_vote_buttons(
    tutor: Tutor, backend: ScriptedBackend
) -> None:
    backend.enqueue(NOVEL)
    feedback = RecordingFeedback()
    surface = FakeSurface()
    delivery = delivery_for(tutor, feedback=feedback)  # type: ignore[arg-type]
    result = await delivery.deliver(surface, USER, "what is inference?")
    assert feedback.recorded == [(result, "discord")]
    assert surface.final.custom_ids[-2:] == ["feedback:101:up", "feedback:101:down"]


async def test_drafts_show_the_cursor_and_the_status_and_edits_are_throttled(
    tutor: Tutor, backend: ScriptedBackend
) -> None:
    backend.delay_s = 0.01  # about 60 words: well over half a second of streaming
    backend.enqueue(LONG)
    surface = FakeSurface()
    interval = 0.1
    await delivery_for(tutor, interval).deliver(surface, USER, "what is inference?")
    drafts = surface.shown[:-1]
    assert len(drafts) >= 2, "too few drafts to see the throttle"
    assert all((d.embed.description or "").endswith(CURSOR) for d in drafts)
    assert drafts[0].embed.footer.text in (
        "Thinking…",
        "Checking the model's additions against the sources…",
    )
    times = [shown.at for shown in surface.shown]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps) >= interval * 0.9, gaps  # never more often than once per interval
    elapsed = times[-1] - times[0]
    assert len(surface.shown) <= elapsed / interval + 2


async def test_a_reply_to_an_answer_continues_its_conversation(
    tutor: Tutor, backend: ScriptedBackend
) -> None:
    delivery = delivery_for(tutor)
    first, second = FakeSurface(), FakeSurface()
    backend.enqueue(NOVEL, NOVEL)
    await delivery.deliver(first, USER, "what is inference?")
    assert delivery.conversations.knows(first.message_id)
    assert len(delivery.conversations.for_reply_to(first.message_id).turns) == 1
    await delivery.deliver(second, USER, "and on a GPU?", reply_to=first.message_id)
    assert len(delivery.conversations.for_reply_to(second.message_id).turns) == 2
    # The earlier answer's memory is copied, not shared: it still has one turn.
    assert len(delivery.conversations.for_reply_to(first.message_id).turns) == 1
    assert delivery.conversations.for_reply_to(None).turns == []
    assert delivery.conversations.for_reply_to(123).turns == []


def test_conversations_forget_the_oldest_beyond_their_capacity() -> None:
    conversations = Conversations(capacity=2)
    for message_id in (1, 2, 3):
        conversations.remember(message_id, Conversation())
    assert not conversations.knows(1)
    assert conversations.knows(2) and conversations.knows(3)


async def test_too_many_open_questions_are_refused_before_anything_is_shown(
    tutor: Tutor,
) -> None:
    delivery = delivery_for(tutor)
    for _ in range(tutor.admission.per_user_queued):
        assert tutor.admission.try_enter(USER).ok
    surface = FakeSurface()
    assert await delivery.deliver(surface, USER, "what is inference?") is None
    assert surface.shown == []
    assert surface.refused == [
        tutor.library.prompts.reply("busy", count=tutor.admission.per_user_queued)
    ]
    assert tutor.admission.open_questions(USER) == tutor.admission.per_user_queued


async def test_a_user_over_the_rate_limit_is_refused(tutor: Tutor) -> None:
    while tutor.admission.charge(USER).ok:
        pass
    surface = FakeSurface()
    assert await delivery_for(tutor).deliver(surface, USER, "what is inference?") is None
    assert surface.shown == []
    assert len(surface.refused) == 1 and "faster than I can answer" in surface.refused[0]


async def test_an_admitted_question_leaves_the_admission_when_done(
    tutor: Tutor, backend: ScriptedBackend
) -> None:
    delivery = delivery_for(tutor)
    assert delivery.refusal(USER) is None  # opens the question
    assert tutor.admission.open_questions(USER) == 1
    backend.enqueue(NOVEL)
    await delivery.deliver(FakeSurface(), USER, "what is inference?", admitted=True)
    assert tutor.admission.open_questions(USER) == 0


async def test_a_fixed_reply_is_shown_without_buttons(tutor: Tutor) -> None:
    surface = FakeSurface()
    result = await delivery_for(tutor).deliver(surface, USER, "hello!")
    assert result is not None and result.kind != "answer"
    assert surface.final.view is None
    assert surface.final.embed.description == result.answer
