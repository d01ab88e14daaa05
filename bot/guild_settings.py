"""Per-server settings: quiz time per question, answer visibility, the channels for mentions.

`SettingsStore` keeps them in SQLite (one connection shared across threads, guarded by a
lock; every write is one transaction; the schema is versioned with PRAGMA user_version,
as in bot/quiz/store.py). `GuildSettingsService` is what the front end uses: every
setting is read from an in-memory cache, loaded once at start-up in a worker thread, and
each write goes to the database in a worker thread before the cache changes, so reads
never block the event loop and a restart keeps every value.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from bot.errors import BotError

log = logging.getLogger(__name__)

QUIZ_SECONDS_MIN = 10
QUIZ_SECONDS_MAX = 120
MAX_ANSWER_CHANNELS = 25

# Each item upgrades the schema by one version; never edit a released one, append a new one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE guild_settings (
            guild_id        INTEGER PRIMARY KEY,
            quiz_seconds    INTEGER,
            private_answers INTEGER NOT NULL DEFAULT 0 CHECK (private_answers IN (0, 1)),
            updated_at      REAL    NOT NULL
        )""",
        """CREATE TABLE answer_channels (
            guild_id   INTEGER NOT NULL REFERENCES guild_settings (guild_id),
            channel_id INTEGER NOT NULL,
            PRIMARY KEY (guild_id, channel_id)
        )""",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


class SettingsError(BotError):
    """A setting value is out of range; the message says what is allowed."""


class SettingsStoreError(Exception):
    """The settings database is newer than this code or otherwise unusable."""


@dataclass(frozen=True)
class GuildSettings:
    """One server's settings. `quiz_seconds` None means the configured default."""

    guild_id: int
    quiz_seconds: int | None = None
    private_answers: bool = False
    answer_channels: frozenset[int] = frozenset()  # empty: mentions are answered everywhere

    def question_seconds(self, default: float) -> float:
        return float(self.quiz_seconds) if self.quiz_seconds is not None else float(default)

    def answers_in(self, channel_id: int, parent_id: int | None = None) -> bool:
        """Whether mentions in this channel (or a thread of `parent_id`) are answered."""
        if not self.answer_channels:
            return True
        return channel_id in self.answer_channels or parent_id in self.answer_channels


def check_quiz_seconds(seconds: int | None) -> int | None:
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise SettingsError(
            f"Quiz time must be a whole number of seconds from {QUIZ_SECONDS_MIN} to "
            f"{QUIZ_SECONDS_MAX}."
        )
    if not QUIZ_SECONDS_MIN <= seconds <= QUIZ_SECONDS_MAX:
        raise SettingsError(
            f"Quiz time must be between {QUIZ_SECONDS_MIN} and {QUIZ_SECONDS_MAX} seconds "
            f"per question (got {seconds})."
        )
    return seconds


class SettingsStore:
    """Settings persistence over one sqlite3 connection; safe to call from several threads."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            with self._lock:
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA foreign_keys=ON")
                self._conn.execute("PRAGMA busy_timeout=5000")
                self._migrate()
        except BaseException:
            self._conn.close()
            raise

    def _migrate(self) -> None:
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise SettingsStoreError(
                f"{self.path}: schema version {version} is newer than this code "
                f"({SCHEMA_VERSION}); upgrade the bot"
            )
        for number in range(version + 1, SCHEMA_VERSION + 1):
            with self._transaction():
                for statement in MIGRATIONS[number - 1]:
                    self._conn.execute(statement)
                self._conn.execute(f"PRAGMA user_version = {number}")
            log.info("settings store %s: migrated to schema version %d", self.path, number)

    def schema_version(self) -> int:
        with self._lock:
            return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def load_all(self) -> dict[int, GuildSettings]:
        """Every stored server's settings, by guild id."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT guild_id, quiz_seconds, private_answers FROM guild_settings"
            ).fetchall()
            channels: dict[int, set[int]] = {}
            for guild_id, channel_id in self._conn.execute(
                "SELECT guild_id, channel_id FROM answer_channels"
            ):
                channels.setdefault(guild_id, set()).add(channel_id)
        return {
            guild_id: GuildSettings(
                guild_id, quiz_seconds, bool(private), frozenset(channels.get(guild_id, ()))
            )
            for guild_id, quiz_seconds, private in rows
        }

    def save(self, settings: GuildSettings) -> None:
        """Replace one server's settings, channels included, in one transaction."""
        check_quiz_seconds(settings.quiz_seconds)
        with self._lock, self._transaction():
            self._conn.execute(
                "INSERT INTO guild_settings (guild_id, quiz_seconds, private_answers, updated_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (guild_id) DO UPDATE SET"
                " quiz_seconds = excluded.quiz_seconds,"
                " private_answers = excluded.private_answers, updated_at = excluded.updated_at",
                (
                    settings.guild_id,
                    settings.quiz_seconds,
                    int(settings.private_answers),
                    time.time(),
                ),
            )
            self._conn.execute(
                "DELETE FROM answer_channels WHERE guild_id = ?", (settings.guild_id,)
            )
            self._conn.executemany(
                "INSERT INTO answer_channels (guild_id, channel_id) VALUES (?, ?)",
                [(settings.guild_id, c) for c in sorted(settings.answer_channels)],
            )

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error (connection in autocommit)."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SettingsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class GuildSettingsService:
    """Cached reads (never blocking), writes through to the store in a worker thread."""

    def __init__(self, store: SettingsStore, cache: dict[int, GuildSettings]) -> None:
        self.store = store
        self._cache = dict(cache)
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str) -> GuildSettingsService:
        """Open (or create) the database and load every server's settings, off the loop."""
        store = await asyncio.to_thread(SettingsStore, path)
        try:
            cache = await asyncio.to_thread(store.load_all)
        except BaseException:
            store.close()
            raise
        log.info("loaded settings for %d servers from %s", len(cache), store.path)
        return cls(store, cache)

    @classmethod
    def in_memory(cls) -> GuildSettingsService:
        """Defaults everywhere, nothing kept after exit (for callers without a data dir)."""
        return cls(SettingsStore(":memory:"), {})

    def get(self, guild_id: int) -> GuildSettings:
        return self._cache.get(guild_id) or GuildSettings(guild_id)

    async def set_quiz_seconds(self, guild_id: int, seconds: int | None) -> GuildSettings:
        """Seconds per quiz question; None goes back to the configured default."""
        check_quiz_seconds(seconds)
        return await self._update(guild_id, lambda s: replace(s, quiz_seconds=seconds))

    async def set_private_answers(self, guild_id: int, private: bool) -> GuildSettings:
        return await self._update(guild_id, lambda s: replace(s, private_answers=bool(private)))

    async def add_channel(self, guild_id: int, channel_id: int) -> GuildSettings:
        def add(s: GuildSettings) -> GuildSettings:
            if (
                channel_id not in s.answer_channels
                and len(s.answer_channels) >= MAX_ANSWER_CHANNELS
            ):
                raise SettingsError(
                    f"At most {MAX_ANSWER_CHANNELS} channels can be listed; remove one first."
                )
            return replace(s, answer_channels=s.answer_channels | {channel_id})

        return await self._update(guild_id, add)

    async def remove_channel(self, guild_id: int, channel_id: int) -> GuildSettings:
        return await self._update(
            guild_id, lambda s: replace(s, answer_channels=s.answer_channels - {channel_id})
        )

    async def clear_channels(self, guild_id: int) -> GuildSettings:
        return await self._update(guild_id, lambda s: replace(s, answer_channels=frozenset()))

    async def _update(
        self, guild_id: int, change: Callable[[GuildSettings], GuildSettings]
    ) -> GuildSettings:
        async with self._write_lock:  # read-modify-write: one change at a time
            new = change(self.get(guild_id))

            def save() -> None:
                self.store.save(new)
                # Only once it is stored, and in the same thread, so that a cancelled
                # caller cannot leave the cache behind the database.
                self._cache[guild_id] = new

            await asyncio.to_thread(save)
            log.info("settings of guild %s are now %s", guild_id, new)
            return new

    def close(self) -> None:
        self.store.close()
