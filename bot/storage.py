"""The one database layer under the quiz, feedback and settings stores (SQLAlchemy Core).

A store is opened on a *target*: a file path or ":memory:" (SQLite, as before) or a
database URL (`sqlite:///path` or `postgresql://user:password@host/db`; the psycopg 3
driver is used for PostgreSQL). With `database_url` unset every store keeps its own SQLite
file in `data_dir`; with it set, all of them share that database, so that several bot
processes (shards, machines) write into one leaderboard.

Both databases get the same schema, built from SQLAlchemy table definitions, and the same
versioned migrations: each store ("component") has a row in the `schema_version` table and
a tuple of migration steps, applied in order, each in its own transaction. SQLite files
made by earlier versions, which kept the version in PRAGMA user_version, are adopted at
that version the first time they are opened.

`Database.write()` is one transaction (BEGIN IMMEDIATE on SQLite, so that two processes on
one file queue instead of failing halfway); `Database.read()` a consistent read. One lock
per database keeps a store's calls in one thread at a time, as before; callers on the
event loop use asyncio.to_thread. The URL's password never appears in logs or errors
raised here: use `Database.url` (redacted) or `redact()`.
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    MetaData,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

log = logging.getLogger(__name__)

Migration = Callable[[Connection], None]
BUSY_TIMEOUT_MS = 5000
VERSION_TABLE = "schema_version"


class DatabaseError(Exception):
    """The database URL is unusable or the schema is newer than this code."""


def is_url(target: Path | str) -> bool:
    return isinstance(target, str) and "://" in target


def redact(url: str) -> str:
    """The URL with its password replaced by ***, for logs and messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparsable database URL>"


def sqlalchemy_url(target: Path | str) -> str:
    """The SQLAlchemy URL for a path, ":memory:" or a user-facing database URL."""
    if not is_url(target):
        return "sqlite://" if str(target) == ":memory:" else f"sqlite:///{Path(target)}"
    url = str(target)
    scheme, _, rest = url.partition("://")
    if scheme in ("postgres", "postgresql", "postgresql+psycopg"):
        return f"postgresql+psycopg://{rest}"
    if scheme in ("sqlite", "sqlite+pysqlite"):
        return url
    raise DatabaseError(
        f"database URL {redact(url)}: unsupported scheme {scheme!r} "
        "(use sqlite:///path or postgresql://user:password@host:port/dbname)"
    )


def check_url(url: str) -> str | None:
    """What is wrong with a configured database URL, or None."""
    try:
        make_url(sqlalchemy_url(url))
    except (DatabaseError, ArgumentError) as exc:
        return str(exc) if isinstance(exc, DatabaseError) else f"{redact(url)}: {exc}"
    return None


def store_target(database_url: str | None, data_dir: Path, file_name: str) -> Path | str:
    """Where a store lives: the shared database if one is configured, else its own file."""
    return database_url or data_dir / file_name


def open_engine(target: Path | str) -> Engine:
    """An engine for `target`; SQLite files get WAL, foreign keys and a busy timeout."""
    url = make_url(sqlalchemy_url(target))
    if url.get_backend_name() == "postgresql":
        return create_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=2)
    database = url.database or ""  # None: a URL without a database part, in memory too
    memory = database in ("", ":memory:")
    if memory:
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: object) -> None:
        # Transactions are begun by the "begin" hook below, not by the sqlite3 module.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if not memory:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("bot_write", True)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """One store's engine, its lock and its migrations."""

    def __init__(self, target: Path | str, component: str) -> None:
        self.component = component
        self.url = redact(sqlalchemy_url(target)) if is_url(target) else str(target)
        self.engine = open_engine(target)
        self.dialect = self.engine.dialect.name
        self._lock = threading.Lock()

    @classmethod
    def open(
        cls,
        target: Path | str,
        component: str,
        migrations: Sequence[Migration],
        legacy_table: str,
        error: type[Exception] = DatabaseError,
    ) -> Database:
        """A component's database with its schema brought up to date; closed again if
        the migration fails, so a refused database leaves no engine behind."""
        db = cls(target, component)
        try:
            db.migrate(migrations, legacy_table, error)
        except BaseException:
            db.close()
            raise
        return db

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One transaction: committed at the end of the block, rolled back on any error."""
        with self._lock, self.engine.connect() as conn:
            conn.execution_options(bot_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (on SQLite a deferred one, which takes no write lock)."""
        with self._lock, self.engine.connect() as conn:
            conn.execution_options(bot_write=False)
            with conn.begin():
                yield conn

    # -- schema ---------------------------------------------------------------------------

    def migrate(
        self,
        migrations: Sequence[Migration],
        legacy_table: str,
        error: type[Exception] = DatabaseError,
    ) -> None:
        """Bring this component's schema to len(migrations), one transaction per step.

        `legacy_table` is a table the first migration creates: an SQLite file without the
        version table but with that table and PRAGMA user_version N was made by the code
        before this layer, and is taken to be at version N.
        """
        latest = len(migrations)
        while True:
            with self.write() as conn:
                self._lock_schema(conn)
                version = self._version(conn, legacy_table, create=True)
                if version > latest:
                    raise error(
                        f"{self.url}: {self.component} schema version {version} is newer "
                        f"than this code ({latest}); upgrade the bot"
                    )
                if version == latest:
                    return
                migrations[version](conn)
                self._set_version(conn, version + 1)
            log.info(
                "%s store %s: migrated to schema version %d", self.component, self.url, version + 1
            )

    def schema_version(self) -> int:
        with self.read() as conn:
            return self._version(conn, None, create=False)

    def _lock_schema(self, conn: Connection) -> None:
        # SQLite: BEGIN IMMEDIATE already excludes other writers. PostgreSQL: a transaction
        # advisory lock, so that processes starting together migrate one after the other.
        if self.dialect == "postgresql":
            key = zlib.crc32(f"inference-bot:{VERSION_TABLE}".encode())
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})

    def _version(self, conn: Connection, legacy_table: str | None, *, create: bool) -> int:
        tables = set(inspect(conn).get_table_names())
        if VERSION_TABLE not in tables:
            legacy = 0
            if self.dialect == "sqlite" and legacy_table in tables:
                legacy = int(conn.exec_driver_sql("PRAGMA user_version").scalar() or 0)
            if not create:
                return legacy
            conn.execute(
                text(
                    f"CREATE TABLE {VERSION_TABLE} (component VARCHAR(64) PRIMARY KEY,"
                    " version INTEGER NOT NULL)"
                )
            )
            if legacy:
                self._set_version(conn, legacy)
                log.info(
                    "%s store %s: adopted schema version %d from PRAGMA user_version",
                    self.component,
                    self.url,
                    legacy,
                )
            return legacy
        row = conn.execute(
            text(f"SELECT version FROM {VERSION_TABLE} WHERE component = :c"),
            {"c": self.component},
        ).first()
        if row is not None:
            return int(row[0])
        # A shared database whose version table another store made: an SQLite file of
        # this component from before the version table is still recognised.
        if self.dialect == "sqlite" and legacy_table in tables:
            legacy = int(conn.exec_driver_sql("PRAGMA user_version").scalar() or 0)
            if legacy and create:
                self._set_version(conn, legacy)
            return legacy
        return 0

    def _set_version(self, conn: Connection, version: int) -> None:
        updated = conn.execute(
            text(f"UPDATE {VERSION_TABLE} SET version = :v WHERE component = :c"),
            {"v": version, "c": self.component},
        )
        if not updated.rowcount:
            conn.execute(
                text(f"INSERT INTO {VERSION_TABLE} (component, version) VALUES (:c, :v)"),
                {"v": version, "c": self.component},
            )

    def close(self) -> None:
        with self._lock:
            self.engine.dispose()


def create_tables(metadata: MetaData, *names: str) -> Migration:
    """A migration step that creates the named tables of `metadata` (with their indexes)."""

    def step(conn: Connection) -> None:
        metadata.create_all(conn, tables=[metadata.tables[n] for n in names], checkfirst=False)

    return step


__all__ = [
    "Database",
    "DatabaseError",
    "SQLAlchemyError",
    "check_url",
    "create_tables",
    "is_url",
    "redact",
    "store_target",
]
