"""Quiz scores and games in SQLite or PostgreSQL: points are written the moment they are awarded.

The database is reached through bot.storage (SQLAlchemy Core): a file path keeps today's
SQLite file, a database URL (config `database_url`) a database that several bot processes
share. Every write is one transaction; calls from several threads are taken one at a time.
The schema is versioned per store in the `schema_version` table and upgraded by MIGRATIONS
in order (SQLite files from before it, versioned by PRAGMA user_version, are adopted).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    text,
)

from bot.storage import Database, create_tables

log = logging.getLogger(__name__)

GameState = Literal["running", "finished", "stopped", "interrupted"]
END_STATES: tuple[str, ...] = ("finished", "stopped", "interrupted")

# Schema version 1, the same for SQLite and PostgreSQL (Discord ids need 64-bit integers;
# on SQLite an INTEGER PRIMARY KEY AUTOINCREMENT never reuses a game id).
V1 = MetaData()
Table(
    "scores",
    V1,
    Column("guild_id", BigInteger, primary_key=True, autoincrement=False),
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("user_name", Text, nullable=False),
    Column("points", Integer, nullable=False, server_default=text("0")),
    Column("correct", Integer, nullable=False, server_default=text("0")),
    Column("answered", Integer, nullable=False, server_default=text("0")),
    Column("games_played", Integer, nullable=False, server_default=text("0")),
)
_games = Table(
    "games",
    V1,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("guild_id", BigInteger, nullable=False),
    Column("channel_id", BigInteger, nullable=False),
    Column("starter_id", BigInteger, nullable=False),
    Column("topic", Text),
    Column("question_ids", Text, nullable=False),
    Column("current_index", Integer, nullable=False, server_default=text("0")),
    Column("question_started_at", Double),
    Column("state", Text, nullable=False, server_default="running"),
    Column("started_at", Double, nullable=False),
    Column("ended_at", Double),
    CheckConstraint("state IN ('running', 'finished', 'stopped', 'interrupted')"),
    sqlite_autoincrement=True,
)
Index(
    "games_running",
    _games.c.state,
    sqlite_where=_games.c.state == "running",
    postgresql_where=_games.c.state == "running",
)
Table(
    "game_scores",
    V1,
    Column("game_id", BigInteger, ForeignKey("games.id"), primary_key=True, autoincrement=False),
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("user_name", Text, nullable=False),
    Column("points", Integer, nullable=False, server_default=text("0")),
    Column("correct", Integer, nullable=False, server_default=text("0")),
    Column("answered", Integer, nullable=False, server_default=text("0")),
)

# Each item upgrades the schema by one version; never edit a released one, append a new one
# (a later change to a table gets its own step, and V1 stays as it is).
MIGRATIONS = (create_tables(V1, "scores", "games", "game_scores"),)
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
    """Quiz persistence over one database (see bot.storage); safe to call from several threads."""

    def __init__(self, path: Path | str) -> None:
        self._db = Database.open(path, "quiz", MIGRATIONS, "scores", StoreError)
        self.path = self._db.url  # a file path, or the database URL without its password

    def schema_version(self) -> int:
        return self._db.schema_version()

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
        with self._db.write() as conn:
            game_id: int = conn.execute(
                text(
                    "INSERT INTO games (guild_id, channel_id, starter_id, topic, question_ids,"
                    " current_index, question_started_at, state, started_at)"
                    " VALUES (:guild_id, :channel_id, :starter_id, :topic, :question_ids, 0,"
                    " :started_at, 'running', :started_at) RETURNING id"
                ),
                {
                    "guild_id": guild_id,
                    "channel_id": channel_id,
                    "starter_id": starter_id,
                    "topic": topic,
                    "question_ids": json.dumps(list(question_ids)),
                    "started_at": started_at,
                },
            ).scalar_one()
            return int(game_id)

    def update_game_progress(
        self, game_id: int, current_index: int, question_started_at: float
    ) -> None:
        with self._db.write() as conn:
            conn.execute(
                text(
                    "UPDATE games SET current_index = :index, question_started_at = :at"
                    " WHERE id = :id AND state = 'running'"
                ),
                {"index": current_index, "at": question_started_at, "id": game_id},
            )

    def record_question_result(self, game_id: int, guild_id: int, awards: Sequence[Award]) -> None:
        """Add one closed question's awards to the guild totals and the game, atomically."""
        if not awards:
            return
        with self._db.write() as conn:
            for a in awards:
                row = {
                    "guild_id": guild_id,
                    "game_id": game_id,
                    "user_id": a.user_id,
                    "user_name": a.user_name,
                    "points": a.points,
                    "correct": 1 if a.correct else 0,
                }
                conn.execute(
                    text(
                        "INSERT INTO scores (guild_id, user_id, user_name, points, correct,"
                        " answered) VALUES (:guild_id, :user_id, :user_name, :points, :correct, 1)"
                        " ON CONFLICT (guild_id, user_id) DO UPDATE SET"
                        " user_name = excluded.user_name,"
                        " points = scores.points + excluded.points,"
                        " correct = scores.correct + excluded.correct,"
                        " answered = scores.answered + 1"
                    ),
                    row,
                )
                conn.execute(
                    text(
                        "INSERT INTO game_scores (game_id, user_id, user_name, points, correct,"
                        " answered) VALUES (:game_id, :user_id, :user_name, :points, :correct, 1)"
                        " ON CONFLICT (game_id, user_id) DO UPDATE SET"
                        " user_name = excluded.user_name,"
                        " points = game_scores.points + excluded.points,"
                        " correct = game_scores.correct + excluded.correct,"
                        " answered = game_scores.answered + 1"
                    ),
                    row,
                )

    def finish_game(self, game_id: int, state: GameState, ended_at: float) -> bool:
        """End a running game and count it in games_played for everyone who answered.

        Returns False (and changes nothing) if the game is unknown or already ended.
        """
        if state not in END_STATES:
            raise ValueError(f"state must be one of {END_STATES}, not {state!r}")
        with self._db.write() as conn:
            # One statement checks and ends it, so two processes cannot both finish a game.
            guild_id = conn.execute(
                text(
                    "UPDATE games SET state = :state, ended_at = :ended_at"
                    " WHERE id = :id AND state = 'running' RETURNING guild_id"
                ),
                {"state": state, "ended_at": ended_at, "id": game_id},
            ).scalar()
            if guild_id is None:
                return False
            conn.execute(
                text(
                    "UPDATE scores SET games_played = games_played + 1 WHERE guild_id = :guild"
                    " AND user_id IN (SELECT user_id FROM game_scores WHERE game_id = :id)"
                ),
                {"guild": guild_id, "id": game_id},
            )
            return True

    def game(self, game_id: int) -> StoredGame | None:
        with self._db.read() as conn:
            row = (
                conn.execute(text("SELECT * FROM games WHERE id = :id"), {"id": game_id})
                .mappings()
                .first()
            )
            return None if row is None else _stored_game(conn, row)

    def running_games(self) -> list[StoredGame]:
        with self._db.read() as conn:
            rows = (
                conn.execute(text("SELECT * FROM games WHERE state = 'running' ORDER BY id"))
                .mappings()
                .all()
            )
            return [_stored_game(conn, row) for row in rows]

    def game_scores(self, game_id: int) -> list[RoundScore]:
        """A game's per-user scores, best first."""
        with self._db.read() as conn:
            return _game_scores(conn, game_id)

    # -- scores ---------------------------------------------------------------------------

    def leaderboard(self, guild_id: int, limit: int = 10) -> list[LeaderboardRow]:
        """The guild's top players by points; ties are listed by correct answers, then name."""
        with self._db.read() as conn:
            rows = (
                conn.execute(
                    text(
                        "SELECT user_id, user_name, points, correct, answered, games_played"
                        " FROM scores WHERE guild_id = :guild"
                        " ORDER BY points DESC, correct DESC, lower(user_name), user_id"
                        " LIMIT :limit"
                    ),
                    {"guild": guild_id, "limit": max(0, limit)},
                )
                .mappings()
                .all()
            )
        board: list[LeaderboardRow] = []
        for i, row in enumerate(rows, start=1):
            # Equal points share a rank (1, 2, 2, 4), as in user_stats().
            tied = board and board[-1].points == row["points"]
            board.append(LeaderboardRow(rank=board[-1].rank if tied else i, **_ints(row)))
        return board

    def user_stats(self, guild_id: int, user_id: int) -> LeaderboardRow | None:
        """One user's totals and rank in the guild (rank = 1 + players with more points)."""
        with self._db.read() as conn:
            row = (
                conn.execute(
                    text(
                        "SELECT user_id, user_name, points, correct, answered, games_played,"
                        " 1 + (SELECT COUNT(*) FROM scores o WHERE o.guild_id = s.guild_id"
                        " AND o.points > s.points) AS rank"
                        " FROM scores s WHERE guild_id = :guild AND user_id = :user"
                    ),
                    {"guild": guild_id, "user": user_id},
                )
                .mappings()
                .first()
            )
        return None if row is None else LeaderboardRow(**_ints(row))

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ScoreStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ints(row: Any) -> dict[str, Any]:
    """A row as a dict, with PostgreSQL's COUNT/SUM (int8 or numeric) as plain ints."""
    return {k: (int(v) if k != "user_name" else v) for k, v in dict(row).items()}


def _game_scores(conn: Any, game_id: int) -> list[RoundScore]:
    rows = (
        conn.execute(
            text(
                "SELECT user_id, user_name, points, correct, answered FROM game_scores"
                " WHERE game_id = :id ORDER BY points DESC, correct DESC, lower(user_name), user_id"
            ),
            {"id": game_id},
        )
        .mappings()
        .all()
    )
    return [RoundScore(**_ints(row)) for row in rows]


def _stored_game(conn: Any, row: Any) -> StoredGame:
    return StoredGame(
        id=int(row["id"]),
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
        scores=tuple(_game_scores(conn, int(row["id"]))),
    )
