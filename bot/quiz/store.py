"""Quiz scores and games in SQLite: points are written the moment they are awarded.

One connection shared across threads, guarded by a lock; every write is one transaction.
The schema is versioned with PRAGMA user_version and upgraded by MIGRATIONS in order.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

log = logging.getLogger(__name__)

GameState = Literal["running", "finished", "stopped", "interrupted"]
END_STATES: tuple[str, ...] = ("finished", "stopped", "interrupted")

# Each item upgrades the schema by one version; never edit a released one, append a new one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE scores (
        guild_id     INTEGER NOT NULL,
        user_id      INTEGER NOT NULL,
        user_name    TEXT    NOT NULL,
        points       INTEGER NOT NULL DEFAULT 0,
        correct      INTEGER NOT NULL DEFAULT 0,
        answered     INTEGER NOT NULL DEFAULT 0,
        games_played INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (guild_id, user_id)
    );
    CREATE TABLE games (
        id                  INTEGER PRIMARY KEY AUTOINCREMENT,
        guild_id            INTEGER NOT NULL,
        channel_id          INTEGER NOT NULL,
        starter_id          INTEGER NOT NULL,
        topic               TEXT,
        question_ids        TEXT    NOT NULL,
        current_index       INTEGER NOT NULL DEFAULT 0,
        question_started_at REAL,
        state               TEXT    NOT NULL DEFAULT 'running'
            CHECK (state IN ('running', 'finished', 'stopped', 'interrupted')),
        started_at          REAL    NOT NULL,
        ended_at            REAL
    );
    CREATE INDEX games_running ON games (state) WHERE state = 'running';
    CREATE TABLE game_scores (
        game_id   INTEGER NOT NULL REFERENCES games (id),
        user_id   INTEGER NOT NULL,
        user_name TEXT    NOT NULL,
        points    INTEGER NOT NULL DEFAULT 0,
        correct   INTEGER NOT NULL DEFAULT 0,
        answered  INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (game_id, user_id)
    );
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


class StoreError(Exception):
    """The database is newer than this code or otherwise unusable."""


@dataclass(frozen=True)
class Award:
    """What one user got for one closed question (points 0 and correct False for a miss)."""

    user_id: int
    user_name: str
    points: int
    correct: bool


@dataclass(frozen=True)
class RoundScore:
    """A user's score within one game."""

    user_id: int
    user_name: str
    points: int
    correct: int
    answered: int


@dataclass(frozen=True)
class LeaderboardRow:
    rank: int
    user_id: int
    user_name: str
    points: int
    correct: int
    answered: int
    games_played: int


@dataclass(frozen=True)
class StoredGame:
    id: int
    guild_id: int
    channel_id: int
    starter_id: int
    topic: str | None
    question_ids: tuple[str, ...]
    current_index: int
    question_started_at: float | None
    state: str
    started_at: float
    ended_at: float | None
    scores: tuple[RoundScore, ...]


class ScoreStore:
    """Quiz persistence over one sqlite3 connection; safe to call from several threads."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        try:
            with self._lock:
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA foreign_keys=ON")
                self._conn.execute("PRAGMA busy_timeout=5000")
                self._migrate()
        except BaseException:
            self._conn.close()
            raise

    # -- schema ---------------------------------------------------------------------------

    def _migrate(self) -> None:
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: schema version {version} is newer than this code "
                f"({SCHEMA_VERSION}); upgrade the bot"
            )
        for number in range(version + 1, SCHEMA_VERSION + 1):
            # executescript() would commit on its own; run the statements in one transaction.
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _statements(MIGRATIONS[number - 1]):
                    self._conn.execute(statement)
                self._conn.execute(f"PRAGMA user_version = {number}")
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            log.info("quiz store %s: migrated to schema version %d", self.path, number)

    def schema_version(self) -> int:
        with self._lock:
            return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    # -- games ----------------------------------------------------------------------------

    def create_game(
        self,
        guild_id: int,
        channel_id: int,
        starter_id: int,
        topic: str | None,
        question_ids: Sequence[str],
        started_at: float,
    ) -> int:
        """Insert a running game at question index 0 and return its id."""
        with self._lock, _transaction(self._conn):
            cur = self._conn.execute(
                "INSERT INTO games (guild_id, channel_id, starter_id, topic, question_ids,"
                " current_index, question_started_at, state, started_at)"
                " VALUES (?, ?, ?, ?, ?, 0, ?, 'running', ?)",
                (
                    guild_id,
                    channel_id,
                    starter_id,
                    topic,
                    json.dumps(list(question_ids)),
                    started_at,
                    started_at,
                ),
            )
            return int(cur.lastrowid or 0)

    def update_game_progress(
        self, game_id: int, current_index: int, question_started_at: float
    ) -> None:
        with self._lock, _transaction(self._conn):
            self._conn.execute(
                "UPDATE games SET current_index = ?, question_started_at = ?"
                " WHERE id = ? AND state = 'running'",
                (current_index, question_started_at, game_id),
            )

    def record_question_result(self, game_id: int, guild_id: int, awards: Sequence[Award]) -> None:
        """Add one closed question's awards to the guild totals and the game, atomically."""
        if not awards:
            return
        with self._lock, _transaction(self._conn):
            for a in awards:
                correct = 1 if a.correct else 0
                self._conn.execute(
                    "INSERT INTO scores (guild_id, user_id, user_name, points, correct, answered)"
                    " VALUES (?, ?, ?, ?, ?, 1)"
                    " ON CONFLICT (guild_id, user_id) DO UPDATE SET"
                    " user_name = excluded.user_name, points = points + excluded.points,"
                    " correct = correct + excluded.correct, answered = answered + 1",
                    (guild_id, a.user_id, a.user_name, a.points, correct),
                )
                self._conn.execute(
                    "INSERT INTO game_scores (game_id, user_id, user_name, points, correct,"
                    " answered) VALUES (?, ?, ?, ?, ?, 1)"
                    " ON CONFLICT (game_id, user_id) DO UPDATE SET"
                    " user_name = excluded.user_name, points = points + excluded.points,"
                    " correct = correct + excluded.correct, answered = answered + 1",
                    (game_id, a.user_id, a.user_name, a.points, correct),
                )

    def finish_game(self, game_id: int, state: GameState, ended_at: float) -> bool:
        """End a running game and count it in games_played for everyone who answered.

        Returns False (and changes nothing) if the game is unknown or already ended.
        """
        if state not in END_STATES:
            raise ValueError(f"state must be one of {END_STATES}, not {state!r}")
        with self._lock, _transaction(self._conn):
            row = self._conn.execute(
                "SELECT guild_id FROM games WHERE id = ? AND state = 'running'", (game_id,)
            ).fetchone()
            if row is None:
                return False
            self._conn.execute(
                "UPDATE games SET state = ?, ended_at = ? WHERE id = ?",
                (state, ended_at, game_id),
            )
            self._conn.execute(
                "UPDATE scores SET games_played = games_played + 1 WHERE guild_id = ?"
                " AND user_id IN (SELECT user_id FROM game_scores WHERE game_id = ?)",
                (row["guild_id"], game_id),
            )
            return True

    def game(self, game_id: int) -> StoredGame | None:
        with self._lock:
            row = self._conn.execute("SELECT * FROM games WHERE id = ?", (game_id,)).fetchone()
            return None if row is None else self._stored_game(row)

    def running_games(self) -> list[StoredGame]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT * FROM games WHERE state = 'running' ORDER BY id"
            ).fetchall()
            return [self._stored_game(row) for row in rows]

    def game_scores(self, game_id: int) -> list[RoundScore]:
        """A game's per-user scores, best first."""
        with self._lock:
            return self._game_scores(game_id)

    def _game_scores(self, game_id: int) -> list[RoundScore]:
        rows = self._conn.execute(
            "SELECT user_id, user_name, points, correct, answered FROM game_scores"
            " WHERE game_id = ? ORDER BY points DESC, correct DESC, user_name COLLATE NOCASE",
            (game_id,),
        ).fetchall()
        return [RoundScore(**dict(row)) for row in rows]

    def _stored_game(self, row: sqlite3.Row) -> StoredGame:
        return StoredGame(
            id=row["id"],
            guild_id=row["guild_id"],
            channel_id=row["channel_id"],
            starter_id=row["starter_id"],
            topic=row["topic"],
            question_ids=tuple(json.loads(row["question_ids"])),
            current_index=row["current_index"],
            question_started_at=row["question_started_at"],
            state=row["state"],
            started_at=row["started_at"],
            ended_at=row["ended_at"],
            scores=tuple(self._game_scores(row["id"])),
        )

    # -- scores ---------------------------------------------------------------------------

    def leaderboard(self, guild_id: int, limit: int = 10) -> list[LeaderboardRow]:
        """The guild's top players by points; ties are listed by correct answers, then name."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT user_id, user_name, points, correct, answered, games_played FROM scores"
                " WHERE guild_id = ? ORDER BY points DESC, correct DESC, user_name COLLATE NOCASE,"
                " user_id"
                " LIMIT ?",
                (guild_id, max(0, limit)),
            ).fetchall()
        board: list[LeaderboardRow] = []
        for i, row in enumerate(rows, start=1):
            # Equal points share a rank (1, 2, 2, 4), as in user_stats().
            tied = board and board[-1].points == row["points"]
            board.append(LeaderboardRow(rank=board[-1].rank if tied else i, **dict(row)))
        return board

    def user_stats(self, guild_id: int, user_id: int) -> LeaderboardRow | None:
        """One user's totals and rank in the guild (rank = 1 + players with more points)."""
        with self._lock:
            row = self._conn.execute(
                "SELECT user_id, user_name, points, correct, answered, games_played,"
                " 1 + (SELECT COUNT(*) FROM scores o WHERE o.guild_id = s.guild_id"
                " AND o.points > s.points) AS rank"
                " FROM scores s WHERE guild_id = ? AND user_id = ?",
                (guild_id, user_id),
            ).fetchone()
        return None if row is None else LeaderboardRow(**dict(row))

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> ScoreStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error (connection in autocommit mode)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self._conn.execute("ROLLBACK" if exc_type else "COMMIT")


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (complete_statement respects quotes)."""
    statements: list[str] = []
    current = ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements
