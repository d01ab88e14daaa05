"""Helpers shared by the quiz tests (imported by conftest.py and the test modules)."""

from __future__ import annotations

from bot.quiz.bank import QuizQuestion
from bot.quiz.engine import QuizEngine

GUILD = 111
CHANNEL = 222
ALICE, BOB, CAROL, MOD = 1, 2, 3, 99


def make_question(qid: str, topic: str = "basics", kind: str = "mc") -> QuizQuestion:
    if kind == "tf":
        choices: tuple[str, ...] = ("True", "False")
        answer = "True"
    elif kind == "scenario":
        choices = ("Inference", "Training")
        answer = "Inference"
    else:
        choices = ("Right", "Wrong A", "Wrong B", "Wrong C")
        answer = "Right"
    return QuizQuestion(
        id=qid,
        topic=topic,
        kind=kind,
        question=f"Question {qid}?",
        choices=choices,
        answer=answer,
        explanation=f"Because of {qid}.",
        entry="inference",
        source_file="test.yaml",
    )


def right_index(engine: QuizEngine) -> int:
    return engine.current(GUILD, CHANNEL).question.answer_index


def wrong_index(engine: QuizEngine) -> int:
    return (right_index(engine) + 1) % len(engine.current(GUILD, CHANNEL).question.choices)
