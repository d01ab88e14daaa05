"""Persistence with a real SQLite file: scores survive restarts, running games are closed."""

from __future__ import annotations

import random
import sqlite3
import threading
from pathlib import Path

import pytest
from quiz_helpers import ALICE, BOB, CAROL, CHANNEL, GUILD, right_index, wrong_index

from bot.quiz.bank import QuizBank
from bot.quiz.engine import QuizEngine
from bot.quiz.store import SCHEMA_VERSION, Award, ScoreStore, StoreError

T0 = 1_700_000_000.0


def test_schema_version_recorded_and_wal(db_path: Path) -> None:
    with ScoreStore(db_path) as store:
        assert store.schema_version() == SCHEMA_VERSION >= 1
    raw = sqlite3.connect(db_path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"scores", "games", "game_scores"} <= tables
    raw.close()
    with ScoreStore(db_path) as again:  # reopening does not re-run migrations
        assert again.schema_version() == SCHEMA_VERSION


def test_newer_schema_is_refused(db_path: Path) -> None:
    ScoreStore(db_path).close()
    raw = sqlite3.connect(db_path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(StoreError, match="newer than this code"):
        ScoreStore(db_path)


def test_scores_survive_a_restart(bank: QuizBank, db_path: Path) -> None:
    store = ScoreStore(db_path)
    engine = QuizEngine(bank, store, rng=random.Random(2))
    engine.start(GUILD, CHANNEL, ALICE, 1, None, T0)
    engine.answer(GUILD, CHANNEL, ALICE, "alice", right_index(engine), 1, T0)
    engine.answer(GUILD, CHANNEL, BOB, "bob", wrong_index(engine), 1, T0 + 1)
    engine.close_question(GUILD, CHANNEL, T0 + 20)
    engine.advance(GUILD, CHANNEL, T0 + 21)
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


def test_game_in_progress_is_closed_on_next_start(bank: QuizBank, db_path: Path) -> None:
    store = ScoreStore(db_path)
    engine = QuizEngine(bank, store, rng=random.Random(5))
    session = engine.start(GUILD, CHANNEL, ALICE, 3, "basics", T0)
    engine.answer(GUILD, CHANNEL, ALICE, "alice", right_index(engine), 1, T0)
    engine.answer(GUILD, CHANNEL, BOB, "bob", right_index(engine), 1, T0 + 10)
    engine.close_question(GUILD, CHANNEL, T0 + 20)
    engine.advance(GUILD, CHANNEL, T0 + 25)
    engine.answer(GUILD, CHANNEL, ALICE, "alice", right_index(engine), 2, T0 + 26)
    stored = store.game(session.game_id)
    assert stored is not None
    assert stored.state == "running"
    assert stored.current_index == 1 and stored.question_started_at == T0 + 25
    assert stored.question_ids == tuple(q.id for q in session.questions)
    store.close()  # the process "stops" here: question 2 never closes

    store2 = ScoreStore(db_path)
    engine2 = QuizEngine(bank, store2)
    closed = engine2.recover(T0 + 3600)
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
    assert engine2.recover(T0 + 3700) == []  # only once
    assert not engine2.is_running(GUILD, CHANNEL)
    engine2.start(GUILD, CHANNEL, BOB, 1, None, T0 + 3700)  # the channel is usable again
    assert engine2.recover(T0 + 3701) == []  # a live game is never "recovered"
    store2.close()


def test_record_question_result_is_one_transaction(store: ScoreStore) -> None:
    game_id = store.create_game(GUILD, CHANNEL, ALICE, None, ["q-a-01"], T0)
    store.record_question_result(game_id, GUILD, [Award(ALICE, "alice", 12, True)])
    bad = [Award(BOB, "bob", 15, True), Award(CAROL, None, 10, True)]  # type: ignore[arg-type]
    with pytest.raises(sqlite3.IntegrityError):
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
