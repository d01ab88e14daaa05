"""Run a question file through the pipeline and score the answers.

Schema (as in the shared dev set): a YAML list of items with id, kind
(ask|define|analogy|offtopic|injection), question, must (list of lists of regex
alternatives: every inner list needs one match), must_not (no regex may match), note.
Regexes are case-insensitive and searched in the answer and in a normalized copy.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.datafile import read_yaml
from bot.errors import KnowledgeError
from bot.pipeline import Tutor

KINDS = ("ask", "define", "analogy", "offtopic", "injection")
MODE_FOR_KIND = {"define": "define", "analogy": "analogy"}
# eval sets nobody reads answers of or tunes on (evals/public/*, by id prefix): run once at
# the end of a stop. Sets whose answers were read since (ha, hb, dd, df) are dev sets.
HELD_OUT_PREFIXES = ("hc", "he", "di", "hi", "dk", "hk")


@dataclass(frozen=True)
class EvalItem:
    id: str
    kind: str
    question: str
    must: tuple[tuple[str, ...], ...]
    must_not: tuple[str, ...]
    note: str = ""


@dataclass
class EvalOutcome:
    item: EvalItem
    answer: str
    passed: bool
    problems: list[str] = field(default_factory=list)
    total_ms: float = 0.0
    answered: bool = False  # a grounded answer (not a refusal or fixed reply)
    model_sentences: int = 0  # the model's sentences that passed the checks


def normalize(text: str) -> str:
    text = text.replace("*", "").replace("`", "")
    for a, b in (("‘", "'"), ("’", "'"), ("“", '"'), ("”", '"'), ("–", "-"), ("—", "-")):
        text = text.replace(a, b)
    return " ".join(text.split())


def _search(pattern: str, answer: str) -> bool:
    return any(re.search(pattern, text, re.IGNORECASE) for text in (answer, normalize(answer)))


def score(item: EvalItem, answer: str) -> list[str]:
    """The reasons an answer fails an item (empty list: it passes)."""
    problems = []
    for group in item.must:
        if not any(_search(p, answer) for p in group):
            problems.append(f"missing one of: {' | '.join(group)[:160]}")
    for pattern in item.must_not:
        if _search(pattern, answer):
            problems.append(f"must not match: {pattern[:160]}")
    return problems


def load_questions(path: Path) -> list[EvalItem]:
    """Load one YAML file, or every *.yaml file in a folder."""
    files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    if not files:
        raise KnowledgeError(f"{path}: no question files found")
    items: list[EvalItem] = []
    for file in files:
        data = read_yaml(file)
        if not isinstance(data, list):
            raise KnowledgeError(f"{file}: expected a list of questions")
        for i, raw in enumerate(data):
            items.append(_parse_item(raw, f"{file}: item {i}"))
    return items


def _parse_item(raw: Any, where: str) -> EvalItem:
    if not isinstance(raw, dict):
        raise KnowledgeError(f"{where}: expected a mapping")
    for key in ("id", "kind", "question"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise KnowledgeError(f"{where}: field '{key}' must be non-empty text")
    if raw["kind"] not in KINDS:
        raise KnowledgeError(f"{where}: field 'kind' must be one of {', '.join(KINDS)}")
    must = raw.get("must") or []
    must_not = raw.get("must_not") or []
    if not isinstance(must, list) or not all(isinstance(g, list) for g in must):
        raise KnowledgeError(f"{where} ({raw['id']}): field 'must' must be a list of lists")
    if not isinstance(must_not, list):
        raise KnowledgeError(f"{where} ({raw['id']}): field 'must_not' must be a list")
    for pattern in [p for g in must for p in g] + list(must_not):
        try:
            re.compile(pattern)
        except (re.error, TypeError) as exc:
            raise KnowledgeError(f"{where} ({raw['id']}): bad regex {pattern!r}: {exc}") from None
    return EvalItem(
        raw["id"],
        raw["kind"],
        raw["question"],
        tuple(tuple(g) for g in must),
        tuple(must_not),
        raw.get("note", ""),
    )


async def run_eval(tutor: Tutor, items: list[EvalItem]) -> list[EvalOutcome]:
    outcomes = []
    for item in items:
        result = await tutor.ask(item.question, MODE_FOR_KIND.get(item.kind, "ask"))
        problems = score(item, result.answer)
        outcomes.append(
            EvalOutcome(
                item,
                result.answer,
                not problems,
                problems,
                result.timings.total_ms,
                answered=result.kind == "answer" and result.grounded,
                model_sentences=result.model_sentences,
            )
        )
    return outcomes


def summarize(outcomes: list[EvalOutcome]) -> dict[str, Any]:
    per_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for o in outcomes:
        per_kind[o.item.kind][0] += o.passed
        per_kind[o.item.kind][1] += 1
    passed = sum(o.passed for o in outcomes)
    answered = [o for o in outcomes if o.answered]
    with_model = sum(o.model_sentences > 0 for o in answered)
    return {
        "passed": passed,
        "total": len(outcomes),
        "pass_rate": round(passed / len(outcomes), 4) if outcomes else 0.0,
        # of the grounded answers, the share carrying a model sentence that passed the checks
        "answered": len(answered),
        "model_written_share": round(with_model / len(answered), 4) if answered else 0.0,
        "per_kind": {
            k: {"passed": p, "total": t, "pass_rate": round(p / t, 4)}
            for k, (p, t) in sorted(per_kind.items())
        },
        "failures": [
            {
                "id": o.item.id,
                "kind": o.item.kind,
                "question": o.item.question,
                "problems": o.problems,
                "answer": o.answer,
            }
            for o in outcomes
            if not o.passed
        ],
        "items": [
            {
                "id": o.item.id,
                "passed": o.passed,
                "model_sentences": o.model_sentences,
                "answer": o.answer,
            }
            for o in outcomes
        ],
    }
