"""bot.storage and `database_url`: URLs, redaction, one database for every store."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from storage_helpers import table_names

from bot.config import load_config
from bot.errors import ConfigError
from bot.feedback.store import AnswerRecord, FeedbackStore
from bot.guild_settings import GuildSettings, SettingsStore
from bot.quiz.store import Award, ScoreStore
from bot.storage import redact, sqlalchemy_url, store_target

SECRET = "pw-9c1e"


def test_database_url_from_the_environment_is_never_in_repr(tmp_path: Path) -> None:
    url = f"postgresql://bot:{SECRET}@db.internal:5432/bot"
    config = load_config(env={"BOT_DATABASE_URL": url})
    assert config.database_url == url
    assert SECRET not in repr(config) and SECRET not in str(config)
    assert load_config(env={}).database_url is None
    assert store_target(None, tmp_path, "quiz.sqlite3") == tmp_path / "quiz.sqlite3"
    assert store_target(url, tmp_path, "quiz.sqlite3") == url


def test_a_bad_database_url_is_one_clear_line_without_the_password() -> None:
    with pytest.raises(ConfigError, match="unsupported scheme 'mysql'") as info:
        load_config(env={"BOT_DATABASE_URL": f"mysql://bot:{SECRET}@h/db"})
    assert "BOT_DATABASE_URL" in str(info.value) and SECRET not in str(info.value)


def test_urls_and_redaction() -> None:
    assert sqlalchemy_url("postgresql://u:p@h/d") == "postgresql+psycopg://u:p@h/d"
    assert sqlalchemy_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert sqlalchemy_url(":memory:") == "sqlite://"
    assert sqlalchemy_url(Path("/x/y.sqlite3")) == "sqlite:////x/y.sqlite3"
    assert redact(f"postgresql://u:{SECRET}@h/d") == "postgresql://u:***@h/d"


def test_every_store_in_one_sqlite_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared' / 'bot.sqlite3'}"
    with (
        ScoreStore(url) as quiz,
        FeedbackStore(url, 30, key_path=tmp_path / "feedback.key") as feedback,
        SettingsStore(url) as settings,
    ):
        game = quiz.create_game(1, 2, 3, None, ["q"], 0.0)
        quiz.record_question_result(game, 1, [Award(3, "alice", 5, True)])
        feedback.record(AnswerRecord("what is a token?", "ask", "answer", "discord"))
        settings.save(GuildSettings(1, 30))
        assert (quiz.schema_version(), feedback.schema_version(), settings.schema_version()) == (
            1,
            1,
            1,
        )
    assert {"scores", "answers", "guild_settings", "schema_version"} <= table_names(url)


def test_processes_starting_together_migrate_once(postgres_url: str) -> None:
    errors: list[BaseException] = []

    def open_all() -> None:
        try:
            ScoreStore(postgres_url).close()
            SettingsStore(postgres_url).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_all) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with ScoreStore(postgres_url) as store:
        assert store.schema_version() == 1
        assert SECRET not in store.path and store.path.startswith("postgresql+psycopg://bot@")
