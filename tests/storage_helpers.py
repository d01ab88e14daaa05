"""Helpers for the storage tests on SQLite and PostgreSQL (see tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, inspect, text

from bot.storage import sqlalchemy_url


def raw_engine(target: Path | str) -> Engine:
    """A plain engine on a store's database, to look at it or tamper with it."""
    return create_engine(sqlalchemy_url(target))


def table_names(target: Path | str) -> set[str]:
    engine = raw_engine(target)
    try:
        with engine.connect() as conn:
            return set(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def set_schema_version(target: Path | str, component: str, version: int) -> None:
    engine = raw_engine(target)
    try:
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE schema_version SET version = :v WHERE component = :c"),
                {"v": version, "c": component},
            )
    finally:
        engine.dispose()
