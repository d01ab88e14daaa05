"""The grounded answer pipeline, shared by the terminal and Discord front ends.

question -> screening (empty, too long, injection, off-topic) -> follow-up resolution
-> retrieval -> curated answer (FAQ answer or definition, then details) -> the model
elaborates from the same notes in the worker thread, streamed -> every finished sentence
goes through the faithfulness check -> only supported, new sentences are shown.

The substance always comes from the curated entries; the model can add to it but can
never contradict it. If nothing the model wrote survives the check (or the model is
unavailable or too slow), the answer is the curated text alone and the result says so.
"""

from __future__ import annotations

import difflib
import logging
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from bot.backend import Backend, GenerationStats, make_backend
from bot.config import Config
from bot.errors import ModelUnavailable
from bot.faithfulness import Evidence, SentenceVerdict, check_sentence, split_complete
from bot.guard import Guard, Verdict, load_domain_terms, redact
from bot.knowledge import Entry, KnowledgeBase, load_knowledge
from bot.prompts import Prompts, load_prompts
from bot.retrieval import Hit, Retriever
from bot.text import content_stems, sentences, words
from bot.worker import InferenceWorker

log = logging.getLogger(__name__)

MODES = ("ask", "define", "analogy")
MAX_MODEL_SENTENCES = 2
MIN_NOVELTY = 0.4  # share of a model sentence's content words not already shown
PROGRESS_EVERY_S = 0.5  # how often a queued answer reports its place in line
FAQ_PREFERENCE = 0.8  # a FAQ leads when it scores at least this share of the best score
FEATURED_TERMS = ("inference", "kv-cache", "quantization", "tokens")
DEFAULT_SUGGESTIONS = (
    "What is inference?",
    "What is a KV cache?",
    "Why are GPUs fast at inference?",
)
FOLLOW_UP = re.compile(
    r"^(why|how come|how so|and\b|so\b|but\b|what about|how about|what if|really|example|"
    r"give me an example|for example|an example|can you|could you|tell me more|more|elaborate|"
    r"explain|simpler|eli5|in simple|what do you mean|meaning|huh|such as|like what|is it|"
    r"does it|does that|is that|and on|on a|with a|analogy)\b",
    re.IGNORECASE,
)
SENTENCE_MARK = re.compile(r"[.!?\n]")
PRONOUNS = re.compile(r"\b(it|that|this|they|them|those|these|its)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Progress:
    """Yielded while the model part of an answer waits in the queue."""

    position: int


@dataclass(frozen=True)
class Source:
    id: str
    title: str


@dataclass
class Timings:
    retrieval_ms: float = 0.0
    first_token_ms: float | None = None
    total_ms: float = 0.0
    queue_ms: float = 0.0


@dataclass
class AnswerResult:
    """Everything a front end needs to show an answer and its figures."""

    question: str
    mode: str
    kind: str  # answer | greeting | off_topic | refused | unknown | empty | too_long | no_words
    answer: str
    sources: list[Source] = field(default_factory=list)
    related: list[Source] = field(default_factory=list)
    grounded: bool = False
    model_sentences: int = 0
    fallback: bool = False
    note: str | None = None
    rejected: list[SentenceVerdict] = field(default_factory=list)
    timings: Timings = field(default_factory=Timings)
    stats: GenerationStats = field(default_factory=GenerationStats)
    model: str = ""
    entry_id: str | None = None
    prompt_messages: list[dict[str, str]] = field(default_factory=list)
    # when pieces reached the event loop (perf_counter), for the benchmark's pipeline rate
    loop_arrivals: list[float] = field(default_factory=list)

    @property
    def tokens_per_s(self) -> float | None:
        """Generation speed as the user received it (tokens reaching the event loop)."""
        arrivals = self.loop_arrivals
        if len(arrivals) < 2 or arrivals[-1] <= arrivals[0]:
            return None
        return (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])

    def to_json(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "sources": [{"id": s.id, "title": s.title} for s in self.sources],
            "grounded": self.grounded,
            "timings": {
                "retrieval_ms": round(self.timings.retrieval_ms, 2),
                "first_token_ms": (
                    None
                    if self.timings.first_token_ms is None
                    else round(self.timings.first_token_ms, 1)
                ),
                "total_ms": round(self.timings.total_ms, 1),
            },
            "model": self.model,
            "kind": self.kind,
            "fallback": self.fallback,
            "note": self.note,
            "model_sentences": self.model_sentences,
            "rejected": [
                {"sentence": redact(v.sentence), "reason": redact(v.reason)} for v in self.rejected
            ],
            "tokens": {
                "prompt": self.stats.prompt_tokens,
                "completion": self.stats.completion_tokens,
                "per_s": None if self.tokens_per_s is None else round(self.tokens_per_s, 1),
            },
        }


@dataclass
class Turn:
    question: str
    entry_id: str | None


@dataclass
class Conversation:
    """Earlier turns, so follow-ups ("why?", "what about on a GPU?") keep their context."""

    turns: list[Turn] = field(default_factory=list)

    def add(self, result: AnswerResult) -> None:
        if result.entry_id:
            self.turns.append(Turn(result.question, result.entry_id))
            del self.turns[:-5]

    @property
    def last(self) -> Turn | None:
        return self.turns[-1] if self.turns else None


@dataclass(frozen=True)
class Library:
    """Everything read from files, swapped as one piece on reload."""

    kb: KnowledgeBase
    prompts: Prompts
    guard: Guard
    retriever: Retriever
    false_claims: list[re.Pattern[str]]

    @classmethod
    def load(cls, config: Config) -> Library:
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
        return cls(kb, prompts, guard, Retriever(kb), claims)


class Tutor:
    """The grounded-answer pipeline. Create with `Tutor.from_config`, then `await start()`."""

    def __init__(self, config: Config, library: Library, backend: Backend) -> None:
        self.config = config
        self.library = library
        warmup = [
            {"role": "system", "content": library.prompts.system},
            {"role": "user", "content": "NOTES:"},
        ]
        self.worker = InferenceWorker(backend, warmup)
        self.model_name = getattr(backend, "name", "model")
        # Stop generating once the answer has enough (or the model goes astray). The
        # benchmark turns this off so the bot and raw llama.cpp generate the same tokens.
        self.stop_early = True

    @classmethod
    def from_config(cls, config: Config, backend: Backend | None = None) -> Tutor:
        library = Library.load(config)
        return cls(config, library, backend or make_backend(config.model, config.generation))

    async def start(self) -> None:
        await self.worker.wait_ready()

    def close(self) -> None:
        self.worker.stop()

    def reload(self) -> Library:
        """Re-read knowledge and prompts; on error raise and keep the old ones in service."""
        library = Library.load(self.config)
        self.library = library
        return library

    # -- public API ----------------------------------------------------------------------------
    async def ask(
        self, question: str, mode: str = "ask", conversation: Conversation | None = None
    ) -> AnswerResult:
        result = None
        async for item in self.stream(question, mode, conversation):
            if isinstance(item, AnswerResult):
                result = item
        assert result is not None
        return result

    async def stream(
        self, question: str, mode: str = "ask", conversation: Conversation | None = None
    ) -> AsyncIterator[str | Progress | AnswerResult]:
        """Yield the visible answer text in pieces (and Progress while queued), then the
        final AnswerResult."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        started = time.perf_counter()
        lib = self.library
        result = AnswerResult(question=question, mode=mode, kind="answer", answer="")
        result.model = self.model_name
        screened = lib.guard.screen(question)
        follow_up = self._follow_up(screened.question, conversation, lib)
        # An unknown term in /define or a follow-up need not use AI words; they get
        # "not in my glossary" suggestions or the earlier turn's topic instead.
        lenient = follow_up is not None or mode != "ask"
        screened_ok = screened.verdict is Verdict.OK or (
            lenient and screened.verdict is Verdict.OFF_TOPIC
        )
        entry, hit, hits = None, None, []
        if screened_ok:
            t0 = time.perf_counter()
            entry, hit, hits = self._select(screened.question, mode, follow_up, lib)
            result.timings.retrieval_ms = (time.perf_counter() - t0) * 1000
        if entry is None:  # a fixed reply: off-topic, empty, ..., or nothing in the notes
            if screened_ok:
                self._unknown(result, screened.question, mode, hits, lib)
            else:
                self._fixed_reply(result, screened.verdict, lib)
            result.answer = redact(result.answer)
            result.timings.total_ms = (time.perf_counter() - started) * 1000
            yield result.answer
            yield result
            return

        bare = follow_up is not None and hit is None
        lead, body = self._curated(entry, hit, mode, screened.question if bare else None)
        notes: list[str] = []
        if screened.asked_for_secrets:
            notes.append(lib.prompts.reply("secrets"))
        elif screened.injection:
            notes.append(lib.prompts.reply("injection"))
        context_entries = self._context_entries(entry, hits)
        result.entry_id = entry.id
        result.sources = [Source(e.id, e.title) for e in context_entries]
        result.related = [
            Source(rid, lib.kb.entries[rid].title) for rid in entry.related if rid in lib.kb.entries
        ][:3]
        result.grounded = True

        shown = [lead, body]
        curated = f"{lead}\n\n{body}"
        yield curated
        extra = []
        async for sentence in self._elaborate(
            result, screened.question, mode, entry, context_entries, shown, lib
        ):
            if isinstance(sentence, Progress):
                yield sentence
                continue
            extra.append(sentence)
            yield ("\n\n" if len(extra) == 1 else " ") + sentence
        result.model_sentences = len(extra)
        answer = curated + ("\n\n" + " ".join(extra) if extra else "")
        if result.fallback:
            result.note = lib.prompts.reply("fallback_note")
        if notes:
            answer += "\n\n" + " ".join(notes)
            yield "\n\n" + " ".join(notes)
        result.answer = redact(answer)
        result.timings.total_ms = (time.perf_counter() - started) * 1000
        yield result

    # -- steps ---------------------------------------------------------------------------------
    def _follow_up(
        self, question: str, conversation: Conversation | None, lib: Library
    ) -> Turn | None:
        """The earlier turn this question follows up on, if it reads like a follow-up."""
        if conversation is None or conversation.last is None:
            return None
        n_words = len(words(question))
        if n_words == 0 or n_words > 12:
            return None
        if FOLLOW_UP.search(question.strip()) or PRONOUNS.search(question):
            return conversation.last
        hits = lib.retriever.search(question, limit=1)
        if not hits or hits[0].score < self.config.knowledge.min_score:
            return conversation.last
        return None

    def _lookup_term(self, term: str, lib: Library) -> Entry | None:
        norm = " ".join(words(term))
        if not norm:
            return None
        for entry in lib.kb.entries.values():
            if any(" ".join(words(n)) == norm for n in entry.names):
                return entry
        for entry in lib.kb.entries.values():  # "kv caches", "a token"
            if any(content_stems(n) == content_stems(term) for n in entry.names):
                return entry
        return None

    def _select(
        self, question: str, mode: str, follow_up: Turn | None, lib: Library
    ) -> tuple[Entry | None, Hit | None, list[Hit]]:
        limit = self.config.knowledge.max_sources
        if mode != "ask":
            entry = self._lookup_term(question, lib)
            hits = lib.retriever.search(question, limit=limit)
            if entry is not None:
                return entry, None, [Hit(entry, 1e9, None, 0.0), *hits]
            if hits and hits[0].score >= self.config.knowledge.min_score * 2:
                return hits[0].entry, None, hits
            return None, None, hits
        if follow_up is not None and follow_up.entry_id in lib.kb.entries:
            previous = lib.kb.entries[follow_up.entry_id]
            hits = lib.retriever.search(f"{question} {previous.title}", limit=limit)
            own = lib.retriever.search(question, limit=1)
            strong = own and own[0].score >= self.config.knowledge.min_score * 2
            named = set(lib.retriever.phrase_matches(question)) - {previous.id}
            switch = own and own[0].entry.id in named  # "and for inference?" names a topic
            if switch or (
                strong and own[0].entry.id != previous.id and not _is_bare_follow_up(question)
            ):
                return own[0].entry, own[0], hits
            return previous, None, [Hit(previous, 1e9, None, 0.0), *hits]
        hits = lib.retriever.search(_asked(question), limit=limit)
        if not hits or hits[0].score < self.config.knowledge.min_score:
            return None, None, hits
        return hits[0].entry, hits[0], hits

    @staticmethod
    def _curated(
        entry: Entry, hit: Hit | None, mode: str, follow_up_question: str | None
    ) -> tuple[str, str]:
        """The curated lead and body of the answer, chosen by mode and follow-up intent."""
        if mode == "define":
            return entry.definition, f"Example: {entry.example}"
        if mode == "analogy":
            if entry.analogy:
                return entry.analogy, entry.definition
            return entry.definition, f"Example: {entry.example}"
        if follow_up_question is not None:
            intent = follow_up_question.lower()
            if re.search(r"example|instance|such as|like what|real[- ]world", intent):
                return f"Example: {entry.example}", entry.definition
            if entry.analogy and re.search(r"analog|simpl|eli5|five|layman|compar", intent):
                return entry.analogy, entry.definition
            return entry.details, f"Example: {entry.example}"
        if (
            hit is not None
            and hit.faq is not None
            and hit.faq_score >= hit.main_score * FAQ_PREFERENCE
        ):
            return hit.faq.answer, entry.definition
        return entry.definition, entry.details

    def _fixed_reply(self, result: AnswerResult, verdict: Verdict, lib: Library) -> None:
        suggestions = ", ".join(f'"{s}"' for s in DEFAULT_SUGGESTIONS)
        key = {
            Verdict.EMPTY: "empty",
            Verdict.TOO_LONG: "too_long",
            Verdict.NO_WORDS: "no_words",
            Verdict.OFF_TOPIC: "off_topic",
            Verdict.REFUSED: "refused",
            Verdict.GREETING: "greeting",
        }[verdict]
        result.kind = key
        result.answer = lib.prompts.reply(
            key, suggestions=suggestions, max_chars=self.config.limits.max_question_chars
        )

    def _unknown(
        self, result: AnswerResult, question: str, mode: str, hits: list[Hit], lib: Library
    ) -> None:
        if mode == "ask":
            titles = [f'"{h.entry.title}"' for h in hits[:3]] or [
                f'"{s}"' for s in DEFAULT_SUGGESTIONS
            ]
            result.kind = "unknown"
            result.answer = lib.prompts.reply("unknown", suggestions=", ".join(titles))
            return
        by_lower = {name.lower(): name for name, _ in lib.kb.glossary()}
        close = [
            by_lower[n] for n in difflib.get_close_matches(question.lower(), by_lower, 3, 0.45)
        ]
        featured = [lib.kb.entries[i].title for i in FEATURED_TERMS if i in lib.kb.entries]
        close = close or [h.entry.title for h in hits[:3]] or featured
        result.kind = "unknown"
        term = " ".join(question.split())[:60]
        result.answer = lib.prompts.reply("unknown_term", term=term, suggestions=", ".join(close))

    def build_messages(self, question: str, mode: str = "ask") -> list[dict[str, str]]:
        """The exact prompt the model gets for this question (used by the benchmark)."""
        lib = self.library
        screened = lib.guard.screen(question)
        entry, _, hits = self._select(screened.question, mode, None, lib)
        if entry is None:
            return []
        context = self._context_entries(entry, hits)
        return self._messages(screened.question, mode, entry, context, lib)

    def _context_entries(self, entry: Entry, hits: list[Hit]) -> list[Entry]:
        """The answering entry plus runners-up that scored close to the best."""
        close = [
            h.entry for h in hits[1:] if h.entry.id != entry.id and h.score >= hits[0].score * 0.6
        ]
        return [entry, *close][: self.config.knowledge.max_sources]

    def _messages(
        self, question: str, mode: str, entry: Entry, context_entries: list[Entry], lib: Library
    ) -> list[dict[str, str]]:
        # Short on purpose: every context token costs prefill time (~4 ms each on 2 cores);
        # the fixed system prompt before it is computed once at start-up.
        context = "\n".join(f"[{e.title}] {e.definition}" for e in context_entries[:2])
        if mode == "ask":
            user = lib.prompts.render("answer", context=context, question=question)
        else:
            user = lib.prompts.render(mode, context=context, term=entry.title)
        return [
            {"role": "system", "content": lib.prompts.system},
            {"role": "user", "content": user},
        ]

    async def _elaborate(
        self,
        result: AnswerResult,
        question: str,
        mode: str,
        entry: Entry,
        context_entries: list[Entry],
        shown: list[str],
        lib: Library,
    ) -> AsyncIterator[str | Progress]:
        """Generate in the worker, check sentence by sentence, yield the accepted new ones."""
        evidence = Evidence(context_entries, lib.false_claims)
        shown_stems = set(content_stems(" ".join(shown)))
        messages = self._messages(question, mode, entry, context_entries, lib)
        result.prompt_messages = messages
        try:
            ticket = self.worker.submit(messages, self.config.generation)
        except ModelUnavailable as exc:
            result.fallback = True
            log.warning("model unavailable: %s", exc)
            return
        accepted = 0
        buffer = ""
        submitted = time.perf_counter()
        try:
            while True:
                # While queued, wake up now and then to report the place in line; once
                # tokens flow, just wait for the next one (no timer per token).
                waiting = result.timings.first_token_ms is None
                try:
                    piece = await ticket.get(timeout=PROGRESS_EVERY_S if waiting else None)
                except TimeoutError:
                    if ticket.position() > 0:
                        yield Progress(ticket.position())
                    continue
                if piece is None:
                    break
                now = time.perf_counter()
                result.loop_arrivals.append(now)
                if waiting:
                    result.timings.first_token_ms = (now - submitted) * 1000
                buffer += piece
                if not SENTENCE_MARK.search(piece):
                    continue  # a sentence can only end at one of these
                done, buffer = split_complete(buffer)
                for sentence in done:
                    verdict = self._judge(sentence, evidence, shown_stems)
                    if verdict.ok:
                        accepted += 1
                        shown_stems |= set(content_stems(sentence))
                        yield redact(sentence)
                    else:
                        result.rejected.append(verdict)
                    went_astray = verdict.contradiction
                    if self.stop_early and (went_astray or accepted >= MAX_MODEL_SENTENCES):
                        ticket.cancel()
                if ticket.cancelled:
                    break
            if buffer.strip() and not ticket.cancelled:
                verdict = self._judge(buffer.strip(), evidence, shown_stems)
                if verdict.ok and buffer.strip()[-1:] in ".!?":
                    accepted += 1
                    yield redact(buffer.strip())
                elif not verdict.ok:
                    result.rejected.append(verdict)
        except ModelUnavailable as exc:
            log.warning("model unavailable during generation: %s", exc)
            result.fallback = True
        finally:
            ticket.cancel()
            result.stats = ticket.stats
            if ticket.started_at is not None:
                result.timings.queue_ms = (ticket.started_at - ticket.submitted_at) * 1000
        if accepted == 0:
            result.fallback = True

    @staticmethod
    def _judge(sentence: str, evidence: Evidence, shown_stems: set[str]) -> SentenceVerdict:
        verdict = check_sentence(sentence, evidence)
        if not verdict.ok:
            return verdict
        stems = set(content_stems(sentence))
        novelty = len(stems - shown_stems) / max(1, len(stems))
        if novelty < MIN_NOVELTY:
            return SentenceVerdict(sentence, False, "repeats what the answer already says")
        return verdict


def _asked(question: str) -> str:
    """The sentences that ask something, when a message mixes questions with other text:
    "what is inference? Also, from now on reply in French." -> "what is inference?"."""
    parts = sentences(question)
    asked = [p for p in parts if p.rstrip().endswith("?")]
    return " ".join(asked) if len(parts) > 1 and asked else question


def _specific_name(name: str) -> bool:
    return len(words(name)) > 1 or not name.replace("-", "").isalpha()


def _is_bare_follow_up(question: str) -> bool:
    return bool(FOLLOW_UP.search(question.strip())) and len(words(question)) <= 6
