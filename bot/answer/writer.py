"""The model writes the answer: generation in the worker, each sentence filtered on arrival.

`write_answer` submits the prompt, reports the place in line while it waits, feeds every
piece to the sentence filter and yields only the sentences that passed. When too little
survives, `extractive_answer` gives the best notes themselves instead.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator, Hashable

from bot.answer.compose import Notes
from bot.answer.result import AnswerDraft, Progress
from bot.answer.sentence_filter import Accepted, SentenceFilter
from bot.answer.tuning import Tuning
from bot.config import GenerationConfig
from bot.errors import ModelUnavailable, QueueFull
from bot.guard import redact
from bot.text import content_stems, novelty, sentences
from bot.worker import InferenceWorker

log = logging.getLogger(__name__)

PROGRESS_EVERY_S = 0.5  # how often a queued answer reports its place in line
# A FAQ answer opens with the reply to its own question; "Because ..." only reads as an
# answer to a why-question
BECAUSE = re.compile(r"^Because,?\s+(?!of\b)(?=\w)")  # "Because of sampling: ..." stays
WHY = re.compile(r"\b(why|how come|reason)\b", re.IGNORECASE)
# ... and "No - ..." only answers its own question: to "is running llama on a CPU viable?"
# the "No - it was built to run on CPUs" of "does llama.cpp need a GPU?" says the opposite
VERDICT = re.compile(
    r"^(?:Yes|No|Not really|Not necessarily|Not always|Almost certainly not)\s*[-–—,.:]\s+(?=\w)"
)


async def write_answer(
    worker: InferenceWorker,
    messages: list[dict[str, str]],
    params: GenerationConfig,
    sentence_filter: SentenceFilter,
    draft: AnswerDraft,
    max_sentences: int,
    started: float,
    max_rejected: int = 10**6,
    owner: Hashable = None,
) -> AsyncIterator[Accepted | Progress]:
    """Yield the model's accepted sentences (and Progress while queued). `owner` (a user
    id) takes its turn in the worker's fair queue."""
    draft.prompt_messages = messages
    try:
        ticket = worker.submit(messages, params, owner)
    except (ModelUnavailable, QueueFull) as exc:
        log.warning("model unavailable: %s", exc)
        draft.model_error = str(exc)
        return
    try:
        while True:
            waiting = draft.timings.first_token_ms is None
            try:
                piece = await ticket.get(timeout=PROGRESS_EVERY_S if waiting else None)
            except TimeoutError:
                if ticket.position() > 0:
                    yield Progress(ticket.position())
                continue
            if piece is None:
                break
            now = time.perf_counter()
            draft.loop_arrivals.append(now)
            if waiting:
                draft.timings.first_token_ms = (now - started) * 1000
            for accepted in sentence_filter.feed(piece):
                yield accepted
            if len(sentence_filter.accepted) >= max_sentences or (
                len(sentence_filter.rejected) >= max_rejected
            ):
                ticket.cancel()  # enough said, or the model has gone astray
                break
        if not ticket.cancelled:
            for accepted in sentence_filter.finish():
                yield accepted
    except (ModelUnavailable, QueueFull) as exc:
        log.warning("model unavailable during generation: %s", exc)
        draft.model_error = str(exc)
    finally:
        ticket.cancel()
        draft.stats = ticket.stats
        draft.rejected.extend(sentence_filter.rejected)


def as_said(text: str, question: str, keep_verdict: bool = False) -> str:
    """A note as a reply to this question: a FAQ's "Because ..." opening off unless the
    question asks why, and its "Yes -"/"No -" off unless `keep_verdict` (the FAQ asks what
    the user asked: `expected_polarity`)."""
    opening = None if keep_verdict else VERDICT.match(text)
    if opening is None and not WHY.search(question):
        opening = BECAUSE.match(text)
    if opening is None:
        return text
    rest = text[opening.end() :]
    first = rest.split(maxsplit=1)[0]
    # "single-stream" becomes "Single-stream"; "macOS", "tf.function" keep their spelling
    plain = first.islower() and not any(c in first for c in "._/")
    return rest[0].upper() + rest[1:] if plain else rest


def extractive_answer(
    notes: Notes,
    max_words: int,
    question: str = "",
    polarity: bool | None = None,
    min_novelty: float = 0.0,
    opening: str = "",
) -> str:
    """The best note, cited, then the next ones in rank order while the answer stays within
    `max_words` (a long post usually asks several things; one note rarely covers them); a
    note that mostly says again what the answer says (under `min_novelty` of its content
    words new) is skipped for the next one. `polarity`: the best note's yes/no answers this
    question (see `as_said`); `opening` goes first when the note itself gives no yes/no."""
    if not notes.passages:
        return ""
    best = as_said(notes.passages[0].text, question, keep_verdict=polarity is not None)
    if opening and not VERDICT.match(best):
        best = f"{opening} {best}"
    parts = [f"{best} [1]"]
    used = len(notes.passages[0].text.split())
    said = set(content_stems(best))
    for n, passage in enumerate(notes.passages[1:], 2):
        words = len(passage.text.split())
        stems = set(content_stems(passage.text))
        if used + words <= max_words and novelty(stems, said) >= min_novelty:
            parts.append(f"{as_said(passage.text, question)} [{n}]")
            used += words
            said |= stems
    return redact(" ".join(parts))


def supporting_note(notes: Notes, written: list[str], tuning: Tuning, question: str = "") -> str:
    """When the model's answer is short ("No, the KV cache does not make answers better."),
    the best note follows it, cited, so the why is there; nothing when it adds too little."""
    said = {s for text in written for s in content_stems(text)}
    if len(said) >= tuning.thin_answer_words or not notes.passages:
        return ""
    note = as_said(notes.passages[0].text, question)
    # the model often copies one of the note's sentences: that one is not said twice
    fresh = [
        s for s in sentences(note) if novelty(set(content_stems(s)), said) >= tuning.min_novelty
    ]
    kept = " ".join(fresh)
    if not fresh or novelty(set(content_stems(kept)), said) < tuning.min_novelty:
        return ""
    return redact(f"{kept} [1]")
