"""The quiz question bank: knowledge/quiz/*.yaml, validated on load.

Every error names the file, the line, the question and the field. The schema is documented in
knowledge/quiz/README.md.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bot.datafile import LineMap, read_yaml, where
from bot.errors import BotError, KnowledgeError
from bot.knowledge import TOPICS

log = logging.getLogger(__name__)

Bad = Callable[[str, str], None]  # bad(field, problem) records one problem

KINDS = ("mc", "tf", "scenario")
TF_CHOICES = ("True", "False")
SCENARIO_CHOICES = ("Inference", "Training")
QUESTION_ID = re.compile(r"^q-[a-z0-9]+(-[a-z0-9]+)*$")
FIELDS = ("id", "topic", "kind", "question", "choices", "answer", "explanation", "entry")
MAX_EXPLANATION = 200
MAX_QUESTION = 300
MAX_CHOICE = 80  # Discord button labels allow 80 characters


class QuizError(BotError):
    """Base for quiz errors; the message is a short line that can be shown to a user."""


class InvalidQuizRequest(QuizError):
    """The request cannot be served: bad number of questions, unknown or empty topic."""


class QuizBankError(KnowledgeError):
    """A quiz file is broken; `errors` lists every problem, each naming file, question, field."""

    def __init__(self, errors: Iterable[str]) -> None:
        self.errors: tuple[str, ...] = tuple(errors)
        super().__init__("\n".join(self.errors))


@dataclass(frozen=True)
class QuizQuestion:
    id: str
    topic: str
    kind: str
    question: str
    choices: tuple[str, ...]
    answer: str
    explanation: str
    entry: str
    source_file: str

    @property
    def answer_index(self) -> int:
        return self.choices.index(self.answer)


@dataclass(frozen=True)
class QuizBank:
    questions: tuple[QuizQuestion, ...]

    def __len__(self) -> int:
        return len(self.questions)

    def get(self, question_id: str) -> QuizQuestion | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def topics(self) -> list[str]:
        """Topics that have at least one question, in the canonical topic order."""
        present = {q.topic for q in self.questions}
        return [t for t in TOPICS if t in present]

    def count_by(self, field: str) -> dict[str, int]:
        """Number of questions per value of `field` ('topic', 'kind', 'entry', ...)."""
        counts: dict[str, int] = {}
        for q in self.questions:
            key = getattr(q, field)
            counts[key] = counts.get(key, 0) + 1
        return counts

    def pick(
        self,
        n: int,
        topic: str | None = None,
        rng: random.Random | None = None,
        shuffle_choices: bool = True,
    ) -> list[QuizQuestion]:
        """Up to `n` distinct random questions, optionally from one topic.

        'mc' choices are shuffled (the bank may list the answer first); 'tf' and 'scenario'
        keep their fixed order.
        """
        if n < 1:
            raise InvalidQuizRequest("A quiz needs at least one question.")
        pool = list(self.questions)
        if topic is not None:
            topic = topic.strip().lower()
            if topic not in TOPICS:
                raise InvalidQuizRequest(
                    f"Unknown topic '{topic}'. Topics: {', '.join(self.topics())}."
                )
            pool = [q for q in pool if q.topic == topic]
            if not pool:
                raise InvalidQuizRequest(f"There are no questions on '{topic}' yet.")
        if not pool:
            raise InvalidQuizRequest("The question bank is empty.")
        rng = rng or random.Random()
        picked = rng.sample(pool, min(n, len(pool)))
        if shuffle_choices:
            picked = [_shuffled(q, rng) if q.kind == "mc" else q for q in picked]
        return picked


def _shuffled(question: QuizQuestion, rng: random.Random) -> QuizQuestion:
    choices = list(question.choices)
    rng.shuffle(choices)
    return replace(question, choices=tuple(choices))


def _check_question(
    data: Any, label: str, number: int, known_entry_ids: set[str] | None
) -> tuple[QuizQuestion | None, list[str]]:
    """Validate one question mapping; `label` is the file as shown in messages."""
    start = data.line if isinstance(data, LineMap) else None
    name = f"question #{number}"
    if not isinstance(data, dict):
        return None, [
            f"{where(label, start)}: {name}: expected a mapping with fields {', '.join(FIELDS)}"
        ]
    qid = data.get("id")
    if isinstance(qid, str) and qid.strip():
        name = f"question {qid.strip()}"
    errors: list[str] = []

    def bad(field: str, problem: str) -> None:
        line = data.lines.get(field, start) if isinstance(data, LineMap) else start
        errors.append(f"{where(label, line)}: {name}: field '{field}': {problem}")

    for field in sorted(set(data) - set(FIELDS), key=str):
        bad(str(field), "unknown field")
    for field in FIELDS:
        if field not in data:
            bad(field, "missing")
    text = _check_text(data, bad)
    choices = _check_choices(data, bad)
    _check_values(data, text, choices, bad)
    if "entry" in text and known_entry_ids is not None and text["entry"] not in known_entry_ids:
        bad("entry", f"unknown knowledge entry '{text['entry']}'")
    if errors:
        return None, errors
    question = QuizQuestion(
        id=text["id"],
        topic=text["topic"],
        kind=text["kind"],
        question=text["question"],
        choices=choices,
        answer=text["answer"],
        explanation=text["explanation"],
        entry=text["entry"],
        source_file=label,
    )
    return question, []


def _check_text(data: dict[Any, Any], bad: Bad) -> dict[str, str]:
    """The text fields that are non-empty strings, with their whitespace collapsed."""
    text: dict[str, str] = {}
    for field in ("id", "topic", "kind", "question", "answer", "explanation", "entry"):
        value = data.get(field)
        if field not in data:
            continue
        if not isinstance(value, str) or not value.strip():
            hint = " (quote True/False in YAML)" if isinstance(value, bool) else ""
            bad(field, f"must be a non-empty string{hint}")
            continue
        text[field] = " ".join(value.split())
    return text


def _check_choices(data: dict[Any, Any], bad: Bad) -> tuple[str, ...]:
    """The choices, whitespace collapsed, if they are a list of non-empty strings; else ()."""
    choices_raw = data.get("choices")
    choices: tuple[str, ...] = ()
    if "choices" in data:
        if not isinstance(choices_raw, list) or not all(
            isinstance(c, str) and c.strip() for c in choices_raw
        ):
            bad("choices", "must be a list of non-empty strings (quote True/False in YAML)")
        else:
            choices = tuple(" ".join(c.split()) for c in choices_raw)
            if len(set(c.lower() for c in choices)) != len(choices):
                bad("choices", "has duplicates")
            for c in choices:
                if len(c) > MAX_CHOICE:
                    bad("choices", f"'{c[:30]}...' is longer than {MAX_CHOICE} characters")
    return choices


def _check_values(
    data: dict[Any, Any], text: dict[str, str], choices: tuple[str, ...], bad: Bad
) -> None:
    """Check the values against the schema: id pattern, topic, kind, choices, lengths."""
    if "id" in text and not QUESTION_ID.match(text["id"]):
        bad("id", f"'{text['id']}' must look like q-kv-01 (lowercase, dashes)")
    if "topic" in text and text["topic"] not in TOPICS:
        bad("topic", f"'{text['topic']}' is not one of: {', '.join(TOPICS)}")
    kind = text.get("kind")
    if kind is not None and kind not in KINDS:
        bad("kind", f"'{kind}' is not one of: {', '.join(KINDS)}")
    if choices:
        if kind == "mc" and not 3 <= len(choices) <= 4:
            bad("choices", f"a 'mc' question needs 3 or 4 choices, not {len(choices)}")
        elif kind == "tf" and choices != TF_CHOICES:
            bad("choices", f"a 'tf' question must have exactly {list(TF_CHOICES)}")
        elif kind == "scenario" and choices != SCENARIO_CHOICES:
            bad("choices", f"a 'scenario' question must have exactly {list(SCENARIO_CHOICES)}")
        if "answer" in text and text["answer"] not in choices:
            bad("answer", f"'{text['answer']}' is not one of its choices")
    if "question" in text and len(text["question"]) > MAX_QUESTION:
        bad("question", f"is longer than {MAX_QUESTION} characters")
    explanation = data.get("explanation")
    if isinstance(explanation, str) and "\n" in explanation.strip():
        bad("explanation", "must be one line")
    if "explanation" in text and len(text["explanation"]) > MAX_EXPLANATION:
        bad(
            "explanation",
            f"is {len(text['explanation'])} characters; the limit is {MAX_EXPLANATION}",
        )


def _read(path: Path, label: str) -> tuple[list[Any], list[str]]:
    try:
        data = read_yaml(path)
    except KnowledgeError as exc:
        return [], [str(exc)]
    if not isinstance(data, dict) or set(data) != {"questions"}:
        return [], [f"{label}: expected one top-level key 'questions' holding a list"]
    items = data["questions"]
    if not isinstance(items, list) or not items:
        return [], [f"{label}: field 'questions': must be a non-empty list"]
    return items, []


def load_bank(directory: Path, known_entry_ids: set[str] | None = None) -> QuizBank:
    """Load and validate every knowledge/quiz/*.yaml; raise QuizBankError listing all problems.

    With `known_entry_ids`, each question's `entry` must be one of them.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise QuizBankError([f"{directory}: quiz folder not found"])
    paths = sorted(directory.glob("*.yaml"))
    if not paths:
        raise QuizBankError([f"{directory}: no quiz files (*.yaml) found"])
    errors: list[str] = []
    questions: list[QuizQuestion] = []
    seen: dict[str, str] = {}
    for path in paths:
        label = str(path)
        items, problems = _read(path, label)
        errors.extend(problems)
        for i, item in enumerate(items):
            id_line = item.lines.get("id") if isinstance(item, LineMap) else None
            question, problems = _check_question(item, label, i + 1, known_entry_ids)
            errors.extend(problems)
            if question is None:
                continue
            if question.id in seen:
                errors.append(
                    f"{where(label, id_line)}: question {question.id}: field 'id': duplicate id "
                    f"(also in {seen[question.id]})"
                )
                continue
            seen[question.id] = label
            questions.append(question)
    if errors:
        raise QuizBankError(errors)
    bank = QuizBank(tuple(questions))
    log.info("quiz bank: %d questions from %d files in %s", len(bank), len(paths), directory)
    return bank
