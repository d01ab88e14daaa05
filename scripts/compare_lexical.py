"""Compare today's hand-written lexical signals with library ones (bm25s, PyStemmer, rapidfuzz).

Measured on the labels of scripts/retrieval_recall.py (a passage is right for an eval item
when its own text passes the item's `must` checks), tuning items and held-out items
(bot.evaluation.HELD_OUT_PREFIXES) apart:
- passage lexical signal: hand BM25 over `content_stems` vs bm25s (PyStemmer English and
  bm25s's English stop words) vs bm25s over the same `content_stems` tokens; and the hand
  stemmer vs Snowball English everywhere (entry retriever and passages), hand BM25;
- typo handling: `Retriever._correct` vs rapidfuzz `process.extractOne` over the same
  vocabulary, on deterministic misspellings of eval questions, scored against the
  original question's labels;
- query latency (median, p99) and index build time of each lexical variant.
Needs `pip install bm25s PyStemmer rapidfuzz` (not project dependencies). Usage:
    .venv/bin/python scripts/compare_lexical.py evals evals/public
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import importlib.metadata
import json
import math
import random
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import bm25s
import numpy as np
import rapidfuzz
import Stemmer
from rapidfuzz import distance, fuzz, process

import bot.retrieval
import bot.text
from bot.answer.embeddings import load_embedder
from bot.answer.selection import PassageIndex
from bot.answer.tuning import DEFAULT_TUNING
from bot.config import load_config
from bot.evaluation import HELD_OUT_PREFIXES, EvalItem, load_questions, score
from bot.knowledge import load_knowledge
from bot.retrieval import Retriever
from bot.text import STOPWORDS, content_stems, words

K1, B = 1.2, 0.75  # the passage BM25 parameters of bot/answer/selection.py
CONFIGS = {
    "lexical only": dict(w_semantic=0.0, w_lexical=1.0, w_entry=0.0, w_same_question=0.0),
    "lexical + entry": dict(w_semantic=0.0, w_same_question=0.0),
    "hybrid (default)": {},
}
SEED = 20240607
TYPO_ITEMS = 40
Labelled = list[tuple[EvalItem, set[str]]]
Scorer = Callable[[str], np.ndarray]


# -- lexical variants ------------------------------------------------------------------------
def hand_build(index: PassageIndex) -> Scorer:
    """Today's passage BM25, rebuilt the way PassageIndex.__init__ builds it (for timing)."""
    tfs = [Counter(content_stems(p.match_text)) for p in index.passages]
    lens = [sum(tf.values()) for tf in tfs]
    avg = sum(lens) / max(1, len(lens))
    df: Counter[str] = Counter()
    for tf in tfs:
        df.update(tf.keys())
    n = len(tfs)
    idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
    postings: dict[str, list[int]] = defaultdict(list)
    for i, tf in enumerate(tfs):
        for term in tf:
            postings[term].append(i)
    del idf, postings, avg  # built only to be timed; scoring is the index's own `_lexical`
    return PassageIndex._lexical.__get__(index)


def bm25s_scores(model: bm25s.BM25, tokens: list[str], n: int) -> np.ndarray:
    tokens = list(dict.fromkeys(t for t in tokens if t in model.vocab_dict))
    if not tokens:
        return np.zeros(n, dtype=np.float32)
    return model.get_scores(tokens)


def bm25s_stems_build(index: PassageIndex) -> Scorer:
    """bm25s over today's tokens: `content_stems` of passages, `query_terms` of questions."""
    model = bm25s.BM25(k1=K1, b=B)
    model.index([content_stems(p.match_text) for p in index.passages], show_progress=False)
    n = len(index.passages)
    return lambda q: bm25s_scores(model, index.retriever.query_terms(q), n)


def bm25s_stems_raw_build(index: PassageIndex) -> Scorer:
    """As above, but the question's own content_stems (no synonyms, no typo correction)."""
    model = bm25s.BM25(k1=K1, b=B)
    model.index([content_stems(p.match_text) for p in index.passages], show_progress=False)
    n = len(index.passages)
    return lambda q: bm25s_scores(model, content_stems(q), n)


def _pystemmer_build(index: PassageIndex, raw: bool) -> Scorer:
    stemmer = Stemmer.Stemmer("english")

    def tokens(texts: list[str]) -> list[list[str]]:
        out = bm25s.tokenize(
            texts, stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False
        )
        return [list(t) for t in out]

    model = bm25s.BM25(k1=K1, b=B)
    model.index(tokens([p.match_text for p in index.passages]), show_progress=False)
    n = len(index.passages)
    if raw:
        return lambda q: bm25s_scores(model, tokens([q])[0], n)
    # the same query words as today: synonyms expanded, typos corrected
    return lambda q: bm25s_scores(
        model, tokens([" ".join(index.retriever.corrected_words(q))])[0], n
    )


def bm25s_pystemmer_build(index: PassageIndex) -> Scorer:
    return _pystemmer_build(index, raw=False)


def bm25s_pystemmer_raw_build(index: PassageIndex) -> Scorer:
    return _pystemmer_build(index, raw=True)


class TermsRetriever(Retriever):
    """Today's Retriever whose `query_terms` (the passage BM25's query side) is replaced."""

    def __init__(self, base: Retriever, terms_of: Callable[[Retriever, str], list[str]]) -> None:
        self.__dict__.update(base.__dict__)
        self._terms_of = terms_of

    def query_terms(self, question: str) -> list[str]:
        return self._terms_of(self, question)


def hand_terms_build(terms_of: Callable[[Retriever, str], list[str]]) -> Callable:
    """Today's hand BM25 (PassageIndex._lexical, unchanged) with another query side."""

    def build(index: PassageIndex) -> Scorer:
        shim = copy.copy(index)
        shim.retriever = TermsRetriever(index.retriever, terms_of)
        return PassageIndex._lexical.__get__(shim)

    return build


def stems_as_asked(r: Retriever, q: str) -> list[str]:
    return content_stems(q)


def stems_with_synonyms(r: Retriever, q: str) -> list[str]:
    return content_stems(r.expand(q))


def stems_corrected(r: Retriever, q: str) -> list[str]:
    """Typo correction, no synonyms, no filter by the entry retriever's vocabulary."""
    fixed = (r._correct(w) for w in words(q))
    return [bot.text.stem(w) for w in fixed if w and w not in STOPWORDS]


VARIANTS: dict[str, Callable[[PassageIndex], Scorer]] = {
    "hand BM25 (today)": hand_build,
    "hand BM25, question stems as asked": hand_terms_build(stems_as_asked),
    "hand BM25, + synonyms only": hand_terms_build(stems_with_synonyms),
    "hand BM25, + typo fix only": hand_terms_build(stems_corrected),
    "bm25s + PyStemmer/en stopwords": bm25s_pystemmer_build,
    "bm25s + PyStemmer, raw question": bm25s_pystemmer_raw_build,
    "bm25s over content_stems": bm25s_stems_build,
    "bm25s over content_stems, raw question": bm25s_stems_raw_build,
}


TIMED_BUILDS = [name for name in VARIANTS if name.startswith("bm25s")] + ["hand BM25 (today)"]


def scoring_only(base: PassageIndex, qs: list[str]) -> dict:
    """Query latency of the scoring alone: the query's tokens computed beforehand."""
    terms = {q: base.retriever.query_terms(q) for q in qs}
    hand = hand_terms_build(lambda r, q: terms[q])(base)
    model = bm25s.BM25(k1=K1, b=B)
    model.index([content_stems(p.match_text) for p in base.passages], show_progress=False)
    known = {
        q: list(dict.fromkeys(t for t in ts if t in model.vocab_dict)) for q, ts in terms.items()
    }
    checked = sum(
        np.allclose(hand(q) / (K1 + 1), model.get_scores(known[q]), atol=1e-4)
        for q in qs
        if known[q]
    )
    return {
        "hand BM25 (Python loop over postings)": latency(hand, qs),
        "bm25s get_scores (sparse matrix)": latency(lambda q: model.get_scores(known[q]), qs),
        "questions where both give the same scores": f"{checked}/{sum(bool(k) for k in known.values())}",
    }


class VariantIndex(PassageIndex):
    """A PassageIndex that shares another's passages and vectors, with its own lexical scorer."""

    def __init__(self, base: PassageIndex, lexical: Scorer) -> None:
        self.__dict__.update(base.__dict__)
        self._scorer = lexical

    def _lexical(self, question: str) -> np.ndarray:
        return self._scorer(question)


# -- typo correction variants -----------------------------------------------------------------
Pick = Callable[["FuzzyRetriever", str], str | None]


class FuzzyRetriever(Retriever):
    """Today's Retriever with `_correct` replaced; the rest (gate, index) is shared."""

    def __init__(self, base: Retriever, pick: Pick) -> None:
        self.__dict__.update(base.__dict__)
        self.vocab = sorted(self._raw_words)
        self._pick = pick

    def _correct(self, word: str) -> str | None:
        # the same gate as Retriever._correct: known words kept, short or odd ones dropped
        if word in STOPWORDS or word in self._raw_words or bot.retrieval.stem(word) in self.idf:
            return word
        if len(word) < 4 or not word.isalpha():
            return None
        return self._pick(self, word)

    def rarest(self, choices: list[str]) -> str | None:
        """Today's tie-break: the most specific (highest idf) candidate."""
        if not choices:
            return None
        return max(sorted(choices), key=lambda c: self.idf[self._raw_words[c]])


def ratio_pick(cutoff: float) -> Pick:
    """extractOne with fuzz.ratio (normalised Indel similarity, 0..100)."""

    def pick(r: FuzzyRetriever, word: str) -> str | None:
        best = process.extractOne(word, r.vocab, scorer=fuzz.ratio, score_cutoff=cutoff)
        return best[0] if best else None

    return pick


def damerau_pick(r: FuzzyRetriever, word: str) -> str | None:
    """extractOne with Damerau-Levenshtein distance <= 1 (first best in vocabulary order)."""
    best = process.extractOne(
        word, r.vocab, scorer=distance.DamerauLevenshtein.distance, score_cutoff=1
    )
    return best[0] if best else None


def damerau_rarest_pick(r: FuzzyRetriever, word: str) -> str | None:
    """Damerau-Levenshtein <= 1, ties broken as today (highest idf)."""
    found = process.extract(
        word, r.vocab, scorer=distance.DamerauLevenshtein.distance, score_cutoff=1, limit=None
    )
    if not found:
        return None
    closest = min(d for _, d, _ in found)
    return r.rarest([c for c, d, _ in found if d == closest])


def no_pick(r: FuzzyRetriever, word: str) -> str | None:
    return None


PICKS: dict[str, Pick | None] = {
    "today's _correct (symmetric deletes)": None,
    "no correction": no_pick,
    "rapidfuzz ratio>=80": ratio_pick(80),
    "rapidfuzz ratio>=85": ratio_pick(85),
    "rapidfuzz ratio>=90": ratio_pick(90),
    "rapidfuzz Damerau-Levenshtein<=1": damerau_pick,
    "rapidfuzz Damerau-Levenshtein<=1, idf tie-break": damerau_rarest_pick,
}


def misspell(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    op = rng.choice(("swap", "drop", "double"))
    if op == "swap" and word[i] != word[i + 1]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if op == "drop":
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]


def typo_items(
    usable: Labelled, retriever: Retriever, n: int
) -> list[tuple[EvalItem, set[str], list[tuple[str, str]]]]:
    """Up to n items with 1-2 content words (>= 5 letters) misspelled (fixed seed)."""
    rng = random.Random(SEED)
    pool = sorted(usable, key=lambda u: u[0].id)
    rng.shuffle(pool)
    out = []
    for item, good in pool:
        cands = sorted(
            {w for w in words(item.question) if len(w) >= 5 and w.isalpha() and w not in STOPWORDS}
        )
        if not cands:
            continue
        text, changed = item.question, []
        for w in rng.sample(cands, min(len(cands), rng.choice((1, 2)))):
            typo = misspell(w, rng)
            for _ in range(5):
                if typo != w and typo not in retriever._raw_words:
                    break
                typo = misspell(w, rng)
            else:
                continue
            text = re.sub(rf"\b{re.escape(w)}\b", typo, text, count=1, flags=re.IGNORECASE)
            changed.append((w, typo))
        if changed:
            out.append((dataclasses.replace(item, question=text), good, changed))
        if len(out) == n:
            break
    return out


# -- measuring ----------------------------------------------------------------------------------
def recall(index: PassageIndex, usable: Labelled, vectors: dict[str, np.ndarray]) -> dict:
    at1 = at3 = 0
    for item, good in usable:
        q = item.question
        ids = [s.passage.id for s in index.select(q, vectors.get(item.question)).ranked]
        at1 += bool(ids) and ids[0] in good
        at3 += bool(set(ids[:3]) & good)
    return {"@1": f"{at1}/{len(usable)}", "@3": f"{at3}/{len(usable)}"}


def all_configs(index: PassageIndex, sets: dict[str, Labelled], vectors: dict) -> dict:
    out = {}
    for name, overrides in CONFIGS.items():
        index.tuning = dataclasses.replace(DEFAULT_TUNING, **overrides)
        out[name] = {s: recall(index, u, vectors) for s, u in sets.items()}
    index.tuning = DEFAULT_TUNING
    return out


def latency(fn: Callable[[str], object], questions: list[str], reps: int = 5) -> dict:
    times = []
    for _ in range(reps):
        for q in questions:
            t0 = time.perf_counter()
            fn(q)
            times.append((time.perf_counter() - t0) * 1e6)
    times.sort()
    return {
        "median_us": round(statistics.median(times), 1),
        "p99_us": round(times[int(0.99 * (len(times) - 1))], 1),
    }


def build_time(build: Callable[[PassageIndex], Scorer], base: PassageIndex) -> float:
    best = math.inf
    for _ in range(3):
        t0 = time.perf_counter()
        build(base)
        best = min(best, time.perf_counter() - t0)
    return round(best * 1000, 1)


@contextlib.contextmanager
def snowball_everywhere() -> Iterator[None]:
    """bot.text.stem (used by content_stems) and bot.retrieval.stem replaced by Snowball."""
    stemmer = Stemmer.Stemmer("english")
    saved = bot.text.stem, bot.retrieval.stem
    bot.text.stem = bot.retrieval.stem = stemmer.stemWord  # type: ignore[assignment]
    try:
        yield
    finally:
        bot.text.stem, bot.retrieval.stem = saved


def lexical_section(base: PassageIndex, kb, config, embedder, sets, vectors, qs) -> dict:
    report: dict = {}
    for name, build in VARIANTS.items():
        index = VariantIndex(base, build(base))
        report[name] = all_configs(index, sets, vectors)
        report[name]["latency lexical"] = latency(index._lexical, qs)
        report[name]["latency select"] = latency(lambda q, i=index: i.select(q), qs, reps=2)
        if name in TIMED_BUILDS:
            report[name]["build_ms"] = build_time(build, base)
    with snowball_everywhere():
        t0 = time.perf_counter()
        retriever = Retriever(kb)
        index = PassageIndex(kb, retriever, DEFAULT_TUNING, embedder, config.knowledge.vector_cache)
        built = round((time.perf_counter() - t0) * 1000, 1)
        name = "hand BM25, Snowball stemmer everywhere"
        report[name] = all_configs(index, sets, vectors)
        report[name]["latency lexical"] = latency(index._lexical, qs)
        report[name]["latency select"] = latency(index.select, qs, reps=2)
        report[name]["build_ms"] = f"{built} (Retriever + PassageIndex, vectors cached)"
    return report


def typo_section(base: PassageIndex, embedder, sets: dict[str, Labelled]) -> dict:
    report: dict = {}
    typo_sets = {s: typo_items(u, base.retriever, TYPO_ITEMS) for s, u in sets.items()}
    report["variants"] = {s: len(t) for s, t in typo_sets.items()}
    report["examples"] = [t[0].question for t in typo_sets["tuning"][:5]]
    labelled = {f"typo {s}": [(i, g) for i, g, _ in t] for s, t in typo_sets.items()}
    labelled |= {f"clean {s}": u for s, u in sets.items()}
    vectors = {}
    if embedder:
        for u in labelled.values():
            for item, _ in u:
                vectors[item.question] = embedder.query(item.question)
    changed = [c for t in typo_sets.values() for _, _, cs in t for c in cs]
    # a misspelled word whose original is not in the notes' vocabulary cannot be restored
    restorable = sum(w in base.retriever._raw_words for w, _ in changed)
    qs = [i.question for t in typo_sets.values() for i, _, _ in t]
    for name, pick in PICKS.items():
        retriever = base.retriever if pick is None else FuzzyRetriever(base.retriever, pick)
        index = VariantIndex(base, base._lexical)
        index.retriever = retriever
        index._scorer = PassageIndex._lexical.__get__(index)  # today's BM25, this retriever
        row: dict = {}
        # restored: the correction has the original word's stem (all BM25 sees)
        stem = bot.retrieval.stem
        fixed = sum(stem(retriever._correct(typo) or "") == stem(w) for w, typo in changed)
        row["words restored"] = f"{fixed}/{restorable} ({len(changed)} misspelled)"
        for cfg in ("lexical only", "hybrid (default)"):
            index.tuning = dataclasses.replace(DEFAULT_TUNING, **CONFIGS[cfg])
            row[cfg] = {s: recall(index, u, vectors) for s, u in labelled.items()}
        row["correct_us_per_query"] = latency(retriever.corrected_words, qs)
        report[name] = row
    return report


def main(args: list[str]) -> None:
    paths = [a for a in args if not a.startswith("--")]
    config = load_config(None)
    kb = load_knowledge(config.knowledge.dir)
    embedder = load_embedder()
    base = PassageIndex(kb, Retriever(kb), DEFAULT_TUNING, embedder, config.knowledge.vector_cache)
    items = [i for p in paths for i in load_questions(Path(p)) if i.kind == "ask"]
    labelled = [(i, {p.id for p in base.passages if not score(i, p.text)}) for i in items]
    usable = [(i, g) for i, g in labelled if g]
    sets = {
        "tuning": [u for u in usable if not u[0].id.startswith(HELD_OUT_PREFIXES)],
        "held-out": [u for u in usable if u[0].id.startswith(HELD_OUT_PREFIXES)],
    }
    vectors = {}
    if embedder:
        vectors = {i.question: embedder.query(i.question) for i, _ in usable}
    qs = [i.question for i, _ in usable]
    report = {
        "versions": {
            "bm25s": bm25s.__version__,
            "PyStemmer": importlib.metadata.version("PyStemmer"),
            "rapidfuzz": rapidfuzz.__version__,
        },
        "items": {s: len(u) for s, u in sets.items()},
        "gaps": len(labelled) - len(usable),
        "embedder": embedder is not None,
        "lexical": lexical_section(base, kb, config, embedder, sets, vectors, qs),
        "scoring only": scoring_only(base, qs),
        "for scale: latency of one query embedding": latency(embedder.query, qs, reps=1)
        if embedder
        else None,
        "typos": typo_section(base, embedder, sets),
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
