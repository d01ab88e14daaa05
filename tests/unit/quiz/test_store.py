"""Persistence on a real database, SQLite and PostgreSQL alike: scores survive restarts,
running games are closed, and SQLite files made before the shared layer are adopted."""

from __future__ import annotations

import random
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError
from storage_helpers import set_schema_version, table_names

from bot.quiz.bank import QuizBank
from bot.quiz.engine import QuizEngine
from bot.quiz.store import SCHEMA_VERSION, Award, ScoreStore, StoreError

from .quiz_helpers import ALICE, BOB, CAROL, CHANNEL, GUILD, right_index, wrong_index

T0 = 1_700_000_000.0
BIG_GUILD = 1300000000000000001  # Discord ids need 64 bits

# Version 1 as the code before bot.storage made it (sqlite3, PRAGMA user_version).
LEGACY_V1 = """
CREATE TABLE scores (
    guild_id INTEGER NOT NULL, user_id INTEGER NOT NULL, user_name TEXT NOT NULL,
    points INTEGER NOT NULL DEFAULT 0, correct INTEGER NOT NULL DEFAULT 0,
    answered INTEGER NOT NULL DEFAULT 0, games_played INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (guild_id, user_id)
);
CREATE TABLE games (
    id INTEGER PRIMARY KEY AUTOINCREMENT, guild_id INTEGER NOT NULL,
    channel_id INTEGER NOT NULL, starter_id INTEGER NOT NULL, topic TEXT,
    question_ids TEXT NOT NULL, current_index INTEGER NOT NULL DEFAULT 0,
    question_started_at REAL, state TEXT NOT NULL DEFAULT 'running'
        CHECK (state IN ('running', 'finished', 'stopped', 'interrupted')),
    started_at REAL NOT NULL, ended_at REAL
);
CREATE INDEX games_running ON games (state) WHERE state = 'running';
CREATE TABLE game_scores (
    game_id INTEGER NOT NULL REFERENCES games (id), user_id INTEGER NOT NULL,
    user_name TEXT NOT NULL, points INTEGER NOT NULL DEFAULT 0,
    correct INTEGER NOT NULL DEFAULT 0, answered INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (game_id, user_id)
);
"""


@pytest.fixture
def db_path(store_target: Callable[[str], Path | str]) -> Path | str:
    """Here on both databases (the engine tests use the SQLite one of conftest.py)."""
    return store_target("quiz.sqlite3")


@pytest.fixture
def store(db_path: Path | str) -> Iterator[ScoreStore]:
    s = ScoreStore(db_path)
    yield s
    s.close()


def test_schema_version_recorded(db_path: Path | str, db_kind: str) -> None:
    with ScoreStore(db_path) as store:
        assert store.schema_version() == SCHEMA_VERSION >= 1
    assert {"scores", "games", "game_scores", "schema_version"} <= table_names(db_path)
    if db_kind == "sqlite":
        raw = sqlite3.connect(db_path)
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        raw.close()
    with ScoreStore(db_path) as again:  # reopening does not re-run migrations
        assert again.schema_version() == SCHEMA_VERSION


def test_newer_schema_is_refused(db_path: Path | str) -> None:
    ScoreStore(db_path).close()
    set_schema_version(db_path, "quiz", SCHEMA_VERSION + 1)
    with pytest.raises(StoreError, match="newer than this code"):
        ScoreStore(db_path)


def _legacy_file(path: Path, version: int = 1) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = sqlite3.connect(path)
    raw.executescript(LEGACY_V1)
    raw.execute("INSERT INTO scores VALUES (?, ?, 'alice', 30, 2, 3, 1)", (BIG_GUILD, ALICE))
    raw.execute(
        "INSERT INTO games (guild_id, channel_id, starter_id, question_ids, state,"
        " started_at) VALUES (?, ?, ?, '[\"q-a-01\"]', 'running', ?)",
        (BIG_GUILD, CHANNEL, ALICE, T0),
    )
    raw.execute(f"PRAGMA user_version = {version}")
    raw.commit()
    raw.close()


def test_sqlite_file_from_before_the_shared_layer_is_adopted(tmp_path: Path) -> None:
    path = tmp_path / "data" / "quiz.sqlite3"
    _legacy_file(path)
    with ScoreStore(path) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert [(r.user_id, r.points, r.games_played) for r in store.leaderboard(BIG_GUILD)] == [
            (ALICE, 30, 1)
        ]
        (running,) = store.running_games()
        assert running.id == 1 and running.question_ids == ("q-a-01",)
        store.record_question_result(1, BIG_GUILD, [Award(BOB, "bob", 10, True)])
        assert store.finish_game(1, "finished", T0 + 60)
        assert store.create_game(BIG_GUILD, CHANNEL, BOB, None, ["q-a-02"], T0 + 61) == 2
    with ScoreStore(path) as again:
        assert [r.user_name for r in again.leaderboard(BIG_GUILD)] == ["alice", "bob"]


def test_sqlite_file_from_newer_code_before_the_shared_layer_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "quiz.sqlite3"
    _legacy_file(path, version=SCHEMA_VERSION + 1)
    with pytest.raises(StoreError, match="newer than this code"):
        ScoreStore(path)


def test_big_ids_and_exact_times(store: ScoreStore) -> None:
    game_id = store.create_game(BIG_GUILD, BIG_GUILD + 1, BIG_GUILD + 2, "t", ["q"], T0 + 0.125)
    store.update_game_progress(game_id, 0, T0 + 0.375)
    store.record_question_result(game_id, BIG_GUILD, [Award(BIG_GUILD + 3, "eve", 7, True)])
    game = store.game(game_id)
    assert game is not None
    assert (game.guild_id, game.channel_id, game.starter_id) == (
        BIG_GUILD,
        BIG_GUILD + 1,
        BIG_GUILD + 2,
    )
    assert (game.started_at, game.question_started_at) == (T0 + 0.125, T0 + 0.375)
    assert store.user_stats(BIG_GUILD, BIG_GUILD + 3) is not None
    assert store.game(game_id + 100) is None


def test_scores_survive_a_restart(bank: QuizBank, db_path: Path | str) -> None:
    store = ScoreStore(db_path)
    engine = QuizEngine(bank, store, rng=random.Random(2))
    engine.start(GUILD, CHANNEL, starter_id=ALICE, n_questions=1, topic=None, now=T0)
    engine.answer(
        GUILD,
        CHANNEL,
        user_id=ALICE,
        user_name="alice",
        choice_index=right_index(engine),
        question_number=1,
        now=T0,
    )
    engine.answer(
        GUILD,
        CHANNEL,
        user_id=BOB,
        user_name="bob",
        choice_index=wrong_index(engine),
        question_number=1,
        now=T0 + 1,
    )
    engine.close_question(GUILD, CHANNEL, now=T0 + 20)
    engine.advance(GUILD, CHANNEL, now=T0 + 21)
    store.close()

    with ScoreStore(db_path) as reopened:
        board = reopened.leaderboard(GUILD)
        assert [
            (r.rank, r.user_name, r.points, r.correct, r.answered, r.games_played) for r in board
        ] == [
            (1, "alice", 15, 1, 1, 1),
            (2, "bob", 0, 0, 1, 1),
        ]
        assert reopened.leaderboard(GUILD + 1) == []
        assert reopened.running_games() == []


def test_game_in_progress_is_closed_on_next_start(bank: QuizBank, db_path: Path | str) -> None:
    store = ScoreStore(db_path)
    engine = QuizEngine(bank, store, rng=random.Random(5))
    session = engine.start(GUILD, CHANNEL, starter_id=ALICE, n_questions=3, topic="basics", now=T0)
    engine.answer(
        GUILD,
        CHANNEL,
        user_id=ALICE,
        user_name="alice",
        choice_index=right_index(engine),
        question_number=1,
        now=T0,
    )
    engine.answer(
        GUILD,
        CHANNEL,
        user_id=BOB,
        user_name="bob",
        choice_index=right_index(engine),
        question_number=1,
        now=T0 + 10,
    )
    engine.close_question(GUILD, CHANNEL, now=T0 + 20)
    engine.advance(GUILD, CHANNEL, now=T0 + 25)
    engine.answer(
        GUILD,
        CHANNEL,
        user_id=ALICE,
        user_name="alice",
        choice_index=right_index(engine),
        question_number=2,
        now=T0 + 26,
    )
    stored = store.game(session.game_id)
    assert stored is not None
    assert stored.state == "running"
    assert stored.current_index == 1 and stored.question_started_at == T0 + 25
    assert stored.question_ids == tuple(q.id for q in session.questions)
    store.close()  # the process "stops" here: question 2 never closes

    store2 = ScoreStore(db_path)
    engine2 = QuizEngine(bank, store2)
    closed = engine2.recover(now=T0 + 3600)
    assert len(closed) == 1
    game = closed[0]
    assert (game.game_id, game.guild_id, game.channel_id) == (session.game_id, GUILD, CHANNEL)
    assert game.state == "interrupted" and game.topic == "basics"
    assert (game.questions_total, game.questions_asked) == (3, 2)
    assert [(s.user_name, s.points, s.correct) for s in game.scores] == [
        ("alice", 15, 1),
        ("bob", 13, 1),
    ]
    # Points earned before the stop are kept; the unfinished question gave nothing.
    board = store2.leaderboard(GUILD)
    assert [(r.user_id, r.points, r.answered, r.games_played) for r in board] == [
        (ALICE, 15, 1, 1),
        (BOB, 13, 1, 1),
    ]
    ended = store2.game(session.game_id)
    assert ended is not None and ended.state == "interrupted" and ended.ended_at == T0 + 3600
    assert store2.running_games() == []
    assert engine2.recover(now=T0 + 3700) == []  # only once
    assert not engine2.is_running(GUILD, CHANNEL)
    engine2.start(
        GUILD, CHANNEL, starter_id=BOB, n_questions=1, topic=None, now=T0 + 3700
    )  # the channel is usable again
    assert engine2.recover(now=T0 + 3701) == []  # a live game is never "recovered"
    store2.close()


def test_record_question_result_is_one_transaction(store: ScoreStore) -> None:
    game_id = store.create_game(GUILD, CHANNEL, ALICE, None, ["q-a-01"], T0)
    store.record_question_result(game_id, GUILD, [Award(ALICE, "alice", 12, True)])
    bad = [Award(BOB, "bob", 15, True), Award(CAROL, None, 10, True)]  # type: ignore[arg-type]
    with pytest.raises(IntegrityError):
        store.record_question_result(game_id, GUILD, bad)
    assert [(r.user_id, r.points) for r in store.leaderboard(GUILD)] == [(ALICE, 12)]
    assert [s.user_id for s in store.game_scores(game_id)] == [ALICE]
    store.record_question_result(game_id, GUILD, [])  # nothing to do


def test_finish_game_counts_games_played_once(store: ScoreStore) -> None:
    game_id = store.create_game(GUILD, CHANNEL, ALICE, None, ["q-a-01", "q-a-02"], T0)
    store.record_question_result(
        game_id, GUILD, [Award(ALICE, "alice", 15, True), Award(BOB, "bob", 0, False)]
    )
    assert store.finish_game(game_id, "finished", T0 + 60)
    assert not store.finish_game(game_id, "finished", T0 + 61)
    assert not store.finish_game(12345, "finished", T0 + 61)
    assert {r.user_id: r.games_played for r in store.leaderboard(GUILD)} == {ALICE: 1, BOB: 1}
    with pytest.raises(ValueError):
        store.finish_game(game_id, "running", T0)  # type: ignore[arg-type]


def test_leaderboard_order_ties_limit_and_names(store: ScoreStore) -> None:
    game_id = store.create_game(GUILD, CHANNEL, ALICE, None, ["q-a-01"], T0)
    store.record_question_result(
        game_id,
        GUILD,
        [
            Award(ALICE, "alice", 14, True),
            Award(BOB, "bob", 14, True),
            Award(CAROL, "carol", 20, True),
            Award(4, "dave", 0, False),
        ],
    )
    store.record_question_result(game_id, GUILD, [Award(BOB, "Bobby", 0, False)])
    board = store.leaderboard(GUILD)
    assert [(r.rank, r.user_name, r.points) for r in board] == [
        (1, "carol", 20),
        (2, "alice", 14),  # equal points and correct answers: same rank, by name
        (2, "Bobby", 14),  # the latest display name is kept
        (4, "dave", 0),
    ]
    assert len(store.leaderboard(GUILD, limit=2)) == 2
    stats = store.user_stats(GUILD, BOB)
    assert stats is not None and (stats.rank, stats.points, stats.answered) == (2, 14, 2)
    assert store.user_stats(GUILD, 777) is None


def test_store_is_safe_across_threads(store: ScoreStore) -> None:
    game_id = store.create_game(GUILD, CHANNEL, ALICE, None, ["q-a-01"], T0)

    def work(user: int) -> None:
        for _ in range(20):
            store.record_question_result(game_id, GUILD, [Award(user, f"u{user}", 1, True)])

    threads = [threading.Thread(target=work, args=(u,)) for u in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.points for r in store.leaderboard(GUILD, limit=100)) == 160


def test_recover_leaves_other_processes_guilds_alone(bank: QuizBank, db_path: Path | str) -> None:
    """With a shared database, a restarting shard process closes only its own games."""
    from bot.config import DiscordConfig

    mine, theirs = 0 << 22, 1 << 22  # on shard 0 and shard 1 of 2
    shard0 = DiscordConfig(shard_count=2, shard_ids=(0,))
    assert shard0.runs_guild(mine) and not shard0.runs_guild(theirs)
    assert DiscordConfig().runs_guild(theirs)  # one process runs everything
    store = ScoreStore(db_path)
    other = QuizEngine(bank, store)  # the shard-1 process, still playing
    other.start(theirs, CHANNEL, starter_id=BOB, n_questions=2, topic=None, now=T0)
    old = QuizEngine(bank, store)  # a game the shard-0 process left behind
    old.start(mine, CHANNEL, starter_id=ALICE, n_questions=2, topic=None, now=T0)
    restarted = QuizEngine(bank, store)
    closed = restarted.recover(now=T0 + 60, owns=shard0.runs_guild)
    assert [g.guild_id for g in closed] == [mine]
    assert [g.guild_id for g in store.running_games()] == [theirs]
    store.close()
