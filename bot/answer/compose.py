"""What the model is given: a few numbered passages (within a token budget) and the question.

Every token of notes costs prefill time (~12 ms each with the default 0.5B model on 2
cores), so only the passages that answer the question go in, best first, and the fixed
system prompt comes first so it is computed once and reused from the cache.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.answer.passages import Passage
from bot.answer.selection import Selection
from bot.answer.tuning import Tuning
from bot.prompts import Prompts
from bot.text import sentences

Message = dict[str, str]


def estimate_tokens(text: str) -> int:
    """A cheap token estimate for budgeting (English averages ~4 characters a token)."""
    return max(1, len(text) // 4)


@dataclass(frozen=True)
class Notes:
    """The numbered passages one answer is written from; note n is passages[n - 1]."""

    passages: tuple[Passage, ...]
    # per passage: how close the user's question is to the FAQ's own question (e5 cosine;
    # None: not a FAQ or no embeddings). Empty when unknown.
    same_question: tuple[float | None, ...] = ()

    def render(self) -> str:
        return "\n".join(f"[{n}] {p.title}: {p.text}" for n, p in enumerate(self.passages, 1))

    def get(self, number: int) -> Passage | None:
        return self.passages[number - 1] if 1 <= number <= len(self.passages) else None


def choose_notes(selection: Selection, tuning: Tuning) -> Notes:
    """The best passages that fit the budget; runners-up far below the best are left out."""
    if not selection.ranked:
        return Notes(())
    best = selection.ranked[0].score
    chosen: list[Passage] = []
    asked: list[float | None] = []
    used = 0
    for scored in selection.ranked:
        if len(chosen) >= tuning.prompt_passages:
            break
        if chosen and scored.score < best * tuning.relative_cutoff:
            break
        cost = estimate_tokens(scored.passage.text)
        if chosen and used + cost > tuning.prompt_token_budget:
            continue
        if any(p.text == scored.passage.text for p in chosen):
            continue
        chosen.append(scored.passage)
        asked.append(scored.same_question)
        used += cost
    return Notes(tuple(chosen), tuple(asked))


def focus(question: str, max_chars: int) -> str:
    """A long post as the model reads it: the sentences that ask, its first sentence
    (usually the setup) and the sentence before the first ask, within `max_chars`. Every
    token costs prefill time, and the small model echoes the story of a long post instead
    of answering it."""
    if len(question) <= max_chars:
        return question
    parts = sentences(question)
    asking = [n for n, s in enumerate(parts) if "?" in s] or [len(parts) - 1]
    wanted = [*reversed(asking), 0, max(asking[0] - 1, 0)]
    keep: list[int] = []
    used = 0
    for n in dict.fromkeys(wanted):
        if used + len(parts[n]) > max_chars and keep:
            continue
        keep.append(n)
        used += len(parts[n]) + 5
    shown = ""
    for n in sorted(keep):
        shown += (" " if n - 1 in keep else " ... ") + parts[n] if shown else parts[n]
    return shown[:max_chars]


def build_messages(
    prompts: Prompts,
    notes: Notes,
    question: str,
    polarity: bool | None = None,
    max_question_chars: int = 10**6,
) -> list[Message]:
    """`polarity`: the yes/no answer the best note gives, which the model is told to open
    with; a question over `max_question_chars` is shortened (`focus`)."""
    lead = {True: "lead_yes", False: "lead_no", None: "lead_direct"}[polarity]
    user = prompts.render(
        "answer",
        context=notes.render(),
        question=focus(question, max_question_chars),
        lead=prompts.reply(lead),
    )
    return [{"role": "system", "content": prompts.system}, {"role": "user", "content": user}]


def warmup_messages(prompts: Prompts) -> list[dict[str, str]]:
    """The fixed start of every prompt, computed once at start-up (and its state saved)."""
    return [{"role": "system", "content": prompts.system}, {"role": "user", "content": "NOTES:"}]
