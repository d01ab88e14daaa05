"""Per-server settings on a real database (SQLite and PostgreSQL): defaults, bounds, writes
that survive a restart, and SQLite files from before the shared layer."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from storage_helpers import set_schema_version

from bot.errors import BotError
from bot.guild_settings import (
    MAX_ANSWER_CHANNELS,
    SCHEMA_VERSION,
    GuildSettings,
    GuildSettingsService,
    SettingsError,
    SettingsStore,
    SettingsStoreError,
)

GUILD = 1300000000000000001
OTHER_GUILD = 1300000000000000099
GENERAL, QUIET = 1300000000000000002, 1300000000000000005


@pytest.fixture
def db_path(store_target: Callable[[str], Path | str]) -> Path | str:
    return store_target("settings.sqlite3")


def test_defaults_for_an_unknown_server(db_path: Path) -> None:
    async def main() -> GuildSettings:
        service = await GuildSettingsService.open(db_path)
        try:
            return service.get(GUILD)
        finally:
            service.close()

    settings = asyncio.run(main())
    assert settings == GuildSettings(GUILD)
    assert settings.question_seconds(20.0) == 20.0
    assert settings.private_answers is False
    assert settings.answers_in(GENERAL) and settings.answers_in(QUIET)


async def test_every_setting_survives_a_restart(db_path: Path) -> None:
    service = await GuildSettingsService.open(db_path)
    await service.set_quiz_seconds(GUILD, 45)
    await service.set_private_answers(GUILD, True)
    await service.add_channel(GUILD, GENERAL)
    await service.add_channel(GUILD, QUIET)
    await service.remove_channel(GUILD, GENERAL)
    await service.set_quiz_seconds(OTHER_GUILD, 10)
    service.close()

    again = await GuildSettingsService.open(db_path)
    try:
        settings = again.get(GUILD)
        assert settings == GuildSettings(GUILD, 45, True, frozenset({QUIET}))
        assert settings.question_seconds(20.0) == 45.0
        assert settings.answers_in(QUIET) and not settings.answers_in(GENERAL)
        assert settings.answers_in(999, parent_id=QUIET)  # a thread of a listed channel
        assert again.get(OTHER_GUILD) == GuildSettings(OTHER_GUILD, quiz_seconds=10)
    finally:
        again.close()


async def test_back_to_defaults(db_path: Path) -> None:
    service = await GuildSettingsService.open(db_path)
    await service.set_quiz_seconds(GUILD, 60)
    await service.add_channel(GUILD, GENERAL)
    await service.set_quiz_seconds(GUILD, None)
    await service.clear_channels(GUILD)
    await service.set_private_answers(GUILD, False)
    service.close()
    with SettingsStore(db_path) as store:
        assert store.load_all() == {GUILD: GuildSettings(GUILD)}


@pytest.mark.parametrize("seconds", [0, 9, 121, -5, 10_000])
async def test_quiz_seconds_out_of_bounds_are_refused_clearly(db_path: Path, seconds: int) -> None:
    service = await GuildSettingsService.open(db_path)
    try:
        with pytest.raises(SettingsError) as exc:
            await service.set_quiz_seconds(GUILD, seconds)
        assert str(exc.value) == (
            f"Quiz time must be between 10 and 120 seconds per question (got {seconds})."
        )
        assert isinstance(exc.value, BotError)  # shown to the user as it is
        assert service.get(GUILD).quiz_seconds is None  # nothing changed
    finally:
        service.close()
    with SettingsStore(db_path) as store:
        assert store.load_all() == {}


@pytest.mark.parametrize("seconds", [10, 120])
async def test_quiz_seconds_bounds_are_inclusive(db_path: Path, seconds: int) -> None:
    service = await GuildSettingsService.open(db_path)
    try:
        assert (await service.set_quiz_seconds(GUILD, seconds)).quiz_seconds == seconds
    finally:
        service.close()


def test_store_refuses_out_of_bounds_and_non_integers(db_path: Path) -> None:
    with SettingsStore(db_path) as store:
        for bad in (5, 200, 12.5, True):
            with pytest.raises(SettingsError, match="Quiz time must be"):
                store.save(GuildSettings(GUILD, quiz_seconds=bad))  # type: ignore[arg-type]
        assert store.load_all() == {}


async def test_channel_list_is_bounded(db_path: Path) -> None:
    service = await GuildSettingsService.open(db_path)
    try:
        for channel in range(MAX_ANSWER_CHANNELS):
            await service.add_channel(GUILD, channel + 1)
        await service.add_channel(GUILD, 1)  # already listed: fine
        with pytest.raises(SettingsError, match=f"At most {MAX_ANSWER_CHANNELS} channels"):
            await service.add_channel(GUILD, 10_000)
        assert len(service.get(GUILD).answer_channels) == MAX_ANSWER_CHANNELS
    finally:
        service.close()


async def test_concurrent_writes_keep_every_change(db_path: Path) -> None:
    service = await GuildSettingsService.open(db_path)
    await asyncio.gather(*(service.add_channel(GUILD, c) for c in range(1, 21)))
    assert service.get(GUILD).answer_channels == frozenset(range(1, 21))
    service.close()
    with SettingsStore(db_path) as store:
        assert store.load_all()[GUILD].answer_channels == frozenset(range(1, 21))


async def test_reads_come_from_the_cache_and_writes_run_off_the_loop(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = await GuildSettingsService.open(db_path)
    loop_thread = threading.get_ident()
    save_threads: list[int] = []
    real_save = service.store.save

    def save(settings: GuildSettings) -> None:
        save_threads.append(threading.get_ident())
        real_save(settings)

    monkeypatch.setattr(service.store, "save", save)
    await service.set_private_answers(GUILD, True)
    assert save_threads and loop_thread not in save_threads

    def no_database(*args: object) -> None:
        raise AssertionError("a read touched the database")

    monkeypatch.setattr(service.store, "load_all", no_database)
    assert service.get(GUILD).private_answers is True
    service.close()


async def test_a_failed_write_leaves_the_cache_as_it_was(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = await GuildSettingsService.open(db_path)
    try:

        def broken(settings: GuildSettings) -> None:
            raise sqlite3.OperationalError("disk I/O error")

        monkeypatch.setattr(service.store, "save", broken)
        with pytest.raises(sqlite3.OperationalError):
            await service.set_private_answers(GUILD, True)
        assert service.get(GUILD).private_answers is False
    finally:
        service.close()


def test_schema_version_and_a_newer_database_is_refused(db_path: Path) -> None:
    with SettingsStore(db_path) as store:
        assert store.schema_version() == SCHEMA_VERSION >= 1
    with SettingsStore(db_path) as again:  # reopening does not re-run migrations
        assert again.schema_version() == SCHEMA_VERSION
    set_schema_version(db_path, "settings", SCHEMA_VERSION + 1)
    with pytest.raises(SettingsStoreError, match="newer than this code"):
        SettingsStore(db_path)


def test_sqlite_file_from_before_the_shared_layer_is_adopted(tmp_path: Path) -> None:
    path = tmp_path / "settings.sqlite3"
    raw = sqlite3.connect(path)
    raw.executescript(
        "CREATE TABLE guild_settings (guild_id INTEGER PRIMARY KEY, quiz_seconds INTEGER,"
        " private_answers INTEGER NOT NULL DEFAULT 0 CHECK (private_answers IN (0, 1)),"
        " updated_at REAL NOT NULL);"
        "CREATE TABLE answer_channels (guild_id INTEGER NOT NULL REFERENCES guild_settings"
        " (guild_id), channel_id INTEGER NOT NULL, PRIMARY KEY (guild_id, channel_id));"
        f"INSERT INTO guild_settings VALUES ({GUILD}, 30, 1, 0);"
        f"INSERT INTO answer_channels VALUES ({GUILD}, {GENERAL});"
        f"PRAGMA user_version = {SCHEMA_VERSION};"
    )
    raw.close()
    with SettingsStore(path) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.load_all() == {GUILD: GuildSettings(GUILD, 30, True, frozenset({GENERAL}))}


def test_in_memory_service_has_defaults(tmp_path: Path) -> None:
    db_path = tmp_path / "data" / "settings.sqlite3"
    service = GuildSettingsService.in_memory()
    try:
        assert service.get(GUILD) == GuildSettings(GUILD)
        asyncio.run(service.set_quiz_seconds(GUILD, 30))
        assert service.get(GUILD).quiz_seconds == 30
    finally:
        service.close()
    assert not db_path.exists()
