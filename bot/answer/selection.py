"""Choose the passages that answer a question: lexical and semantic evidence combined.

Four signals, each scaled to 0..1 for this question and mixed with weights from
`Tuning`:
- the entry retriever (bot.retrieval): names, aliases, synonyms, typo tolerance - strong
  when a question names its concept ("what's a kv cache");
- BM25 over passages with the same stemming and synonyms - which paragraph of an entry;
- cosine similarity of e5 embeddings - paraphrases that share no words with the notes
  ("why does the reply take a moment to start");
- for FAQ passages, the user's question against the FAQ's own question, both embedded as
  queries: "2x 3090 = twice the tokens/s right?" is "I have 2 GPUs, why isn't it twice
  as fast?" in other words.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.answer.comparison import Direction, direction
from bot.answer.embeddings import Embedder, VectorCache
from bot.answer.passages import Passage, build_passages
from bot.answer.tuning import Tuning
from bot.knowledge import KnowledgeBase
from bot.retrieval import Retriever, is_yes_no
from bot.text import asked_part, content_stems

WHAT_IS = re.compile(
    r"^\W*(?:so\s+)?(?:what(?:'s| is| are|s)|define|meaning of|what does .{1,40} mean)\b",
    re.IGNORECASE,
)
# what kind of passage a question asks for ("give me an example", "explain it simply"), read
# in its asking sentences only: a long post's "e.g." or "compared to" asks for nothing
KIND_INTENT = {
    "example": re.compile(r"\b(examples?|like what|real[- ]world)\b", re.I),
    "analogy": re.compile(
        r"\b(analog\w*|simpl\w*|eli5|layman\w*|like i'?m (?:five|5)|plain (?:english|words))\b",
        re.I,
    ),
}
K1 = 1.2
B = 0.75


@dataclass(frozen=True)
class Scored:
    passage: Passage
    score: float
    lexical: float
    semantic: float
    entry: float
    # for a FAQ: e5 cosine of the user's question with the FAQ's own (None: not a FAQ, or
    # no embeddings)
    same_question: float | None = None


@dataclass(frozen=True)
class Selection:
    """The ranked passages for one question and how sure retrieval is."""

    question: str
    ranked: tuple[Scored, ...]
    entry_score: float  # the entry retriever's best raw score
    semantic_best: float

    @property
    def best(self) -> Scored | None:
        return self.ranked[0] if self.ranked else None

    def covers(self, min_score: float, semantic_known: float) -> bool:
        """Whether the notes are about this question at all (else: "outside what I know")."""
        return self.entry_score >= min_score or self.semantic_best >= semantic_known


@dataclass(frozen=True)
class _Asked:
    """What the form of a question says about the passage that answers it."""

    yes_no: bool
    what_is: bool
    compares: Direction | None
    wanted: frozenset[str]  # kinds of passage asked for ("give me an example")
    uncued: frozenset[str]  # entries with cues, none of which the question has


class PassageIndex:
    def __init__(
        self,
        kb: KnowledgeBase,
        retriever: Retriever,
        tuning: Tuning,
        embedder: Embedder | None = None,
        cache_path: Path | None = None,
    ) -> None:
        self.kb = kb
        self.retriever = retriever
        self.tuning = tuning
        self.passages = build_passages(kb)
        self._tf = [Counter(content_stems(p.match_text)) for p in self.passages]
        self._len = [sum(tf.values()) for tf in self._tf]
        self._avg = sum(self._len) / max(1, len(self._len))
        df: Counter[str] = Counter()
        for tf in self._tf:
            df.update(tf.keys())
        n = len(self.passages)
        self._idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        self._postings: dict[str, list[int]] = defaultdict(list)
        for i, tf in enumerate(self._tf):
            for term in tf:
                self._postings[term].append(i)
        # which way a FAQ's question compares GPU and CPU speed (bot.answer.comparison)
        self._faq_direction = [direction(p.question) if p.question else None for p in self.passages]
        self._yes_no_faq = [
            p.kind == "faq" and p.question is not None and is_yes_no(p.question)
            for p in self.passages
        ]
        self._cues = {
            e.id: {stem for cue in e.cues for stem in content_stems(cue)}
            for e in kb.entries.values()
            if e.cues
        }
        self.embedder = embedder
        self.vectors: np.ndarray | None = None
        # FAQ questions embedded as queries: a user's question is compared with the
        # questions the notes answer, not only with their text (rows match `_faq_rows`)
        self._faq_rows = [i for i, p in enumerate(self.passages) if p.question]
        self.question_vectors: np.ndarray | None = None
        if embedder is not None:
            cache = VectorCache(cache_path) if cache_path else None
            texts = [p.match_text for p in self.passages]
            asked = [self.passages[i].question or "" for i in self._faq_rows]
            if cache:
                self.vectors = cache.matrix(texts, embedder)
                self.question_vectors = cache.matrix(asked, embedder, as_queries=True)
            else:
                self.vectors = embedder.passages(texts)
                self.question_vectors = embedder.queries(asked)

    @property
    def semantic(self) -> bool:
        return self.vectors is not None

    async def search(self, question: str) -> Selection:
        """`select`, with the question embedded in a thread (never on the event loop)."""
        vector = None
        if self.vectors is not None and self.embedder is not None:
            vector = await asyncio.to_thread(self.embedder.query, question)
        return self.select(question, vector)

    def _lexical(self, question: str) -> np.ndarray:
        terms = self.retriever.query_terms(question)
        scores = np.zeros(len(self.passages), dtype=np.float32)
        for term in set(terms):
            idf = self._idf.get(term)
            if idf is None:
                continue
            for i in self._postings[term]:
                tf = self._tf[i][term]
                scores[i] += (
                    idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * self._len[i] / self._avg))
                )
        return scores

    def _asked(self, question: str) -> _Asked:
        words = set(content_stems(question))
        return _Asked(
            yes_no=is_yes_no(question),
            what_is=bool(WHAT_IS.match(question)),
            compares=direction(question),
            wanted=frozenset(k for k, p in KIND_INTENT.items() if p.search(asked_part(question))),
            uncued=frozenset(e for e, cues in self._cues.items() if not cues & words),
        )

    def _fit_factor(self, i: int, asked: _Asked) -> float:
        """How well passage i's kind and form fit the form of the question."""
        t, p = self.tuning, self.passages[i]
        factor = t.kind_weight.get(p.kind, 1.0)
        if self._yes_no_faq[i] and not asked.yes_no:
            factor *= t.yes_no_faq_penalty  # "No - ..." answers fit "does X?", not "how much X?"
        if asked.compares and self._faq_direction[i] == asked.compares:
            factor *= t.same_comparison_boost
        elif asked.compares and self._faq_direction[i] is not None:
            factor *= t.opposite_comparison_penalty  # "GPU slower?" vs "GPU faster?"
        if asked.what_is and p.kind == "definition":
            factor *= t.definition_boost
        if p.kind in asked.wanted:
            factor *= t.intent_boost
        if p.entry_id in asked.uncued:
            factor *= t.missing_cue_penalty
        return factor

    def select(self, question: str, query_vector: np.ndarray | None = None) -> Selection:
        t = self.tuning
        lexical = self._lexical(question)
        hits = self.retriever.search(question, limit=t.entry_candidates)
        entry_raw = {h.entry.id: h.score for h in hits}
        top_entry = max(entry_raw.values(), default=0.0)
        semantic = np.zeros(len(self.passages), dtype=np.float32)
        same_question = np.zeros(len(self.passages), dtype=np.float32)
        compared = False  # whether same_question holds real cosines
        if self.vectors is not None and query_vector is not None:
            semantic = self.vectors @ query_vector
            if self.question_vectors is not None and self._faq_rows:
                same_question[self._faq_rows] = self.question_vectors @ query_vector
                compared = True
        lex_max = float(lexical.max()) if len(lexical) else 0.0
        sem_top = float(semantic.max()) if len(semantic) else 0.0
        asked = self._asked(question)
        ranked = []
        for i, p in enumerate(self.passages):
            lex = float(lexical[i]) / lex_max if lex_max > 0 else 0.0
            sem = float(semantic[i])
            ent = entry_raw.get(p.entry_id, 0.0) / top_entry if top_entry > 0 else 0.0
            # e5 cosines of related texts crowd into ~0.85-0.93: what tells passages apart
            # is how far each is from this question's best match
            sem_scaled = max(0.0, 1 - (sem_top - sem) / t.semantic_span) if sem_top > 0 else 0.0
            score = t.w_semantic * sem_scaled + t.w_lexical * lex + t.w_entry * ent
            # the notes answer this very question, asked in other words (unless the user
            # asked for a kind of passage: "give me an example" wants the example)
            asked_before = (float(same_question[i]) - t.same_question_floor) / (
                1 - t.same_question_floor
            )
            if not asked.wanted:
                score += t.w_same_question * max(0.0, asked_before)
            score *= self._fit_factor(i, asked)
            faq_cosine = float(same_question[i]) if p.question and compared else None
            ranked.append(Scored(p, score, lex, sem, ent, faq_cosine))
        ranked.sort(key=lambda s: (-s.score, s.passage.id))
        return Selection(
            question,
            tuple(ranked[: t.keep]),
            top_entry,
            float(semantic.max()) if len(semantic) else 0.0,
        )
