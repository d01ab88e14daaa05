"""/ask once the notes are chosen: the model writes from them, every sentence is checked,
and the answer falls back to the notes themselves when too little survives."""

from __future__ import annotations

from collections.abc import AsyncIterator, Hashable

from bot.answer.compose import Notes, build_messages, choose_notes
from bot.answer.replies import fallback_note
from bot.answer.result import AnswerDraft, Progress
from bot.answer.sentence_filter import (
    OPENING,
    SentenceFilter,
    asks_yes_no,
    expected_polarity,
    is_alternative,
)
from bot.answer.stance import normal_stance
from bot.answer.tuning import Tuning
from bot.answer.writer import extractive_answer, supporting_note, write_answer
from bot.config import GenerationConfig
from bot.library import Library
from bot.worker import InferenceWorker

UNLIMITED = 10**6


def sentence_filter_for(
    notes: Notes, question: str, lib: Library, tuning: Tuning
) -> tuple[SentenceFilter, bool | None, str]:
    """The checks for this question's sentences, the notes' own yes/no (or None), and the
    words an answer opens with when it does not give that yes/no itself ("" for the FAQ's
    own Yes/No, which the extractive answer keeps; "Yes, that is expected." for "is this
    normal?" when the notes explain it as expected: `normal_stance`)."""
    alternative = is_alternative(question)
    asked_yes_no = asks_yes_no(question)
    polarity = expected_polarity(
        notes,
        asked_yes_no,
        alternative,
        question,
        tuning.same_answer_polarity,
        tuning.same_answer_with_words,
    )
    opening = ""
    if polarity is None:
        polarity = normal_stance(notes, question, tuning.normal_stance_floor)
        if polarity is not None:
            opening = lib.prompts.reply("expected_yes" if polarity else "expected_no")
    yes_no = polarity is not None or (asked_yes_no and not alternative)
    checks = SentenceFilter(
        notes,
        lib.false_claims,
        yes_no,
        tuning.min_novelty,
        question=question,
        min_support=tuning.min_support,
        min_one_source=tuning.min_one_source,
        polarity=polarity,
        min_beyond_question=tuning.min_beyond_question,
    )
    return checks, polarity, opening


async def first_prompt(lib: Library, question: str, tuning: Tuning) -> list[dict[str, str]]:
    """The exact prompt the model gets for a first question (the benchmark gives raw
    llama.cpp the same one)."""
    question = lib.guard.screen(question).question
    notes = choose_notes(await lib.index.search(question), tuning)
    if not notes.passages:
        return []
    _, polarity, _ = sentence_filter_for(notes, question, lib, tuning)
    return build_messages(lib.prompts, notes, question, polarity, tuning.prompt_question_chars)


async def write_grounded(
    draft: AnswerDraft,
    question: str,
    notes: Notes,
    lib: Library,
    worker: InferenceWorker,
    generation: GenerationConfig,
    tuning: Tuning,
    started: float,
    stop_early: bool = True,
    asker: Hashable = None,
    use_model: bool = True,
) -> AsyncIterator[str | Progress]:
    """Yield the answer's text as it passes the checks (and Progress while queued).
    `use_model` False (the message tried to instruct the bot): the notes answer alone."""
    checks, polarity, opening = sentence_filter_for(notes, question, lib, tuning)
    if not use_model:
        draft.answer = extractive_answer(
            notes, tuning.extractive_words, question, polarity, tuning.min_novelty, opening
        )
        yield draft.answer
        return
    messages = build_messages(lib.prompts, notes, question, polarity, tuning.prompt_question_chars)
    written: list[str] = []
    async for item in write_answer(
        worker,
        messages,
        generation,
        checks,
        draft,
        tuning.max_sentences if stop_early else UNLIMITED,
        started,
        tuning.max_rejected if stop_early else UNLIMITED,
        asker,
    ):
        if isinstance(item, Progress):
            yield item
            continue
        text = item.text
        if not written and polarity is not None and not OPENING.match(text):
            text = (opening or ("Yes." if polarity else "No.")) + " " + text
        written.append(text)
        yield (" " if len(written) > 1 else "") + text
    if len(written) >= tuning.min_sentences:
        draft.model_sentences = len(written)
        support = supporting_note(notes, written, tuning, question)
        if support:
            yield " " + support
        draft.answer = " ".join([*written, support] if support else written)
        return
    draft.fallback = True
    draft.note = fallback_note(draft, lib.prompts)
    draft.answer = extractive_answer(
        notes, tuning.extractive_words, question, polarity, tuning.min_novelty, opening
    )
    yield draft.answer
