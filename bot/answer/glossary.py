"""/define and /analogy: the entry a term names, its curated text first, the model adding
at most a couple of checked sentences after it."""

from __future__ import annotations

import difflib
from collections.abc import AsyncIterator, Hashable

from bot.answer.compose import Notes
from bot.answer.passages import entry_passages
from bot.answer.replies import fallback_note, related
from bot.answer.result import AnswerDraft, Progress, Source
from bot.answer.sentence_filter import SentenceFilter
from bot.answer.tuning import Tuning
from bot.answer.writer import write_answer
from bot.config import GenerationConfig
from bot.knowledge import Entry, KnowledgeBase
from bot.library import Library
from bot.prompts import Prompts
from bot.retrieval import Retriever
from bot.text import content_stems, words
from bot.worker import InferenceWorker

MAX_MODEL_SENTENCES = 2
FEATURED_TERMS = ("inference", "kv-cache", "quantization", "tokens")


def lookup_term(
    term: str, kb: KnowledgeBase, retriever: Retriever, min_score: float
) -> Entry | None:
    """The entry a term names exactly, by stems ("kv caches"), or clearly by retrieval."""
    norm = " ".join(words(term))
    if not norm:
        return None
    for entry in kb.entries.values():
        if any(" ".join(words(n)) == norm for n in entry.names):
            return entry
    for entry in kb.entries.values():
        if any(content_stems(n) == content_stems(term) for n in entry.names):
            return entry
    hits = retriever.search(term, limit=1)
    if hits and hits[0].score >= min_score * 2:
        return hits[0].entry
    return None


def close_terms(term: str, kb: KnowledgeBase, retriever: Retriever) -> list[str]:
    by_lower = {name.lower(): name for name, _ in kb.glossary()}
    close = [by_lower[n] for n in difflib.get_close_matches(term.lower(), by_lower, 3, 0.45)]
    hits = [h.entry.title for h in retriever.search(term, limit=3)]
    featured = [kb.entries[i].title for i in FEATURED_TERMS if i in kb.entries]
    return close or hits or featured


def curated(entry: Entry, mode: str) -> tuple[str, str]:
    """The curated lead and body for /define or /analogy."""
    if mode == "analogy" and entry.analogy:
        return entry.analogy, entry.definition
    return entry.definition, f"Example: {entry.example}"


async def explain(
    draft: AnswerDraft,
    entry: Entry,
    mode: str,
    prompts: Prompts,
    worker: InferenceWorker,
    params: GenerationConfig,
    false_claims: list,
    tuning: Tuning,
    started: float,
    use_model: bool = True,
    owner: Hashable = None,
) -> AsyncIterator[str | Progress]:
    lead, body = curated(entry, mode)
    shown = f"{lead}\n\n{body}"
    yield shown
    draft.answer = shown
    if not use_model:
        return
    notes = Notes(tuple(entry_passages(entry)))
    context = f"[{entry.title}] {entry.definition}"
    user = prompts.render(mode, context=context, term=entry.title)
    messages = [{"role": "system", "content": prompts.system}, {"role": "user", "content": user}]
    sentence_filter = SentenceFilter(notes, false_claims, False, tuning.min_novelty)
    sentence_filter.seed(shown)
    extra: list[str] = []
    async for item in write_answer(
        worker,
        messages,
        params,
        sentence_filter,
        draft,
        MAX_MODEL_SENTENCES,
        started,
        owner=owner,
    ):
        if isinstance(item, Progress):
            yield item
            continue
        extra.append(item.text)
        yield ("\n\n" if len(extra) == 1 else " ") + item.text
    draft.model_sentences = len(extra)
    draft.fallback = not extra
    draft.answer = shown + ("\n\n" + " ".join(extra) if extra else "")


async def explain_term(
    draft: AnswerDraft,
    term: str,
    mode: str,
    lib: Library,
    worker: InferenceWorker,
    params: GenerationConfig,
    tuning: Tuning,
    started: float,
    min_score: float,
    use_model: bool = True,
    owner: Hashable = None,
) -> AsyncIterator[str | Progress]:
    """/define and /analogy: the entry the term names, or close names when none does."""
    entry = lookup_term(term, lib.kb, lib.retriever, min_score)
    if entry is None:
        draft.kind = "unknown"
        close = close_terms(term, lib.kb, lib.retriever)
        shown = " ".join(term.split())[:60]
        draft.answer = lib.prompts.reply("unknown_term", term=shown, suggestions=", ".join(close))
        yield draft.answer
        return
    draft.entry_id = entry.id
    draft.sources = [Source(entry.id, entry.title)]
    draft.related = related(entry, lib.kb)
    draft.grounded = True
    steps = explain(
        draft,
        entry,
        mode,
        lib.prompts,
        worker,
        params,
        lib.false_claims,
        tuning,
        started,
        use_model=use_model,
        owner=owner,
    )
    async for item in steps:
        yield item
    if draft.fallback:
        draft.note = fallback_note(draft, lib.prompts)
