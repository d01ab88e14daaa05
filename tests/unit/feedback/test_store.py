"""bot.feedback.store: the answer/vote store on a real database (SQLite and PostgreSQL):
schema, votes, hashed user ids, retention."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest
from storage_helpers import set_schema_version

from bot.feedback import DB_NAME, KEY_NAME, SCHEMA_VERSION, FeedbackStore, FeedbackStoreError
from bot.feedback.store import PURGE_EVERY_S

from .conftest import DAY, DISCORD_ID, T0, Clock, Target, open_store, record, rows


def test_schema_is_versioned_and_reopening_keeps_the_rows(
    store_target: Target, db_kind: str, tmp_path: Path, clock: Clock
) -> None:
    path = store_target(DB_NAME)
    with open_store(path, tmp_path, clock) as store:
        assert store.schema_version() == SCHEMA_VERSION >= 1
        first = record(store)
        second = record(store, "why is my gpu slow?", origin="terminal")
        assert second > first > 0
    found = rows(path, "SELECT question, origin, asked_at FROM answers ORDER BY id")
    assert found == [
        ("what is a kv cache?", "discord", T0),
        ("why is my gpu slow?", "terminal", T0),
    ]
    assert rows(path, "SELECT component, version FROM schema_version WHERE component = 'feedback'")
    if db_kind == "sqlite":
        raw = sqlite3.connect(path)
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        raw.close()
    with open_store(path, tmp_path, clock) as again:
        assert again.count_answers(since=0) == 2


def test_newer_schema_is_refused(store_target: Target, tmp_path: Path) -> None:
    path = store_target(DB_NAME)
    open_store(path, tmp_path).close()
    set_schema_version(path, "feedback", SCHEMA_VERSION + 1)
    with pytest.raises(FeedbackStoreError, match="newer than this code"):
        open_store(path, tmp_path)


def test_sqlite_file_from_before_the_shared_layer_is_adopted(tmp_path: Path) -> None:
    path = tmp_path / DB_NAME
    raw = sqlite3.connect(path)
    raw.executescript(
        "CREATE TABLE answers (id INTEGER PRIMARY KEY AUTOINCREMENT, asked_at REAL NOT NULL,"
        " origin TEXT NOT NULL, mode TEXT NOT NULL, kind TEXT NOT NULL, question TEXT NOT NULL,"
        " entry_ids TEXT NOT NULL, nearest_entry TEXT, fallback INTEGER NOT NULL,"
        " low_confidence INTEGER NOT NULL);"
        "CREATE INDEX answers_asked_at ON answers (asked_at);"
        "CREATE TABLE votes (answer_id INTEGER NOT NULL REFERENCES answers (id)"
        " ON DELETE CASCADE, user_hash TEXT NOT NULL, helpful INTEGER NOT NULL,"
        " voted_at REAL NOT NULL, PRIMARY KEY (answer_id, user_hash));"
        f"INSERT INTO answers VALUES (1, {T0}, 'discord', 'ask', 'unknown', 'old?', '[]',"
        " NULL, 0, 0);"
        "PRAGMA user_version = 1;"
    )
    raw.close()
    with FeedbackStore(path, 30, Clock()) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert [g.question for g in store.gap_rows(since=0)] == ["old?"]
        assert store.vote(1, DISCORD_ID, helpful=False) == "recorded"
        assert record(store) == 2


def test_a_database_url_needs_a_key_path(postgres_url: str) -> None:
    with pytest.raises(ValueError, match="key_path"):
        FeedbackStore(postgres_url, 30)


def test_unknown_origin_is_a_value_error(store: FeedbackStore) -> None:
    with pytest.raises(ValueError, match="origin"):
        record(store, origin="slack")


def test_a_vote_is_recorded_then_changed_never_doubled(store: FeedbackStore) -> None:
    answer = record(store)
    assert store.vote(answer, DISCORD_ID, helpful=False) == "recorded"
    assert store.vote(answer, DISCORD_ID, helpful=False) == "unchanged"
    assert store.vote(answer, DISCORD_ID, helpful=True) == "changed"
    assert store.vote(answer, DISCORD_ID + 1, helpful=False) == "recorded"
    votes = store.votes(answer)
    assert len(votes) == 2  # one per user, however often they press
    assert votes[store.user_hash(DISCORD_ID)] is True
    assert votes[store.user_hash(DISCORD_ID + 1)] is False


def test_a_vote_on_an_unknown_answer_is_not_stored(store: FeedbackStore) -> None:
    assert store.vote(999, DISCORD_ID, helpful=True) == "unknown_answer"
    assert store.votes(999) == {}


def test_user_ids_are_hmac_hashed_and_never_stored_raw(tmp_path: Path, clock: Clock) -> None:
    data = tmp_path / "data"
    with FeedbackStore(data / DB_NAME, 30, clock) as store:
        answer = record(store)
        store.vote(answer, DISCORD_ID, helpful=False)
        hashed = store.user_hash(DISCORD_ID)
    assert len(hashed) == 64 and str(DISCORD_ID) not in hashed
    files = [p for p in data.iterdir() if p.name.startswith(DB_NAME)]
    everything = b"".join(p.read_bytes() for p in files)
    assert str(DISCORD_ID).encode() not in everything
    assert DISCORD_ID.to_bytes(8, "big") not in everything
    assert DISCORD_ID.to_bytes(8, "little") not in everything
    assert hashed.encode() in everything
    key = data / KEY_NAME
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_bytes()) == 32
    # Another install (another key) gives the same user another hash: no linking across.
    with FeedbackStore(tmp_path / "other" / DB_NAME, 30, clock) as other:
        assert other.user_hash(DISCORD_ID) != hashed
    with FeedbackStore(data / DB_NAME, 30, clock) as reopened:
        assert reopened.user_hash(DISCORD_ID) == hashed  # the key is kept per install


def test_retention_deletes_old_answers_and_their_votes(
    store_target: Target, tmp_path: Path, clock: Clock
) -> None:
    path = store_target(DB_NAME)
    with open_store(path, tmp_path, clock) as store:
        old = record(store, "old question")
        store.vote(old, DISCORD_ID, helpful=False)
        clock.now += 29 * DAY
        recent = record(store, "recent question")
    clock.now += 2 * DAY  # `old` is 31 days old now, `recent` 2
    with open_store(path, tmp_path, clock) as store:  # opening purges
        assert store.count_answers(since=0) == 1
        assert store.vote(old, DISCORD_ID, helpful=True) == "unknown_answer"
        assert store.vote(recent, DISCORD_ID, helpful=True) == "recorded"
    assert rows(path, "SELECT answer_id FROM votes") == [(recent,)]


def test_retention_also_runs_periodically_while_open(store: FeedbackStore, clock: Clock) -> None:
    record(store, "first")
    clock.now += 30 * DAY + 1
    record(store, "second")  # more than PURGE_EVERY_S since the last purge: purged first
    assert store.count_answers(since=0) == 1
    clock.now += PURGE_EVERY_S / 2
    assert store.purge() == 0
