"""The answer a front end shows: built once, at the end, and immutable from then on.

The pipeline fills an `AnswerDraft` while it works and yields `draft.freeze()`; the
terminal, Discord and the benchmark only ever read the frozen `AnswerResult`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from bot.faithfulness import SentenceVerdict
from bot.generation import GenerationStats
from bot.guard import redact


@dataclass(frozen=True)
class Progress:
    """Yielded while the model part of an answer waits in the queue."""

    position: int


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    passage_id: str | None = None  # which passage of the entry, when one was cited


@dataclass
class Timings:
    retrieval_ms: float = 0.0
    first_token_ms: float | None = None  # from the question to the model's first token
    first_text_ms: float | None = None  # from the question to the first text a user sees
    total_ms: float = 0.0


@dataclass
class AnswerDraft:
    """The mutable answer while the pipeline works on it."""

    question: str
    mode: str
    kind: str  # answer | greeting | off_topic | refused | unknown | empty | too_long | no_words
    answer: str = ""
    sources: list[Source] = field(default_factory=list)
    related: list[Source] = field(default_factory=list)
    grounded: bool = False
    model_sentences: int = 0
    fallback: bool = False
    low_confidence: bool = False
    note: str | None = None
    model_error: str | None = None  # why the model could not write (ModelUnavailable)
    rejected: list[SentenceVerdict] = field(default_factory=list)
    timings: Timings = field(default_factory=Timings)
    stats: GenerationStats = field(default_factory=GenerationStats)
    model: str = ""
    entry_id: str | None = None
    prompt_messages: list[dict[str, str]] = field(default_factory=list)
    loop_arrivals: list[float] = field(default_factory=list)

    def freeze(self) -> AnswerResult:
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        values["answer"] = redact(self.answer)
        for name in ("sources", "related", "rejected", "loop_arrivals"):
            values[name] = tuple(values[name])
        values["prompt_messages"] = tuple(dict(m) for m in self.prompt_messages)
        values["timings"] = dataclasses.replace(self.timings)
        values["stats"] = dataclasses.replace(self.stats)
        return AnswerResult(**values)


@dataclass(frozen=True)
class AnswerResult:
    """Everything a front end needs to show an answer and its figures."""

    question: str
    mode: str
    kind: str
    answer: str
    sources: tuple[Source, ...] = ()
    related: tuple[Source, ...] = ()
    grounded: bool = False
    model_sentences: int = 0  # sentences the model wrote that passed the check and were shown
    fallback: bool = False  # the answer is curated text because the model's did not pass
    low_confidence: bool = False  # retrieval was unsure the notes answer this question
    note: str | None = None
    model_error: str | None = None  # the model was unavailable: why (the note tells the user)
    rejected: tuple[SentenceVerdict, ...] = ()
    timings: Timings = field(default_factory=Timings)
    stats: GenerationStats = field(default_factory=GenerationStats)
    model: str = ""
    entry_id: str | None = None
    prompt_messages: tuple[dict[str, str], ...] = ()
    # when pieces reached the event loop (perf_counter), for the benchmark's pipeline rate
    loop_arrivals: tuple[float, ...] = ()

    @property
    def tokens_per_s(self) -> float | None:
        """Generation speed as the user received it (tokens reaching the event loop)."""
        arrivals = self.loop_arrivals
        if len(arrivals) < 2 or arrivals[-1] <= arrivals[0]:
            return None
        return (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])

    def to_json(self) -> dict[str, Any]:
        def ms(value: float | None) -> float | None:
            return None if value is None else round(value, 1)

        return {
            "answer": self.answer,
            "sources": [
                {"n": n, "id": s.id, "title": s.title, "passage": s.passage_id}
                for n, s in enumerate(self.sources, 1)
            ],
            "grounded": self.grounded,
            "timings": {
                "retrieval_ms": round(self.timings.retrieval_ms, 2),
                "first_token_ms": ms(self.timings.first_token_ms),
                "first_text_ms": ms(self.timings.first_text_ms),
                "total_ms": ms(self.timings.total_ms),
            },
            "model": self.model,
            "kind": self.kind,
            "fallback": self.fallback,
            "low_confidence": self.low_confidence,
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
