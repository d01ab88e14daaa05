"""Recall@1/@3 of the right passage on eval sets, for each retrieval signal and the mix.

The right passage for an eval item is one whose own text passes every `must` group of the
item (the checks were written from what a correct answer contains, before any answer was
looked at); items no single passage satisfies count as knowledge gaps and are reported
apart. Usage (--held-out: only the held-out items, bot.evaluation.HELD_OUT_PREFIXES; --grid: also try weights):
    .venv/bin/python scripts/retrieval_recall.py evals ../shared/eval/dev_questions.yaml
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import sys
from pathlib import Path

from bot.answer.embeddings import load_embedder
from bot.answer.selection import PassageIndex
from bot.answer.tuning import DEFAULT_TUNING
from bot.config import load_config
from bot.evaluation import HELD_OUT_PREFIXES, load_questions, score
from bot.knowledge import load_knowledge
from bot.retrieval import Retriever

CONFIGS = {
    "entry retriever only": dict(w_semantic=0.0, w_lexical=0.0, w_entry=1.0, w_same_question=0.0),
    "passage BM25 only": dict(w_semantic=0.0, w_lexical=1.0, w_entry=0.0, w_same_question=0.0),
    "embeddings only": dict(w_semantic=1.0, w_lexical=0.0, w_entry=0.0, w_same_question=0.0),
    "BM25 + entry": dict(w_semantic=0.0, w_same_question=0.0),
    "hybrid without FAQ question matching": dict(w_same_question=0.0),
    "hybrid (default)": {},
}


def recall(index: PassageIndex, usable: list, vectors: dict) -> dict[str, float]:
    at1 = at3 = 0
    for item, good in usable:
        ids = [s.passage.id for s in index.select(item.question, vectors.get(item.id)).ranked]
        at1 += bool(ids) and ids[0] in good
        at3 += bool(set(ids[:3]) & good)
    return {"recall@1": round(at1 / len(usable), 3), "recall@3": round(at3 / len(usable), 3)}


def main(args: list[str]) -> None:
    held_out, grid = "--held-out" in args, "--grid" in args
    paths = [a for a in args if not a.startswith("--")]
    config = load_config(None)
    kb = load_knowledge(config.knowledge.dir)
    embedder = load_embedder()
    index = PassageIndex(kb, Retriever(kb), DEFAULT_TUNING, embedder, config.knowledge.vector_cache)
    items = [i for p in paths for i in load_questions(Path(p)) if i.kind == "ask"]
    items = [i for i in items if i.id.startswith(HELD_OUT_PREFIXES) == held_out]
    labelled = [(i, {p.id for p in index.passages if not score(i, p.text)}) for i in items]
    usable = [(i, g) for i, g in labelled if g]
    vectors = {i.id: embedder.query(i.question) for i, _ in usable} if embedder else {}
    report: dict = {"items": len(items), "labelled": len(usable), "gaps": len(items) - len(usable)}
    for name, overrides in CONFIGS.items():
        index.tuning = dataclasses.replace(DEFAULT_TUNING, **overrides)
        report[name] = recall(index, usable, vectors)
    if grid:
        best = []
        for ws, wl, we, span in itertools.product(
            (0.6, 1.0, 1.5), (0.0, 0.3, 0.6), (0.0, 0.4, 0.8), (0.04, 0.08, 0.15)
        ):
            index.tuning = dataclasses.replace(
                DEFAULT_TUNING, w_semantic=ws, w_lexical=wl, w_entry=we, semantic_span=span
            )
            r = recall(index, usable, vectors)
            best.append((r["recall@1"] + r["recall@3"], (ws, wl, we, span), r))
        best.sort(key=lambda b: -b[0])
        report["grid (w_semantic, w_lexical, w_entry, span)"] = [b[1:] for b in best[:5]]
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
