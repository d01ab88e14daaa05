"""Answers that need no model: fixed replies, unknown topics, the memory calculator's
answer, and the citations, related entries and notes an answer carries."""

from __future__ import annotations

from bot.answer.compose import Notes
from bot.answer.result import AnswerDraft, Source
from bot.errors import BotError
from bot.fit import answer_text, parse_fit_question
from bot.guard import Verdict
from bot.knowledge import Entry, KnowledgeBase
from bot.library import Library
from bot.prompts import Prompts

DEFAULT_SUGGESTIONS = (
    "What is inference?",
    "What is a KV cache?",
    "Why are GPUs fast at inference?",
)
REPLY_FOR = {
    Verdict.EMPTY: "empty",
    Verdict.TOO_LONG: "too_long",
    Verdict.NO_WORDS: "no_words",
    Verdict.OFF_TOPIC: "off_topic",
    Verdict.REFUSED: "refused",
    Verdict.GREETING: "greeting",
    Verdict.SECRETS: "secrets",
}


def fixed_reply(draft: AnswerDraft, verdict: Verdict, prompts: Prompts, max_chars: int) -> None:
    suggestions = ", ".join(f'"{s}"' for s in DEFAULT_SUGGESTIONS)
    draft.kind = REPLY_FOR[verdict]
    draft.answer = prompts.reply(draft.kind, suggestions=suggestions, max_chars=max_chars)


def unknown_reply(draft: AnswerDraft, question: str, lib: Library) -> None:
    hits = lib.retriever.search(question, limit=3)
    titles = [f'"{h.entry.title}"' for h in hits] or [f'"{s}"' for s in DEFAULT_SUGGESTIONS]
    draft.kind = "unknown"
    draft.answer = lib.prompts.reply("unknown", suggestions=", ".join(titles))


def fit_reply(draft: AnswerDraft, question: str, lib: Library) -> bool:
    """ "Can I run X on Y GB?": computed by the memory calculator, not written by the model."""
    if lib.catalog is None:
        return False
    query = parse_fit_question(question, lib.catalog)
    if query is None:
        return False
    try:
        draft.answer = answer_text(query, lib.catalog)
    except BotError as exc:
        draft.answer = str(exc)
    draft.grounded = True
    draft.entry_id = "model-memory" if "model-memory" in lib.kb.entries else None
    draft.sources = [Source("models.yaml", "Model architectures (knowledge/models.yaml)")]
    if draft.entry_id:
        draft.sources.append(Source(draft.entry_id, lib.kb.entries[draft.entry_id].title))
    return True


def cite(draft: AnswerDraft, notes: Notes, kb: KnowledgeBase) -> None:
    first = notes.passages[0]
    draft.entry_id = first.entry_id
    draft.sources = [Source(p.entry_id, p.title, p.id) for p in notes.passages]
    draft.related = related(kb.entries[first.entry_id], kb)
    draft.grounded = True


def related(entry: Entry, kb: KnowledgeBase) -> list[Source]:
    """Up to three related entries, for the buttons under an answer."""
    known = [rid for rid in entry.related if rid in kb.entries]
    return [Source(rid, kb.entries[rid].title) for rid in known[:3]]


def fallback_note(draft: AnswerDraft, prompts: Prompts) -> str:
    """Why the answer is curated text: the model was unavailable, or its draft failed."""
    if draft.model_error:
        return prompts.reply("model_unavailable", reason=draft.model_error)
    return prompts.reply("fallback_note")
