"""Fixtures for the quiz core tests: a small in-code bank and a real SQLite store."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.quiz.bank import QuizBank
from bot.quiz.engine import QuizEngine
from bot.quiz.store import ScoreStore

from .quiz_helpers import make_question


@pytest.fixture
def bank() -> QuizBank:
    questions = [make_question(f"q-basics-{i:02d}", "basics") for i in range(1, 6)]
    questions += [make_question(f"q-kv-{i:02d}", "memory", "tf") for i in range(1, 4)]
    questions += [make_question("q-scen-01", "applications", "scenario")]
    return QuizBank(tuple(questions))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "quiz.sqlite3"


@pytest.fixture
def store(db_path: Path) -> Iterator[ScoreStore]:
    s = ScoreStore(db_path)
    yield s
    s.close()


@pytest.fixture
def engine(bank: QuizBank, store: ScoreStore) -> QuizEngine:
    return QuizEngine(bank, store, question_seconds=20.0, rng=random.Random(7))
