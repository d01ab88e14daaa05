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

import logging
import time
from collections.abc import AsyncIterator, Hashable

from bot.admission import Admission
from bot.answer.compose import choose_notes, warmup_messages
from bot.answer.embeddings import Embedder, load_embedder
from bot.answer.followup import Conversation, Turn, follow_up_of, follow_up_query
from bot.answer.glossary import explain_term
from bot.answer.grounded import write_grounded
from bot.answer.replies import (
    DEFAULT_SUGGESTIONS,
    cite,
    fit_reply,
    fixed_reply,
    unknown_reply,
)
from bot.answer.result import AnswerDraft, AnswerResult, Progress, Source
from bot.answer.selection import Selection
from bot.answer.tuning import DEFAULT_TUNING, Tuning
from bot.backend import Backend, make_backend
from bot.config import Config
from bot.guard import Screened, Verdict
from bot.library import Library
from bot.worker import InferenceWorker

__all__ = [
    "DEFAULT_SUGGESTIONS",
    "AnswerResult",
    "Conversation",
    "Library",
    "Progress",
    "Source",
    "Turn",
    "Tutor",
]

log = logging.getLogger(__name__)

MODES = ("ask", "define", "analogy")


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
        self.worker = InferenceWorker(backend, warmup_messages(library.prompts), config.limits)
        # Open questions per user (checked by the front end on arrival) and the rate
        # limit (charged here, only when a question is about to use the model).
        self.admission = Admission.from_limits(config.limits)
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
            selection = await lib.index.search(screened.question)
            if selection.semantic_best >= self.tuning.semantic_on_topic:
                lenient = True
        if screened.verdict is Verdict.OK or (lenient and screened.verdict is Verdict.OFF_TOPIC):
            if mode == "ask":
                steps = self._answer(draft, screened, follow_up, lib, started, asker, selection)
            else:
                steps = self._explain(draft, screened.question, mode, started, asker)
            async for item in steps:
                if isinstance(item, str) and draft.timings.first_text_ms is None:
                    draft.timings.first_text_ms = (time.perf_counter() - started) * 1000
                yield item
        else:
            fixed_reply(draft, screened.verdict, lib.prompts, self.config.limits.max_question_chars)
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

    # -- steps ---------------------------------------------------------------------------------
    async def _answer(
        self,
        draft: AnswerDraft,
        screened: Screened,
        follow_up: Turn | None,
        lib: Library,
        started: float,
        asker: Hashable = None,
        selection: Selection | None = None,
    ) -> AsyncIterator[str | Progress]:
        """/ask: select passages, let the model write from them, check every sentence. When
        words that tried to instruct the bot were removed, the model (which could still
        follow what is left of them) does not write: the notes answer."""
        question, use_model = screened.question, not screened.injection
        if follow_up is None and fit_reply(draft, question, lib):
            yield draft.answer
            return
        t0 = time.perf_counter()
        min_score = self.config.knowledge.min_score
        # the whole message: its context sentences ("I have 16 GB and a 3060. Why is it
        # slow?") are part of what is asked (recall@1 0.37 -> 0.43 held out, 0.78 -> 0.81)
        query = question
        if follow_up is not None:
            query = follow_up_query(query, follow_up, lib.kb, lib.retriever, min_score)
        if selection is None or follow_up is not None:
            selection = await lib.index.search(query)
        draft.timings.retrieval_ms = (time.perf_counter() - t0) * 1000
        known = selection.covers(self.config.knowledge.min_score, self.tuning.semantic_known)
        if not selection.ranked or not known:
            unknown_reply(draft, question, lib)
            yield draft.answer
            return
        if use_model and (refusal := self._model_refusal(asker)):
            draft.kind = refusal[0]
            draft.answer = lib.prompts.reply(refusal[0], wait_s=max(1, round(refusal[1])))
            yield draft.answer
            return
        notes = choose_notes(selection, self.tuning)
        cite(draft, notes, lib.kb)
        draft.low_confidence = (
            selection.entry_score < min_score * self.tuning.confident_entry_factor
            and selection.semantic_best < self.tuning.semantic_confident
        )
        async for item in write_grounded(
            draft,
            question,
            notes,
            lib,
            self.worker,
            self.config.generation,
            self.tuning,
            started,
            self.stop_early,
            asker,
            use_model,
        ):
            yield item

    def _model_refusal(self, asker: Hashable) -> tuple[str, float] | None:
        """The rate limit and the queue's capacity, checked only when the model is needed:
        None to go ahead, else the reply's key and the seconds to wait."""
        if asker is not None and not (admit := self.admission.charge(asker)).ok:
            return "rate_limited", admit.wait_s
        if (retry_s := self.worker.capacity_wait()) is not None:
            return "queue_full", retry_s
        return None

    async def _explain(
        self, draft: AnswerDraft, term: str, mode: str, started: float, asker: Hashable
    ) -> AsyncIterator[str | Progress]:
        """/define and /analogy: the curated entry, the model elaborating if it may."""
        use_model = self._model_refusal(asker) is None  # else the curated text alone
        async for item in explain_term(
            draft,
            term,
            mode,
            self.library,
            self.worker,
            self.config.generation,
            self.tuning,
            started,
            self.config.knowledge.min_score,
            use_model,
            asker,
        ):
            yield item
