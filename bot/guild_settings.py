"""Per-server settings: quiz time per question, answer visibility, the channels for mentions.

`SettingsStore` keeps them in SQLite or PostgreSQL through bot.storage, as in
bot/quiz/store.py (a file path or a database URL; every write is one transaction; calls from
several threads are taken one at a time; the schema is versioned per store in the
`schema_version` table, SQLite files versioned by PRAGMA user_version are adopted). `GuildSettingsService` is what the front end uses: every
setting is read from an in-memory cache, loaded once at start-up in a worker thread, and
each write goes to the database in a worker thread before the cache changes, so reads
never block the event loop and a restart keeps every value.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Double,
    ForeignKey,
    Integer,
    MetaData,
    Table,
    text,
)

from bot.errors import BotError
from bot.storage import Database, create_tables

log = logging.getLogger(__name__)

QUIZ_SECONDS_MIN = 10
QUIZ_SECONDS_MAX = 120
MAX_ANSWER_CHANNELS = 25

# Schema version 1, the same for SQLite and PostgreSQL (Discord ids need 64-bit integers).
V1 = MetaData()
Table(
    "guild_settings",
    V1,
    Column("guild_id", BigInteger, primary_key=True, autoincrement=False),
    Column("quiz_seconds", Integer),
    Column("private_answers", Integer, nullable=False, server_default=text("0")),
    Column("updated_at", Double, nullable=False),
    CheckConstraint("private_answers IN (0, 1)"),
)
Table(
    "answer_channels",
    V1,
    Column(
        "guild_id",
        BigInteger,
        ForeignKey("guild_settings.guild_id"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("channel_id", BigInteger, primary_key=True, autoincrement=False),
)

# Each item upgrades the schema by one version; never edit a released one, append a new one
# (a later change to a table gets its own step, and V1 stays as it is).
MIGRATIONS = (create_tables(V1, "guild_settings", "answer_channels"),)
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
    """Settings persistence over one database (see bot.storage); safe across threads."""

    def __init__(self, path: Path | str) -> None:
        self._db = Database.open(path, "settings", MIGRATIONS, "guild_settings", SettingsStoreError)
        self.path = self._db.url  # a file path, or the database URL without its password

    def schema_version(self) -> int:
        return self._db.schema_version()

    def load_all(self) -> dict[int, GuildSettings]:
        """Every stored server's settings, by guild id."""
        with self._db.read() as conn:
            # Columns by name: a text() row has no column types, so unpacking it would type
            # every value as object.
            rows = conn.execute(
                text("SELECT guild_id, quiz_seconds, private_answers FROM guild_settings")
            ).all()
            channels: dict[int, set[int]] = {}
            for row in conn.execute(text("SELECT guild_id, channel_id FROM answer_channels")):
                channels.setdefault(row.guild_id, set()).add(row.channel_id)
        return {
            row.guild_id: GuildSettings(
                row.guild_id,
                row.quiz_seconds,
                bool(row.private_answers),
                frozenset(channels.get(row.guild_id, ())),
            )
            for row in rows
        }

    def save(self, settings: GuildSettings) -> None:
        """Replace one server's settings, channels included, in one transaction."""
        check_quiz_seconds(settings.quiz_seconds)
        with self._db.write() as conn:
            conn.execute(
                text(
                    "INSERT INTO guild_settings (guild_id, quiz_seconds, private_answers,"
                    " updated_at) VALUES (:guild, :seconds, :private, :at)"
                    " ON CONFLICT (guild_id) DO UPDATE SET"
                    " quiz_seconds = excluded.quiz_seconds,"
                    " private_answers = excluded.private_answers,"
                    " updated_at = excluded.updated_at"
                ),
                {
                    "guild": settings.guild_id,
                    "seconds": settings.quiz_seconds,
                    "private": int(settings.private_answers),
                    "at": time.time(),
                },
            )
            conn.execute(
                text("DELETE FROM answer_channels WHERE guild_id = :guild"),
                {"guild": settings.guild_id},
            )
            if settings.answer_channels:
                conn.execute(
                    text(
                        "INSERT INTO answer_channels (guild_id, channel_id)"
                        " VALUES (:guild, :channel)"
                    ),
                    [
                        {"guild": settings.guild_id, "channel": c}
                        for c in sorted(settings.answer_channels)
                    ],
                )

    def close(self) -> None:
        self._db.close()

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
