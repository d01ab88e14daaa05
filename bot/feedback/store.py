"""Answers and votes in SQLite or PostgreSQL, for the curators' gaps report.

The database is reached through bot.storage (SQLAlchemy Core): a file path keeps today's
SQLite file, a database URL (config `database_url`) a database that several bot processes
share. Every write is one transaction; calls from several threads are taken one at a time.
The schema is versioned per store in the `schema_version` table and upgraded by MIGRATIONS
in order (SQLite files from before it, versioned by PRAGMA user_version, are adopted).

User ids are never stored: a vote carries HMAC-SHA256(key, user id), where the key is 32
random bytes made once per install and kept in its own file (`feedback.key`, mode 0600)
beside the database file (with a database URL: in the data dir), never in the database. A copy of the database alone therefore cannot be used to
check whether a given user voted, and deleting the key unlinks all earlier votes from
later ones. Rows older than `retention_days` are deleted when the store opens and then at
most every `PURGE_EVERY_S` seconds, on the next write.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from collections.abc import Callable
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

from bot.errors import BotError
from bot.storage import Database, create_tables, is_url

log = logging.getLogger(__name__)

DB_NAME = "feedback.sqlite3"
KEY_NAME = "feedback.key"
ORIGINS = ("discord", "terminal")
PURGE_EVERY_S = 3600.0
DAY_S = 86400.0
QUESTION_CHARS = 500  # longer questions are kept cut to this many characters

# Schema version 1, the same for SQLite and PostgreSQL (on SQLite an INTEGER PRIMARY KEY
# AUTOINCREMENT never reuses an answer id, which feedback buttons carry).
V1 = MetaData()
_answers = Table(
    "answers",
    V1,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("asked_at", Double, nullable=False),
    Column("origin", Text, nullable=False),
    Column("mode", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("question", Text, nullable=False),
    Column("entry_ids", Text, nullable=False),
    Column("nearest_entry", Text),
    Column("fallback", Integer, nullable=False),
    Column("low_confidence", Integer, nullable=False),
    CheckConstraint("origin IN ('discord', 'terminal')"),
    CheckConstraint("fallback IN (0, 1)"),
    CheckConstraint("low_confidence IN (0, 1)"),
    sqlite_autoincrement=True,
)
Index("answers_asked_at", _answers.c.asked_at)
Table(
    "votes",
    V1,
    Column(
        "answer_id",
        BigInteger,
        ForeignKey("answers.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("user_hash", Text, primary_key=True),
    Column("helpful", Integer, nullable=False),
    Column("voted_at", Double, nullable=False),
    CheckConstraint("helpful IN (0, 1)"),
)

# Each item upgrades the schema by one version; never edit a released one, append a new one
# (a later change to a table gets its own step, and V1 stays as it is).
MIGRATIONS = (create_tables(V1, "answers", "votes"),)
SCHEMA_VERSION = len(MIGRATIONS)

VoteStatus = Literal["recorded", "changed", "unchanged", "unknown_answer"]


class FeedbackStoreError(BotError):
    """The database is newer than this code or otherwise unusable."""


@dataclass(frozen=True)
class AnswerRecord:
    """What is kept of one answer: no user, no answer text."""

    question: str
    mode: str
    kind: str
    origin: str
    entry_ids: tuple[str, ...] = ()
    nearest_entry: str | None = None  # the entry it was about, or closest to (unknown)
    fallback: bool = False
    low_confidence: bool = False


@dataclass(frozen=True)
class GapRow:
    """One recorded answer the gaps report may list, with its votes."""

    answer_id: int
    asked_at: float
    question: str
    kind: str
    nearest_entry: str | None
    fallback: bool
    low_confidence: bool
    helpful: int
    not_helpful: int


class FeedbackStore:
    """Feedback persistence over one database (see bot.storage); safe across threads.

    `path` is the SQLite file or a database URL; `key_path` is where the install's key
    lives (default: feedback.key beside the file; required with a database URL).
    """

    def __init__(
        self,
        path: Path | str,
        retention_days: int,
        clock: Callable[[], float] = time.time,
        key_path: Path | None = None,
    ) -> None:
        if is_url(path):
            if key_path is None:
                raise ValueError("a FeedbackStore on a database URL needs key_path")
            self.key_path = Path(key_path)
        else:
            self.key_path = key_path or Path(path).parent / KEY_NAME
        self.retention_s = retention_days * DAY_S
        self.clock = clock
        self._key: bytes | None = None
        self._last_purge = float("-inf")
        self._db = Database.open(path, "feedback", MIGRATIONS, "answers", FeedbackStoreError)
        self.path = Path(path) if not is_url(path) else self._db.url
        try:
            self._purge()
        except BaseException:
            self._db.close()
            raise

    def schema_version(self) -> int:
        return self._db.schema_version()

    # -- writes -----------------------------------------------------------------------------

    def record(self, answer: AnswerRecord) -> int:
        """Store one answer and return its id (the id feedback buttons carry)."""
        if answer.origin not in ORIGINS:
            raise ValueError(f"origin must be one of {ORIGINS}, not {answer.origin!r}")
        self._maybe_purge()
        with self._db.write() as conn:
            answer_id: int = conn.execute(
                text(
                    "INSERT INTO answers (asked_at, origin, mode, kind, question, entry_ids,"
                    " nearest_entry, fallback, low_confidence) VALUES (:asked_at, :origin,"
                    " :mode, :kind, :question, :entry_ids, :nearest_entry, :fallback,"
                    " :low_confidence) RETURNING id"
                ),
                {
                    "asked_at": self.clock(),
                    "origin": answer.origin,
                    "mode": answer.mode,
                    "kind": answer.kind,
                    "question": answer.question[:QUESTION_CHARS],
                    "entry_ids": json.dumps(list(answer.entry_ids)),
                    "nearest_entry": answer.nearest_entry,
                    "fallback": int(answer.fallback),
                    "low_confidence": int(answer.low_confidence),
                },
            ).scalar_one()
            return int(answer_id)

    def vote(self, answer_id: int, user_id: int | str, helpful: bool) -> VoteStatus:
        """One vote per user per answer; a second press changes it."""
        user_hash = self.user_hash(user_id)
        self._maybe_purge()
        with self._db.write() as conn:
            if (
                conn.execute(
                    text("SELECT 1 FROM answers WHERE id = :id"), {"id": answer_id}
                ).first()
                is None
            ):
                return "unknown_answer"
            row = conn.execute(
                text("SELECT helpful FROM votes WHERE answer_id = :id AND user_hash = :user"),
                {"id": answer_id, "user": user_hash},
            ).first()
            if row is not None and bool(row[0]) == helpful:
                return "unchanged"
            conn.execute(
                text(
                    "INSERT INTO votes (answer_id, user_hash, helpful, voted_at)"
                    " VALUES (:id, :user, :helpful, :at)"
                    " ON CONFLICT (answer_id, user_hash) DO UPDATE SET"
                    " helpful = excluded.helpful, voted_at = excluded.voted_at"
                ),
                {"id": answer_id, "user": user_hash, "helpful": int(helpful), "at": self.clock()},
            )
            return "recorded" if row is None else "changed"

    def purge(self) -> int:
        """Delete answers (and their votes) older than the retention; return how many."""
        return self._purge()

    def _maybe_purge(self) -> None:
        if self.clock() - self._last_purge >= PURGE_EVERY_S:
            self._purge()

    def _purge(self) -> int:
        now = self.clock()
        with self._db.write() as conn:
            deleted = conn.execute(
                text("DELETE FROM answers WHERE asked_at < :before"),
                {"before": now - self.retention_s},
            ).rowcount
        self._last_purge = now
        if deleted:
            log.info("feedback store: deleted %d answers past the retention", deleted)
        return int(deleted)

    # -- reads ------------------------------------------------------------------------------

    def votes(self, answer_id: int) -> dict[str, bool]:
        """{user hash: helpful} for one answer."""
        with self._db.read() as conn:
            rows = conn.execute(
                text("SELECT user_hash, helpful FROM votes WHERE answer_id = :id"),
                {"id": answer_id},
            ).all()
        # By name: a text() row has no column types, so unpacking it would type them object.
        return {row.user_hash: bool(row.helpful) for row in rows}

    def count_answers(self, since: float) -> int:
        with self._db.read() as conn:
            count: int = conn.execute(
                text("SELECT COUNT(*) FROM answers WHERE asked_at >= :since"), {"since": since}
            ).scalar_one()
        return int(count)

    def gap_rows(self, since: float) -> list[GapRow]:
        """Answers since `since` that were unknown, fell back, were unsure or voted down."""
        not_helpful = "COALESCE(SUM(CASE WHEN v.helpful = 0 THEN 1 ELSE 0 END), 0)"
        with self._db.read() as conn:
            rows = (
                conn.execute(
                    text(
                        "SELECT a.id AS answer_id, a.asked_at, a.question, a.kind, a.nearest_entry,"
                        " a.fallback, a.low_confidence,"
                        " COALESCE(SUM(CASE WHEN v.helpful = 1 THEN 1 ELSE 0 END), 0) AS helpful,"
                        f" {not_helpful} AS not_helpful"
                        " FROM answers a LEFT JOIN votes v ON v.answer_id = a.id"
                        " WHERE a.asked_at >= :since"
                        " GROUP BY a.id, a.asked_at, a.question, a.kind, a.nearest_entry,"
                        " a.fallback, a.low_confidence"
                        " HAVING a.kind = 'unknown' OR a.fallback = 1 OR a.low_confidence = 1"
                        f" OR {not_helpful} > 0"
                        " ORDER BY a.asked_at DESC, a.id DESC"
                    ),
                    {"since": since},
                )
                .mappings()
                .all()
            )
        return [_gap_row(r) for r in rows]

    # -- user ids ---------------------------------------------------------------------------

    def user_hash(self, user_id: int | str) -> str:
        """HMAC-SHA256 of the user id under this install's key (made on first use)."""
        if self._key is None:
            self._key = _load_or_create_key(self.key_path)
        return hmac.new(self._key, str(user_id).encode(), hashlib.sha256).hexdigest()

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> FeedbackStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _gap_row(row: Any) -> GapRow:
    values = dict(row)
    for name in ("answer_id", "helpful", "not_helpful"):
        values[name] = int(values[name])
    values["fallback"] = bool(values["fallback"])
    values["low_confidence"] = bool(values["low_confidence"])
    return GapRow(**values)


def _load_or_create_key(path: Path) -> bytes:
    """The install's 32-byte key; created atomically (O_EXCL) with mode 0600 if missing."""
    path.parent.mkdir(parents=True, exist_ok=True)  # the data dir, with a database URL
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_bytes()
        if len(key) < 32:
            raise FeedbackStoreError(f"{path}: feedback key is damaged (delete it)") from None
        return key
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key
