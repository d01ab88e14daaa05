"""Fixtures and helpers for the bot.feedback tests: a clock, a store on a real database
(SQLite and PostgreSQL, from store_target), and records and results to put in it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from storage_helpers import raw_engine

from bot.answer.result import AnswerResult
from bot.config import Config
from bot.feedback import DB_NAME, KEY_NAME, AnswerRecord, FeedbackStore

DAY = 86400.0
T0 = 1_700_000_000.0
DISCORD_ID = 123456789012345678  # shaped like a Discord snowflake


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI reads os.environ; keep the runner's BOT_DATA_DIR out of these tests."""
    for name in ("BOT_MODEL_PATH", "BOT_DATA_DIR", "BOT_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def clock() -> Clock:
    return Clock()


Target = Callable[[str], Path | str]


def open_store(target: Path | str, tmp_path: Path, clock: Clock | None = None) -> FeedbackStore:
    """A store on `target`, its key in tmp_path/data (as open_feedback does)."""
    key = tmp_path / "data" / KEY_NAME
    return FeedbackStore(target, 30, clock or Clock(), key_path=key)


def rows(target: Path | str, sql: str) -> list[tuple]:
    engine = raw_engine(target)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()


@pytest.fixture
def store(store_target: Target, tmp_path: Path, clock: Clock) -> FeedbackStore:
    s = open_store(store_target(DB_NAME), tmp_path, clock)
    yield s
    s.close()


def record(store: FeedbackStore, question: str = "what is a kv cache?", **fields: object) -> int:
    values = {"mode": "ask", "kind": "answer", "origin": "discord", **fields}
    return store.record(AnswerRecord(question=question, **values))


def result(question: str, kind: str = "answer", **fields: object) -> AnswerResult:
    return AnswerResult(question=question, mode="ask", kind=kind, answer="…", **fields)


def disabled(config: Config) -> Config:
    analytics = config.analytics.model_copy(update={"enabled": False})
    return config.model_copy(update={"analytics": analytics})
