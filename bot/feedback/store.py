"""Answers and votes in SQLite, for the curators' gaps report.

One connection shared across threads, guarded by a lock; every write is one transaction.
The schema is versioned with PRAGMA user_version and upgraded by MIGRATIONS in order.

User ids are never stored: a vote carries HMAC-SHA256(key, user id), where the key is 32
random bytes made once per install and kept in its own file (`feedback.key`, mode 0600)
beside the database, not in it. A copy of the database alone therefore cannot be used to
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
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bot.errors import BotError

log = logging.getLogger(__name__)

DB_NAME = "feedback.sqlite3"
KEY_NAME = "feedback.key"
ORIGINS = ("discord", "terminal")
PURGE_EVERY_S = 3600.0
DAY_S = 86400.0
QUESTION_CHARS = 500  # longer questions are kept cut to this many characters

# Each item upgrades the schema by one version; never edit a released one, append a new one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE answers (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        asked_at       REAL    NOT NULL,
        origin         TEXT    NOT NULL CHECK (origin IN ('discord', 'terminal')),
        mode           TEXT    NOT NULL,
        kind           TEXT    NOT NULL,
        question       TEXT    NOT NULL,
        entry_ids      TEXT    NOT NULL,
        nearest_entry  TEXT,
        fallback       INTEGER NOT NULL CHECK (fallback IN (0, 1)),
        low_confidence INTEGER NOT NULL CHECK (low_confidence IN (0, 1))
    );
    CREATE INDEX answers_asked_at ON answers (asked_at);
    CREATE TABLE votes (
        answer_id INTEGER NOT NULL REFERENCES answers (id) ON DELETE CASCADE,
        user_hash TEXT    NOT NULL,
        helpful   INTEGER NOT NULL CHECK (helpful IN (0, 1)),
        voted_at  REAL    NOT NULL,
        PRIMARY KEY (answer_id, user_hash)
    );
    """,
)
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
    """Feedback persistence over one sqlite3 connection; safe to call from several threads."""

    def __init__(
        self, path: Path | str, retention_days: int, clock: Callable[[], float] = time.time
    ) -> None:
        self.path = Path(path)
        self.key_path = self.path.parent / KEY_NAME
        self.retention_s = retention_days * DAY_S
        self.clock = clock
        self._key: bytes | None = None
        self._last_purge = float("-inf")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        try:
            with self._lock:
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA foreign_keys=ON")
                self._conn.execute("PRAGMA busy_timeout=5000")
                _migrate(self._conn, self.path)
                self._purge_locked()
        except BaseException:
            self._conn.close()
            raise

    def schema_version(self) -> int:
        with self._lock:
            return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    # -- writes -----------------------------------------------------------------------------

    def record(self, answer: AnswerRecord) -> int:
        """Store one answer and return its id (the id feedback buttons carry)."""
        if answer.origin not in ORIGINS:
            raise ValueError(f"origin must be one of {ORIGINS}, not {answer.origin!r}")
        with self._lock:
            self._maybe_purge_locked()
            with _transaction(self._conn):
                cur = self._conn.execute(
                    "INSERT INTO answers (asked_at, origin, mode, kind, question, entry_ids,"
                    " nearest_entry, fallback, low_confidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        self.clock(),
                        answer.origin,
                        answer.mode,
                        answer.kind,
                        answer.question[:QUESTION_CHARS],
                        json.dumps(list(answer.entry_ids)),
                        answer.nearest_entry,
                        int(answer.fallback),
                        int(answer.low_confidence),
                    ),
                )
                return int(cur.lastrowid or 0)

    def vote(self, answer_id: int, user_id: int | str, helpful: bool) -> VoteStatus:
        """One vote per user per answer; a second press changes it."""
        user_hash = self.user_hash(user_id)
        with self._lock:
            self._maybe_purge_locked()
            with _transaction(self._conn):
                if not self._conn.execute(
                    "SELECT 1 FROM answers WHERE id = ?", (answer_id,)
                ).fetchone():
                    return "unknown_answer"
                row = self._conn.execute(
                    "SELECT helpful FROM votes WHERE answer_id = ? AND user_hash = ?",
                    (answer_id, user_hash),
                ).fetchone()
                if row is not None and bool(row["helpful"]) == helpful:
                    return "unchanged"
                self._conn.execute(
                    "INSERT INTO votes (answer_id, user_hash, helpful, voted_at)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (answer_id, user_hash) DO UPDATE SET"
                    " helpful = excluded.helpful, voted_at = excluded.voted_at",
                    (answer_id, user_hash, int(helpful), self.clock()),
                )
                return "recorded" if row is None else "changed"

    def purge(self) -> int:
        """Delete answers (and their votes) older than the retention; return how many."""
        with self._lock:
            return self._purge_locked()

    def _maybe_purge_locked(self) -> None:
        if self.clock() - self._last_purge >= PURGE_EVERY_S:
            self._purge_locked()

    def _purge_locked(self) -> int:
        now = self.clock()
        with _transaction(self._conn):
            cur = self._conn.execute(
                "DELETE FROM answers WHERE asked_at < ?", (now - self.retention_s,)
            )
        self._last_purge = now
        if cur.rowcount:
            log.info("feedback store: deleted %d answers past the retention", cur.rowcount)
        return cur.rowcount

    # -- reads ------------------------------------------------------------------------------

    def votes(self, answer_id: int) -> dict[str, bool]:
        """{user hash: helpful} for one answer."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT user_hash, helpful FROM votes WHERE answer_id = ?", (answer_id,)
            ).fetchall()
        return {r["user_hash"]: bool(r["helpful"]) for r in rows}

    def count_answers(self, since: float) -> int:
        with self._lock:
            row = self._conn.execute(
                "SELECT COUNT(*) FROM answers WHERE asked_at >= ?", (since,)
            ).fetchone()
        return int(row[0])

    def gap_rows(self, since: float) -> list[GapRow]:
        """Answers since `since` that were unknown, fell back, were unsure or voted down."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT a.id AS answer_id, a.asked_at, a.question, a.kind, a.nearest_entry,"
                " a.fallback, a.low_confidence,"
                " COALESCE(SUM(v.helpful = 1), 0) AS helpful,"
                " COALESCE(SUM(v.helpful = 0), 0) AS not_helpful"
                " FROM answers a LEFT JOIN votes v ON v.answer_id = a.id"
                " WHERE a.asked_at >= ? GROUP BY a.id"
                " HAVING a.kind = 'unknown' OR a.fallback OR a.low_confidence OR not_helpful > 0"
                " ORDER BY a.asked_at DESC, a.id DESC",
                (since,),
            ).fetchall()
        return [_gap_row(r) for r in rows]

    # -- user ids ---------------------------------------------------------------------------

    def user_hash(self, user_id: int | str) -> str:
        """HMAC-SHA256 of the user id under this install's key (made on first use)."""
        if self._key is None:
            self._key = _load_or_create_key(self.key_path)
        return hmac.new(self._key, str(user_id).encode(), hashlib.sha256).hexdigest()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> FeedbackStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _gap_row(row: sqlite3.Row) -> GapRow:
    values = dict(row)
    values["fallback"] = bool(values["fallback"])
    values["low_confidence"] = bool(values["low_confidence"])
    return GapRow(**values)


def _load_or_create_key(path: Path) -> bytes:
    """The install's 32-byte key; created atomically (O_EXCL) with mode 0600 if missing."""
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


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise FeedbackStoreError(
            f"{path}: schema version {version} is newer than this code "
            f"({SCHEMA_VERSION}); upgrade the bot"
        )
    for number in range(version + 1, SCHEMA_VERSION + 1):
        # executescript() would commit on its own; run the statements in one transaction.
        with _transaction(conn):
            for statement in _statements(MIGRATIONS[number - 1]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
        log.info("feedback store %s: migrated to schema version %d", path, number)


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
