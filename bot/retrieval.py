"""Find the knowledge entries that answer a question, the way users actually phrase it.

BM25 over passages (an entry's main text, and each FAQ separately), with:
- field weights: names and FAQ questions count more than body text;
- synonyms from knowledge/synonyms.yaml ("vram" -> "gpu memory");
- typo tolerance: an unknown query word maps to a known word one edit away;
- a bonus when a title or alias appears as a phrase in the question.
Everything is built once at start-up; a query touches only precomputed dicts.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from bot.knowledge import Entry, Faq, KnowledgeBase
from bot.text import STOPWORDS, content_stems, stem, words

K1 = 1.2
B = 0.6
NAME_WEIGHT = 3
QUESTION_WEIGHT = 2
PHRASE_BONUS = 2.5
FAQ_COVERAGE_WEIGHT = 0.5
GENERIC_IDF = 0.3  # names made only of words this common ("model") are weak evidence


@dataclass(frozen=True)
class Passage:
    entry_id: str
    faq_index: int | None
    length: int
    tf: dict[str, int]


@dataclass(frozen=True)
class Hit:
    """One retrieved entry: its score and, when a FAQ matched best, which one."""

    entry: Entry
    score: float
    faq: Faq | None
    faq_score: float
    main_score: float = 0.0  # BM25 of the entry's main text, without the name bonus


_YES_NO = re.compile(
    r"(^|[,.;:!?]\s*|\b(?:so|and|but|or|then|also|btw|ok|like)\s+)"
    r"(?:(?:is|are|does|do|did|can|could|will|would|should|was|were|has|have|wo|ca)(?:n'?t)?"
    r"|shall|am|if)\b",
    re.IGNORECASE,
)


def is_yes_no(question: str) -> bool:
    """Whether the question (or one of its clauses) asks yes or no: "is that the same?"."""
    return bool(_YES_NO.search(question.strip()))


def _edits1(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


class Retriever:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self._synonyms = sorted(kb.synonyms.items(), key=lambda kv: -len(kv[0]))
        self._synonym_re = [
            (re.compile(rf"(?<![\w.]){re.escape(k)}(?![\w])"), v) for k, v in self._synonyms
        ]
        self.passages: list[Passage] = []
        for entry in kb.entries.values():
            self.passages.append(self._main_passage(entry))
            for i, faq in enumerate(entry.faq):
                self.passages.append(self._faq_passage(entry, i, faq))
        df: Counter[str] = Counter()
        for p in self.passages:
            df.update(p.tf.keys())
        n = len(self.passages)
        self.idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        self.avg_len = sum(p.length for p in self.passages) / n
        self.postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for idx, p in enumerate(self.passages):
            for term, count in p.tf.items():
                self.postings[term].append((idx, count))
        # Typo tolerance works on the words as written (not stems), so "quantizaton" finds
        # "quantization": a known word one deletion away on either side is a candidate.
        self._raw_words: dict[str, str] = {}
        for entry in kb.entries.values():
            for text in (*entry.names, entry.definition, entry.details, *entry.passages()):
                for w in words(text):
                    if w not in STOPWORDS and stem(w) in self.idf:
                        self._raw_words[w] = stem(w)
        self._deletes: dict[str, set[str]] = defaultdict(set)
        for w in self._raw_words:
            if len(w) >= 4 and w.isalpha():
                for d in _edits1(w):
                    self._deletes[d].add(w)
        self._names = self._name_phrases()
        self._faq_is_yes_no = {
            idx: is_yes_no(self.kb.entries[p.entry_id].faq[p.faq_index].question)
            for idx, p in enumerate(self.passages)
            if p.faq_index is not None
        }
        self._faq_question_stems = {
            idx: frozenset(content_stems(self.kb.entries[p.entry_id].faq[p.faq_index].question))
            for idx, p in enumerate(self.passages)
            if p.faq_index is not None
        }
        self._name_stems = {
            e.id: {s for n in e.names for s in content_stems(n)} for e in kb.entries.values()
        }

    # -- index ---------------------------------------------------------------------------------
    @staticmethod
    def _weighted(parts: list[tuple[str, int]]) -> tuple[int, dict[str, int]]:
        tf: Counter[str] = Counter()
        for text, weight in parts:
            for s in content_stems(text):
                tf[s] += weight
        return sum(tf.values()), dict(tf)

    def _main_passage(self, entry: Entry) -> Passage:
        parts = [(name, NAME_WEIGHT) for name in entry.names]
        parts += [(entry.definition, 1), (entry.details, 1), (entry.example, 1)]
        if entry.analogy:
            parts.append((entry.analogy, 1))
        length, tf = self._weighted(parts)
        return Passage(entry.id, None, length, tf)

    def _faq_passage(self, entry: Entry, index: int, faq: Faq) -> Passage:
        parts = [(faq.question, QUESTION_WEIGHT), (faq.answer, 1), (entry.title, 1)]
        length, tf = self._weighted(parts)
        return Passage(entry.id, index, length, tf)

    def _name_phrases(self) -> list[tuple[str, str, int, frozenset[str]]]:
        """(stemmed phrase, entry id, word count, content stems) for titles and aliases.

        Phrases are compared as stems, so "parameter" matches the alias "parameters"."""
        phrases = []
        for entry in self.kb.entries.values():
            for name in entry.names:
                norm = " ".join(stem(w) for w in words(name))
                stems = frozenset(content_stems(name))
                if norm and norm not in STOPWORDS and stems:
                    phrases.append((norm, entry.id, len(norm.split()), stems))
        return sorted(phrases, key=lambda p: -len(p[0]))

    # -- query ---------------------------------------------------------------------------------
    def expand(self, question: str) -> str:
        """Lower-case the question and append the knowledge words for any synonym found."""
        text = question.lower()
        extra = [v for pattern, v in self._synonym_re if pattern.search(text)]
        return " ".join([text, *extra])

    def _correct(self, word: str) -> str | None:
        """The word itself if known, else the most specific known word one edit away."""
        if word in STOPWORDS or word in self._raw_words or stem(word) in self.idf:
            return word
        if len(word) < 4 or not word.isalpha():
            return None
        candidates = set(self._deletes.get(word, ()))
        for d in _edits1(word):
            if d in self._raw_words:
                candidates.add(d)
            candidates |= self._deletes.get(d, set())
        if not candidates:
            return None
        return max(sorted(candidates), key=lambda c: self.idf[self._raw_words[c]])

    def corrected_words(self, question: str) -> list[str]:
        """The question's words (synonyms expanded), typos replaced by known words."""
        fixed = (self._correct(w) for w in words(self.expand(question)))
        return [w for w in fixed if w]

    def query_terms(self, question: str) -> list[str]:
        return self._terms(self.corrected_words(question))

    def _terms(self, corrected: list[str]) -> list[str]:
        return [stem(w) for w in corrected if w not in STOPWORDS and stem(w) in self.idf]

    def phrase_matches(self, question: str) -> dict[str, float]:
        """Entry ids whose title or alias occurs in the question, with the name bonus."""
        corrected = self.corrected_words(question)
        return self._phrases(corrected, set(self._terms(corrected)))

    def _phrases(self, corrected: list[str], terms: set[str]) -> dict[str, float]:
        """Naming a concept is strong evidence ("what is the kv cache?"). A name nearly
        every entry uses ("model") only counts for the share of the question it covers:
        all of "what is a model?", little of "does the model learn from my questions?"."""
        norm = " " + " ".join(stem(w) for w in corrected) + " "
        found: dict[str, float] = {}
        for phrase, entry_id, n_words, stems in self._names:
            if f" {phrase} " in norm:
                bonus = PHRASE_BONUS * (1 + n_words)
                if max(self.idf.get(s, 0.0) for s in stems) < GENERIC_IDF and terms:
                    bonus *= (len(stems & terms) / len(terms)) ** 2
                found[entry_id] = max(found.get(entry_id, 0.0), bonus)
        return found

    def _specific(self, passage: Passage, terms: set[str]) -> bool:
        """A FAQ only counts when it matches more of the question than the entry's name."""
        return bool((terms & passage.tf.keys()) - self._name_stems[passage.entry_id])

    def search(self, question: str, limit: int = 3) -> list[Hit]:
        corrected = self.corrected_words(question)
        terms = self._terms(corrected)
        # A FAQ that answers "No - ..." fits "does X ...?", not "how much X ...?".
        yes_no = is_yes_no(question)
        scores: dict[int, float] = defaultdict(float)
        unique_terms = set(terms)
        for term in unique_terms:
            idf = self.idf.get(term)
            if idf is None:
                continue
            qtf = terms.count(term)
            for idx, tf in self.postings[term]:
                p = self.passages[idx]
                norm = tf * (K1 + 1) / (tf + K1 * (1 - B + B * p.length / self.avg_len))
                scores[idx] += idf * norm * (1 + 0.2 * (qtf - 1))
        best: dict[str, tuple[float, Faq | None, float]] = {}
        for idx, score in scores.items():
            p = self.passages[idx]
            entry = self.kb.entries[p.entry_id]
            main, faq, faq_score = best.get(p.entry_id, (0.0, None, 0.0))
            if p.faq_index is None:
                main = max(main, score)
            elif self._specific(p, unique_terms) and (yes_no or not self._faq_is_yes_no[idx]):
                # A FAQ whose question holds every word of the user's is likely the question.
                asked = self._faq_question_stems[idx]
                score *= 1 + FAQ_COVERAGE_WEIGHT * len(unique_terms & asked) / len(unique_terms)
                if score > faq_score:
                    faq, faq_score = entry.faq[p.faq_index], score
            best[p.entry_id] = (main, faq, faq_score)
        bonus = self._phrases(corrected, unique_terms)
        for entry_id in bonus:
            best.setdefault(entry_id, (0.0, None, 0.0))
        hits = [
            Hit(
                self.kb.entries[eid],
                max(main, faq_score) + bonus.get(eid, 0.0),
                faq,
                faq_score,
                main,
            )
            for eid, (main, faq, faq_score) in best.items()
        ]
        hits.sort(key=lambda h: (-h.score, h.entry.id))
        return hits[:limit]
