"""Fixtures for every test folder: a real PostgreSQL server, and store targets on both
SQLite and PostgreSQL for the storage tests (bot.storage and the stores over it)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pg_server import PostgresServer, PostgresUnavailable

StoreTarget = Callable[[str], Path | str]
_databases = itertools.count(1)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the session (never skipped: if it cannot start, the
    tests that need it fail and say why)."""
    server = PostgresServer()
    try:
        server.start()
    except PostgresUnavailable as exc:
        server.stop()
        pytest.fail(f"could not start the test PostgreSQL server: {exc}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres: PostgresServer) -> str:
    """A new, empty database of the session's server, for this test alone."""
    return postgres.create_database(f"test_{next(_databases)}")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_target(db_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> StoreTarget:
    """name -> where a store opens: a file tmp_path/data/<name> on SQLite; on PostgreSQL
    one fresh database for the test, shared by every store (as with database_url)."""
    if db_kind == "sqlite":
        return lambda name: tmp_path / "data" / name
    url = request.getfixturevalue("postgres_url")
    return lambda name: url
