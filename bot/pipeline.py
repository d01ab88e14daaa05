"""The grounded answer pipeline, shared by the terminal and Discord front ends.

question -> screening (empty, too long, injection, off-topic) -> follow-up resolution ->
for /ask: passages selected (bot.answer.selection) -> the model writes the answer from a
few numbered notes (bot.answer.writer), every sentence checked on arrival
(bot.answer.sentence_filter) -> the answer, with its sources numbered. If too little of
what the model wrote survives the check (or the model is unavailable or too slow), the
answer is the best notes themselves, cited, and the result says so.
/define and /analogy answer from the entry they name, with the model elaborating.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Hashable
from dataclasses import dataclass

from bot.admission import Admission
from bot.answer.compose import Notes, build_messages, choose_notes
from bot.answer.embeddings import Embedder, load_embedder
from bot.answer.followup import Conversation, Turn, follow_up_of, follow_up_query
from bot.answer.glossary import close_terms, explain, lookup_term
from bot.answer.result import AnswerDraft, AnswerResult, Progress, Source
from bot.answer.selection import PassageIndex, Selection, asked_part
from bot.answer.sentence_filter import (
    OPENING,
    SentenceFilter,
    asks_yes_no,
    expected_polarity,
    is_alternative,
)
from bot.answer.tuning import DEFAULT_TUNING, Tuning
from bot.answer.writer import extractive_answer, supporting_note, write_answer
from bot.backend import Backend, make_backend
from bot.config import Config
from bot.errors import BotError
from bot.fit import Catalog, answer_text, load_catalog, parse_fit_question
from bot.guard import Guard, Verdict, load_domain_terms
from bot.knowledge import Entry, KnowledgeBase, load_knowledge
from bot.prompts import Prompts, load_prompts
from bot.retrieval import Retriever
from bot.text import words
from bot.worker import InferenceWorker

__all__ = ["AnswerResult", "Conversation", "Library", "Progress", "Source", "Turn", "Tutor"]

log = logging.getLogger(__name__)

MODES = ("ask", "define", "analogy")
DEFAULT_SUGGESTIONS = (
    "What is inference?",
    "What is a KV cache?",
    "Why are GPUs fast at inference?",
)


@dataclass(frozen=True)
class Library:
    """Everything read from files, swapped as one piece on reload."""

    kb: KnowledgeBase
    prompts: Prompts
    guard: Guard
    retriever: Retriever
    index: PassageIndex
    false_claims: list[re.Pattern[str]]
    catalog: Catalog | None  # model architectures for the memory calculator

    @classmethod
    def load(
        cls, config: Config, embedder: Embedder | None = None, tuning: Tuning = DEFAULT_TUNING
    ) -> Library:
        kb = load_knowledge(config.knowledge.dir)
        prompts = load_prompts(config.knowledge.prompts_dir)
        # On-topic phrases: every entry name, and the everyday multi-word phrasings in
        # synonyms.yaml ("first request", "conversation grows"); single words there are
        # too generic ("price", "slow") to mark a question as being about inference.
        # Single-word aliases that are everyday English ("lag", "message", "nvidia") would
        # make "I have lag in fortnite" on-topic; only titles, names of several words and
        # technical single words (with a digit or a dot, or in domain_terms.yaml) count.
        phrases = {e.title for e in kb.entries.values()}
        phrases |= {name for e in kb.entries.values() for name in e.aliases if _specific_name(name)}
        phrases |= {phrase for phrase in kb.synonyms if " " in phrase}
        terms = load_domain_terms(config.knowledge.dir / "domain_terms.yaml")
        guard = Guard(terms, phrases, config.limits.max_question_chars)
        claims = [p for e in kb.entries.values() for p in e.false_claims]
        retriever = Retriever(kb)
        index = PassageIndex(kb, retriever, tuning, embedder, config.knowledge.vector_cache)
        models = config.knowledge.dir / "models.yaml"
        catalog = load_catalog(models) if models.is_file() else None
        return cls(kb, prompts, guard, retriever, index, claims, catalog)


class Tutor:
    """The grounded-answer pipeline. Create with `Tutor.from_config`, then `await start()`."""

    def __init__(
        self,
        config: Config,
        library: Library,
        backend: Backend,
        embedder: Embedder | None = None,
        tuning: Tuning = DEFAULT_TUNING,
    ) -> None:
        self.config = config
        self.library = library
        self.embedder = embedder
        self.tuning = tuning
        warmup = [
            {"role": "system", "content": library.prompts.system},
            {"role": "user", "content": "NOTES:"},
        ]
        self.worker = InferenceWorker(backend, warmup, config.limits)
        limits = config.limits
        # Open questions per user (checked by the front end on arrival) and the rate
        # limit (charged here, only when a question is about to use the model).
        self.admission = Admission(
            limits.per_user_queued, limits.rate_limit_count, limits.rate_limit_window_s
        )
        self.model_name = getattr(backend, "name", "model")
        # Stop generating once the answer has enough sentences. The benchmark turns this
        # off so the bot and raw llama.cpp generate the same tokens.
        self.stop_early = True

    @classmethod
    def from_config(cls, config: Config, backend: Backend | None = None) -> Tutor:
        embedder = load_embedder() if config.knowledge.semantic else None
        library = Library.load(config, embedder)
        backend = backend or make_backend(config.model, config.generation)
        return cls(config, library, backend, embedder)

    async def start(self) -> None:
        await self.worker.wait_ready()

    def close(self) -> None:
        self.worker.stop()

    def reload(self) -> Library:
        """Re-read knowledge and prompts; on error raise and keep the old ones in service."""
        library = Library.load(self.config, self.embedder, self.tuning)
        self.library = library
        return library

    # -- public API ----------------------------------------------------------------------------
    async def ask(
        self,
        question: str,
        mode: str = "ask",
        conversation: Conversation | None = None,
        asker: Hashable = None,
    ) -> AnswerResult:
        result = None
        async for item in self.stream(question, mode, conversation, asker):
            if isinstance(item, AnswerResult):
                result = item
        assert result is not None
        return result

    async def stream(
        self,
        question: str,
        mode: str = "ask",
        conversation: Conversation | None = None,
        asker: Hashable = None,
    ) -> AsyncIterator[str | Progress | AnswerResult]:
        """Yield the visible answer text in pieces (and Progress while queued), then the
        final AnswerResult. `asker` (a user id) is charged against the rate limit when
        the question needs the model, and shares the queue fairly with other askers."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        started = time.perf_counter()
        lib = self.library
        draft = AnswerDraft(question=question, mode=mode, kind="answer", model=self.model_name)
        screened = lib.guard.screen(question)
        min_score = self.config.knowledge.min_score
        follow_up = follow_up_of(screened.question, conversation, lib.retriever, min_score)
        # An unknown term in /define or a follow-up need not use AI words; they get
        # "not in my glossary" suggestions or the earlier turn's topic instead.
        lenient = follow_up is not None or mode != "ask"
        selection = None
        if screened.verdict is Verdict.OFF_TOPIC and not lenient:
            # The guard knows the field's words; a paraphrase without them ("why does the
            # reply take a moment to start") can still sit close to a passage in meaning.
            selection = await self._select(asked_part(screened.question), lib)
            if selection.semantic_best >= self.tuning.semantic_on_topic:
                lenient = True
        if screened.verdict is Verdict.OK or (lenient and screened.verdict is Verdict.OFF_TOPIC):
            if mode == "ask":
                steps = self._answer(
                    draft, screened.question, follow_up, lib, started, asker, selection
                )
            else:
                steps = self._explain(draft, screened.question, mode, lib, started, asker)
            async for item in steps:
                if isinstance(item, str) and draft.timings.first_text_ms is None:
                    draft.timings.first_text_ms = (time.perf_counter() - started) * 1000
                yield item
        else:
            self._fixed_reply(draft, screened.verdict, lib)
            yield draft.answer
        if draft.grounded:
            notes = []
            if screened.asked_for_secrets:
                notes.append(lib.prompts.reply("secrets"))
            elif screened.injection:
                notes.append(lib.prompts.reply("injection"))
            if notes:
                draft.answer += "\n\n" + " ".join(notes)
                yield "\n\n" + " ".join(notes)
        draft.timings.total_ms = (time.perf_counter() - started) * 1000
        yield draft.freeze()

    async def build_messages(self, question: str) -> list[dict[str, str]]:
        """The exact prompt the model gets for a first question (the benchmark gives raw
        llama.cpp the same one)."""
        lib = self.library
        screened = lib.guard.screen(question)
        selection = await self._select(asked_part(screened.question), lib)
        notes = choose_notes(selection, self.tuning)
        if not notes.passages:
            return []
        q = screened.question
        polarity = expected_polarity(notes, asks_yes_no(q), is_alternative(q), q)
        return build_messages(lib.prompts, notes, screened.question, polarity)

    # -- steps ---------------------------------------------------------------------------------
    async def _select(self, query: str, lib: Library) -> Selection:
        vector = None
        if lib.index.semantic and self.embedder is not None:
            vector = await asyncio.to_thread(self.embedder.query, query)
        return lib.index.select(query, vector)

    def _known(self, selection: Selection) -> bool:
        return (
            selection.entry_score >= self.config.knowledge.min_score
            or selection.semantic_best >= self.tuning.semantic_known
        )

    async def _answer(
        self,
        draft: AnswerDraft,
        question: str,
        follow_up: Turn | None,
        lib: Library,
        started: float,
        asker: Hashable = None,
        selection: Selection | None = None,
    ) -> AsyncIterator[str | Progress]:
        """/ask: select passages, let the model write from them, check every sentence."""
        if follow_up is None and self._fit(draft, question, lib):
            yield draft.answer
            return
        t0 = time.perf_counter()
        min_score = self.config.knowledge.min_score
        query = asked_part(question)
        if follow_up is not None:
            query = follow_up_query(query, follow_up, lib.kb, lib.retriever, min_score)
        if selection is None or follow_up is not None:
            selection = await self._select(query, lib)
        draft.timings.retrieval_ms = (time.perf_counter() - t0) * 1000
        if not selection.ranked or not self._known(selection):
            self._unknown(draft, question, lib)
            yield draft.answer
            return
        if refusal := self._model_refusal(asker):
            draft.kind = refusal[0]
            draft.answer = lib.prompts.reply(refusal[0], wait_s=max(1, round(refusal[1])))
            yield draft.answer
            return
        notes = choose_notes(selection, self.tuning)
        self._cite(draft, notes, lib)
        draft.low_confidence = (
            selection.entry_score < min_score * self.tuning.confident_entry_factor
            and selection.semantic_best < self.tuning.semantic_confident
        )
        alternative = is_alternative(question)
        asked_yes_no = asks_yes_no(question)
        polarity = expected_polarity(notes, asked_yes_no, alternative, question)
        yes_no = polarity is not None or (asked_yes_no and not alternative)
        sentence_filter = SentenceFilter(
            notes,
            lib.false_claims,
            yes_no,
            self.tuning.min_novelty,
            question=question,
            min_support=self.tuning.min_support,
            polarity=polarity,
        )
        messages = build_messages(lib.prompts, notes, question, polarity)
        written: list[str] = []
        async for item in write_answer(
            self.worker,
            messages,
            self.config.generation,
            sentence_filter,
            draft,
            self.tuning.max_sentences if self.stop_early else 10**6,
            started,
            self.tuning.max_rejected if self.stop_early else 10**6,
            asker,
        ):
            if isinstance(item, Progress):
                yield item
                continue
            text = item.text
            if not written and polarity is not None and not OPENING.match(text):
                text = ("Yes. " if polarity else "No. ") + text  # the notes' own yes/no
            written.append(text)
            yield (" " if len(written) > 1 else "") + text
        if len(written) >= self.tuning.min_sentences:
            draft.model_sentences = len(written)
            support = supporting_note(notes, written, self.tuning)
            if support:
                yield " " + support
            draft.answer = " ".join([*written, support] if support else written)
            return
        draft.fallback = True
        draft.note = _fallback_note(draft, lib)
        draft.answer = extractive_answer(notes)
        yield draft.answer

    def _model_refusal(self, asker: Hashable) -> tuple[str, float] | None:
        """The rate limit and the queue's capacity, checked only when the model is needed:
        None to go ahead, else the reply's key and the seconds to wait."""
        if asker is not None and not (admit := self.admission.charge(asker)).ok:
            return "rate_limited", admit.wait_s
        if (retry_s := self.worker.capacity_wait()) is not None:
            return "queue_full", retry_s
        return None

    def _fit(self, draft: AnswerDraft, question: str, lib: Library) -> bool:
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

    def _cite(self, draft: AnswerDraft, notes: Notes, lib: Library) -> None:
        first = notes.passages[0]
        draft.entry_id = first.entry_id
        draft.sources = [Source(p.entry_id, p.title, p.id) for p in notes.passages]
        entry = lib.kb.entries[first.entry_id]
        draft.related = _related(entry, lib)
        draft.grounded = True

    async def _explain(
        self,
        draft: AnswerDraft,
        term: str,
        mode: str,
        lib: Library,
        started: float,
        asker: Hashable = None,
    ) -> AsyncIterator[str | Progress]:
        """/define and /analogy: the entry the term names."""
        entry = lookup_term(term, lib.kb, lib.retriever, self.config.knowledge.min_score)
        if entry is None:
            draft.kind = "unknown"
            close = close_terms(term, lib.kb, lib.retriever)
            shown = " ".join(term.split())[:60]
            draft.answer = lib.prompts.reply(
                "unknown_term", term=shown, suggestions=", ".join(close)
            )
            yield draft.answer
            return
        draft.entry_id = entry.id
        draft.sources = [Source(entry.id, entry.title)]
        draft.related = _related(entry, lib)
        draft.grounded = True
        async for item in explain(
            draft,
            entry,
            mode,
            lib.prompts,
            self.worker,
            self.config.generation,
            lib.false_claims,
            self.tuning,
            started,
            use_model=self._model_refusal(asker) is None,  # else the curated text alone
            owner=asker,
        ):
            yield item
        if draft.fallback:
            draft.note = _fallback_note(draft, lib)

    def _fixed_reply(self, draft: AnswerDraft, verdict: Verdict, lib: Library) -> None:
        suggestions = ", ".join(f'"{s}"' for s in DEFAULT_SUGGESTIONS)
        key = {
            Verdict.EMPTY: "empty",
            Verdict.TOO_LONG: "too_long",
            Verdict.NO_WORDS: "no_words",
            Verdict.OFF_TOPIC: "off_topic",
            Verdict.REFUSED: "refused",
            Verdict.GREETING: "greeting",
        }[verdict]
        draft.kind = key
        draft.answer = lib.prompts.reply(
            key, suggestions=suggestions, max_chars=self.config.limits.max_question_chars
        )

    def _unknown(self, draft: AnswerDraft, question: str, lib: Library) -> None:
        hits = lib.retriever.search(question, limit=3)
        titles = [f'"{h.entry.title}"' for h in hits] or [f'"{s}"' for s in DEFAULT_SUGGESTIONS]
        draft.kind = "unknown"
        draft.answer = lib.prompts.reply("unknown", suggestions=", ".join(titles))


def _fallback_note(draft: AnswerDraft, lib: Library) -> str:
    """Why the answer is curated text: the model was unavailable, or its draft failed."""
    if draft.model_error:
        return lib.prompts.reply("model_unavailable", reason=draft.model_error)
    return lib.prompts.reply("fallback_note")


def _related(entry: Entry, lib: Library) -> list[Source]:
    """Up to three related entries, for the buttons under an answer."""
    known = [rid for rid in entry.related if rid in lib.kb.entries]
    return [Source(rid, lib.kb.entries[rid].title) for rid in known[:3]]


def _specific_name(name: str) -> bool:
    return len(words(name)) > 1 or not name.replace("-", "").isalpha()
